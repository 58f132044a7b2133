"""Try a fine-tuning recipe quickly, in one process, the way ``benchmarks/learn.py`` measures the app's Learn.

    python -m scripts.finetune_trials                                   # the recipe in FinetuneConfig
    python -m scripts.finetune_trials --set learning_rate=1e-4 --set saved_weight=2 --sizes 3 10 --repeats 1
    python -m scripts.finetune_trials --split validation                # choose on writers never reported

(from the checkout's root, with ``-m``: it imports ``benchmarks``, which is not installed.)

The same writers (the ``test`` writers the model reads worst, chosen on their pool), the same halves and
the same picks as the benchmarks, but ``training.finetune.tune`` is called directly on the picked drawings
(drawn as an app's canvas and framed by ``preprocess``) instead of through the CLI, and everything is
read by the Keras model: seconds a writer and size instead of a minute, for comparing recipes
(docs/finetune.md). Each pick is counted three ways: the fine-tuned model alone (``finetune``), with the
user's memory on top (the app's Learn: ``digitrec.memory`` on the new model's hidden layer), and the
memory alone on the old model. ``--split validation``: the validation writers the model reads worst
instead, so that a recipe is chosen on writers no benchmark reports. Prints one JSON line per size with
each writer's share of errors removed (the mean over picks, as the benchmarks summarise). The benchmarks
stay the figures of record.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
import time
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


def read(anchor, model, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``model``'s probabilities and last hidden layer for ``inputs`` (the head's input)."""
    both = anchor.head(model, [model.layers[-2].output, model.outputs[0]])
    hidden, probabilities = both.predict(inputs, batch_size=1000, verbose=0)
    return probabilities, hidden.reshape(len(hidden), -1)


def removed(runs: list[dict], way: str) -> float:
    """The mean over ``runs`` (one writer's picks) of the share of errors ``way`` removed."""
    return round(float(np.mean([1 - r[way] / r["before"] if r["before"] else 0.0 for r in runs])), 3)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", type=setting, action="append", default=[], help="a FinetuneConfig field: NAME=VALUE")
    ap.add_argument("--sizes", type=int, nargs="+", default=[3, 10], help="saved drawings per digit")
    ap.add_argument("--repeats", type=int, default=3, help="random picks per writer and size (the benchmarks')")
    ap.add_argument("--writers", type=int, default=3)
    ap.add_argument("--split", choices=("test", "validation"), default="test", help="whose writers (default: test)")
    ap.add_argument("--model", help="the model to start from (default: the shipped one)")
    args = ap.parse_args(argv)

    import keras

    from digitrec import card
    from digitrec.data.handwriting import load_handwriting, split
    from digitrec.memory import Memory
    from digitrec.paths import model_path
    from digitrec.predict import Predictor
    from digitrec.training.finetune import tuning as ft
    from digitrec.training.finetune.data import mnist_replay

    cfg = replace(ft.FinetuneConfig(), **dict(args.set))
    halves = writer_halves(split(load_handwriting())[args.split])
    writers = [w for w, _ in choose_writers(Predictor.load(args.model), halves, args.writers)]
    replay, x_test, y_test = mnist_replay(None)
    path = model_path(args.model)
    base = keras.models.load_model(path, compile=False)
    keras.utils.set_random_seed(cfg.seed)
    start = time.perf_counter()
    anchor = ft.anchor_of(base, card.sha256(path), replay, cfg)  # shared by every writer and size
    test_in = anchor.inputs(x_test, keep=True)
    mnist_before = ft.accuracy(anchor.head(), test_in, y_test)
    print(json.dumps({"anchor_seconds": round(time.perf_counter() - start, 1)}), flush=True)
    unseen = {}
    for w in writers:
        x, y = canvas_renderings(halves[w]["unseen"], seed=3)
        inputs = anchor.inputs(x)
        unseen[w] = (inputs, y, *read(anchor, base, inputs))
    for size in args.sizes:
        runs, seconds, drops = [], [], []
        for w in writers:
            inputs, y, p_old, h_old = unseen[w]
            for repeat in range(args.repeats):
                x_saved, y_saved = framed(halves[w]["pool"], size, repeat)
                start = time.perf_counter()
                saved_in = anchor.inputs(x_saved)
                model = ft.tune(anchor, saved_in, y_saved, ft.warped(anchor, x_saved, cfg), cfg)
                seconds.append(time.perf_counter() - start)
                p_new, h_new = read(anchor, model, inputs)
                _, saved_new = read(anchor, model, saved_in)
                _, saved_old = read(anchor, base, saved_in)
                learnt = Memory.from_features(saved_new, y_saved).blend(p_new, h_new)
                memory = Memory.from_features(saved_old, y_saved).blend(p_old, h_old)
                wrong = {k: int((v.argmax(1) != y).sum()) for k, v in (("before", p_old), ("memory", memory))}
                wrong |= {"finetune": int((p_new.argmax(1) != y).sum()), "learn": int((learnt.argmax(1) != y).sum())}
                runs.append({"writer": w, "repeat": repeat, "kept": model.kept} | wrong)
                drops.append(100 * (mnist_before - ft.accuracy(anchor.head(model), test_in, y_test)))
        line = {"set": dict(args.set), "split": args.split, "size": size}
        for way in ("memory", "finetune", "learn"):
            per = {w: removed([r for r in runs if r["writer"] == w], way) for w in writers}
            total = sum(r[way] for r in runs)
            line[way] = {"errors": total, "worst_read": per[writers[0]], "least_helped": min(per.values()), "per": per}
        line["errors_before"] = sum(r["before"] for r in runs)
        line["mnist_drop_worst_points"] = round(max(drops), 3)
        line["tune_seconds_mean"] = round(float(np.mean(seconds)), 1)
        line["runs"] = runs
        print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
