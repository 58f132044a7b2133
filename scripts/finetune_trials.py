"""Try a fine-tuning recipe quickly, in one process, the way ``benchmarks/finetune.py`` measures it.

    python -m scripts.finetune_trials                                   # the recipe in FinetuneConfig
    python -m scripts.finetune_trials --set learning_rate=1e-4 --set saved_weight=2 --sizes 3 10 --repeat 1

(from the checkout's root, with ``-m``: it imports ``benchmarks``, which is not installed.)

The same writers (the three ``test`` writers the model reads worst, chosen on their pool), the same
halves and the same picks as the benchmark, but ``training.finetune.tune`` is called directly on the
picked drawings (drawn as an app's canvas and framed by ``preprocess``) instead of through the two
CLI commands, and MNIST test is read by the Keras model: about 20 s a writer and size instead of a
minute, for comparing recipes (docs/finetune.md). Prints one JSON line per size. The benchmark
stays the figure of record.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from dataclasses import replace

import numpy as np

from benchmarks.finetune import canvas_renderings, canvases, choose_writers, pick, writer_halves
from digitrec.data.canvases import to_png
from digitrec.preprocess import preprocess


def framed(pool: list, size: int, repeat: int) -> tuple[np.ndarray, np.ndarray]:
    """The benchmark's pick of ``size`` pool digits per class, framed as ``finetune`` reads them."""
    chosen = pick(pool, size, repeat)
    x = np.stack([preprocess(to_png(c)) for c in canvases(chosen, seed=repeat)]).astype(np.float32)
    return x, np.array([s.label for s in chosen], np.int32)


def setting(text: str) -> tuple[str, object]:
    """``name=value`` -> (name, the value as a Python literal)."""
    name, _, value = text.partition("=")
    return name.strip(), ast.literal_eval(value.strip())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", type=setting, action="append", default=[], help="a FinetuneConfig field: NAME=VALUE")
    ap.add_argument("--sizes", type=int, nargs="+", default=[3, 10], help="saved drawings per digit")
    ap.add_argument("--repeat", type=int, default=0, help="which random pick (the benchmark's repeat)")
    ap.add_argument("--writers", type=int, default=3)
    ap.add_argument("--model", help="the model to start from (default: the shipped one)")
    args = ap.parse_args(argv)

    import keras

    from digitrec.data.handwriting import load_handwriting, split
    from digitrec.paths import model_path
    from digitrec.predict import Predictor
    from digitrec.training.finetune import tuning as ft
    from digitrec.training.finetune.data import mnist_replay

    cfg = replace(ft.FinetuneConfig(), **dict(args.set))
    halves = writer_halves(split(load_handwriting())["test"])
    writers = [w for w, _ in choose_writers(Predictor.load(args.model), halves, args.writers)]
    replay, x_test, y_test = mnist_replay(None)
    base = keras.models.load_model(model_path(args.model), compile=False)
    mnist_before = ft.accuracy(base, x_test, y_test)
    anchor = ft.anchor_of(base, replay, cfg)  # shared by every writer and size
    unseen = {w: canvas_renderings(halves[w]["unseen"], seed=3) for w in writers}
    before = {w: int((base.predict(x[..., None], verbose=0).argmax(1) != y).sum()) for w, (x, y) in unseen.items()}
    for size in args.sizes:
        per, drops = {}, []
        for w in writers:
            model = ft.tune(base, *framed(halves[w]["pool"], size, args.repeat), replay, cfg, anchor)
            x, y = unseen[w]
            per[w] = [before[w], int((model.predict(x[..., None], verbose=0).argmax(1) != y).sum()), model.kept]
            drops.append(100 * (mnist_before - ft.accuracy(model, x_test, y_test)))
        b, a = sum(v[0] for v in per.values()), sum(v[1] for v in per.values())
        line = {"set": dict(args.set), "size": size, "repeat": args.repeat, "errors": [b, a]}
        line |= {"removed": round(1 - a / b, 3), "mnist_drop_worst_points": round(max(drops), 3), "writers": per}
        print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
