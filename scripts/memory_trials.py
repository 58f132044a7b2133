"""Choose the per-user memory's settings (``digitrec.memory``) on the VALIDATION writers.

    python -m scripts.memory_trials                  # every validation writer, 1/3/5/10 per digit, 3 picks
    python -m scripts.memory_trials --top 20

(from the checkout's root, with ``-m``: it imports ``benchmarks``, which is not installed.)

The benchmark's protocol (``benchmarks.memory_gain``: its halves, picks, canvases and unseen renderings),
on the ``validation`` writers of ``digitrec.data.handwriting.split`` instead of the test writers it
reports, so no setting is chosen on what is reported. For each setting of the grid: the errors on the
writers' unseen halves with each writer's own memory (summed over sizes and picks), and the errors
added when a writer's memory reads the *other* validation writers' unseen drawings (a memory must not
speak for drawings unlike its user's). Prints the settings (k, weight, threshold, temperature), best
first: the fewest errors left on the writers' own drawings among those adding no error to other writers'.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys

from benchmarks.finetune import writer_halves
from benchmarks.memory_gain import SIZES, outcome, saved, unseen_of

KS = (1, 3, 5)
WEIGHTS = (0.3, 0.4, 0.45, 0.5, 0.7)
THRESHOLDS = (0.0, 0.6, 0.7, 0.8)
TEMPERATURES = (0.02, 0.05, 1.0)  # 1.0: about equal votes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--model")
    args = ap.parse_args(argv)

    from digitrec.data.handwriting import load_handwriting, split
    from digitrec.memory import Memory
    from digitrec.predict import Predictor

    predictor = Predictor.load(args.model)
    halves = writer_halves(split(load_handwriting())["validation"])
    unseen = {w: unseen_of(predictor, parts["unseen"]) for w, parts in halves.items()}
    saved_features = {}  # (writer, size, repeat) -> (features, labels), the hidden layers computed once
    for w, size, repeat in itertools.product(halves, args.sizes, range(args.repeats)):
        memory = Memory.from_drawings(predictor, saved(halves[w]["pool"], size, repeat))
        saved_features[w, size, repeat] = (memory.features, memory.labels)
    before = sum(int((u.probabilities.argmax(1) != u.labels).sum()) for u in unseen.values())
    print(f"validation writers {list(halves)}: {before} errors on their unseen halves", file=sys.stderr)

    results = []
    for k, weight, threshold, temperature in itertools.product(KS, WEIGHTS, THRESHOLDS, TEMPERATURES):
        settings = {"k": k, "weight": weight, "threshold": threshold, "temperature": temperature}
        own = {size: [0, 0] for size in args.sizes}  # errors before, after
        fixed = broken = others_added = 0
        for (w, size, _), (features, labels) in saved_features.items():
            memory = Memory.from_features(features, labels, **settings)
            o = outcome(unseen[w], memory)
            own[size][0] += o["errors_before"]
            own[size][1] += o["errors_after"]
            fixed, broken = fixed + o["fixed"], broken + o["broken"]
            for other in unseen:
                if other != w:
                    o = outcome(unseen[other], memory)
                    others_added += o["errors_after"] - o["errors_before"]
        after = sum(a for _, a in own.values())
        results.append(
            settings
            | {
                "errors": [sum(b for b, _ in own.values()), after],
                "removed_by_size": {s: round(1 - a / b, 3) if b else None for s, (b, a) in own.items()},
                "fixed": fixed,
                "broken": broken,
                "errors_added_on_other_writers": others_added,
            }
        )
    # Best first: the fewest errors left on the writers' own unseen drawings, among the settings that add
    # no error to other writers' drawings.
    results.sort(key=lambda r: (r["errors_added_on_other_writers"] > 0, r["errors"][1], r["broken"]))
    for r in results[: args.top]:
        print(json.dumps(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
