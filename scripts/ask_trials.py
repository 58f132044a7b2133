"""Would asking a user for the digits the model is least sure of teach it more than random drawings?

    python -m scripts.ask_trials                  # VALIDATION writers, memory alone (~5 minutes)

(from the checkout's root, with ``-m``: it imports ``benchmarks``, which is not installed.)

The memory benchmark's protocol (``benchmarks.memory_gain``: the same halves, canvases and unseen
renderings) with the same number of saved drawings (3 or 10 per digit on average), picked three ways:

- ``random``: the benchmark's pick, ``size`` random drawings of each digit;
- ``asked``: one of each digit first, then, drawing after drawing, the digit whose saved drawings
  the model is least sure of per drawing saved: each saved drawing read by the network with the
  memory of the *other* saved drawings (what it would answer had the user not saved it), 1 - p(its
  label), averaged per digit and divided by how many of that digit are saved (so a digit does not
  take the whole budget), the user drawing a random one of that digit from their pool;
- ``half asked``: half the drawings per digit at random first, the rest asked as above.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from benchmarks.finetune import canvases, pick, writer_halves
from benchmarks.memory_gain import outcome, unseen_of

RULES = {"random": None, "asked": 1, "half asked": "half"}


def unsure(features: np.ndarray, labels: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Per digit: the mean of 1 - p(label) over its saved drawings, each read with the memory of the others."""
    from digitrec.memory import Memory

    miss = np.zeros(len(labels))
    for i in range(len(labels)):
        others = np.arange(len(labels)) != i
        memory = Memory.from_features(features[others], labels[others])
        miss[i] = 1 - memory.blend(probabilities[i : i + 1], features[i : i + 1])[0, labels[i]]
    return np.array([miss[labels == d].mean() if (labels == d).any() else 1.0 for d in range(10)])


def asked(labels: np.ndarray, features, probabilities, size: int, repeat: int, first: int) -> list[int]:
    """Indices into the pool: ``first`` random ones of each digit, then the least sure digit's, one by one."""
    rng = np.random.default_rng(1000 * size + repeat)
    left = {d: list(rng.permutation(np.flatnonzero(labels == d))) for d in range(10)}
    chosen = [left[d].pop(0) for d in range(10) for _ in range(first)]
    while len(chosen) < 10 * size:
        saved = labels[chosen]
        score = unsure(features[chosen], saved, probabilities[chosen]) / np.bincount(saved, minlength=10)
        digit = max((d for d in range(10) if left[d]), key=lambda d: score[d])
        chosen.append(left[digit].pop(0))
    return chosen


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[3, 10])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)

    from digitrec.data.canvases import to_png
    from digitrec.data.handwriting import load_handwriting, split
    from digitrec.memory import Memory
    from digitrec.predict import Predictor
    from digitrec.preprocess import preprocess

    predictor = Predictor.load()
    halves = writer_halves(split(load_handwriting())["validation"])
    totals = {(rule, size): [0, 0] for rule in RULES for size in args.sizes}
    for writer, parts in halves.items():
        unseen = unseen_of(predictor, parts["unseen"])
        pool = parts["pool"]
        labels = np.array([s.label for s in pool])
        for repeat in range(args.repeats):
            # The whole pool as the benchmark draws its pick (canvas seed ``repeat``), read once.
            framed = np.stack([preprocess(to_png(c)) for c in canvases(pool, seed=repeat)])
            features, probabilities = predictor.features(framed), predictor.probabilities(framed)
            index = {id(s): i for i, s in enumerate(pool)}
            for size in args.sizes:
                for rule, first in RULES.items():
                    if first is None:
                        chosen = [index[id(s)] for s in pick(pool, size, repeat)]
                    else:
                        n = (size + 1) // 2 if first == "half" else first
                        chosen = asked(labels, features, probabilities, size, repeat, n)
                    o = outcome(unseen, Memory.from_features(features[chosen], labels[chosen]))
                    totals[rule, size][0] += o["errors_before"]
                    totals[rule, size][1] += o["errors_after"]
                    line = {"writer": writer, "repeat": repeat, "size": size, "rule": rule}
                    counts = np.bincount(labels[chosen], minlength=10).tolist()
                    print(json.dumps(line | {"errors": [o["errors_before"], o["errors_after"]], "per_digit": counts}))
    print(f"validation writers {list(halves)}, {args.repeats} picks each; errors on their unseen halves:")
    for (rule, size), (before, after) in totals.items():
        print(f"  {rule:<11} {size:>2} per digit: {before} -> {after} ({100 * (1 - after / before):.0f}% removed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
