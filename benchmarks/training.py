"""5. Training: the ``digitrec train`` input pipeline (tf.data + in-graph augmentation) + fit, vs a
plain ``model.fit`` of the same network on in-memory arrays, in the same run.

Each variant is one ``fit`` call of several short epochs on a fresh ``build_model("compact")``;
the first epoch (tracing, the shuffle buffer filling) is not counted, the median of the others is.
The measurement runs in a child process (``python -m benchmarks.training --child``) so that
TensorFlow never loads into the benchmark's own process.
"""

from __future__ import annotations

import json
import sys
import time

from benchmarks.context import Context, log
from benchmarks.formats import fmt_rate, fmt_s, rate_ratio
from benchmarks.report import Section, Target
from benchmarks.stats import p50
from tests.harness.processes import PYTHON, run_json

NAME = "training"
TITLE = "5. Training throughput"
TARGET_SLOWDOWN = 1.3


def sizes(tiny: bool) -> dict:
    return {"epochs": 2, "steps": 3, "batch": 32} if tiny else {"epochs": 4, "steps": 80, "batch": 128}


def child(tiny: bool) -> dict:
    """Train three ways and time them; return images/s per variant. Runs TensorFlow."""
    import keras
    import numpy as np
    import tensorflow as tf

    from digitrec.data.mnist import DataError, load_mnist
    from digitrec.training.datasets import make_batches
    from digitrec.training.model import build_model
    from digitrec.training.train import TrainConfig

    sz = sizes(tiny)
    epochs, steps, batch = sz["epochs"], sz["steps"], sz["batch"]
    try:
        mnist = load_mnist()
        x = mnist.train.images.astype(np.float32) / 255.0
        y = mnist.train.labels
        source = "MNIST training images"
    except DataError:  # no MNIST here: the same shapes at random show the same speed
        rng = np.random.default_rng(0)
        x = rng.random((60_000, 28, 28), dtype=np.float32)
        y = rng.integers(0, 10, 60_000).astype(np.uint8)
        source = "random 28x28 images (MNIST not found)"
    if tiny:
        x, y = x[:2000], y[:2000]

    class EpochTimer(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.times = []

        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self.t0)

    def timed_fit(data, **kwargs) -> list[float]:
        keras.utils.set_random_seed(42)
        model = build_model("compact")
        timer = EpochTimer()
        model.fit(data, epochs=epochs, verbose=0, callbacks=[timer], **kwargs)
        return timer.times[1:]  # epoch 1 pays for tracing and for filling buffers

    per_epoch = steps * batch
    cfg = TrainConfig(batch_size=batch, seed=42)
    out = {"source": source, **sz, "images_per_epoch": per_epoch, "times": {}}
    xs, ys = x[:per_epoch, ..., None], y[:per_epoch]
    out["times"]["plain"] = timed_fit(xs, y=ys, batch_size=batch, shuffle=True)
    out["times"]["pipeline"] = timed_fit(
        make_batches(x, y, cfg.batch_size, cfg.seed, augment=False), steps_per_epoch=steps
    )
    out["times"]["augment"] = timed_fit(
        make_batches(x, y, cfg.batch_size, cfg.seed, augment=True), steps_per_epoch=steps
    )
    # The augmentation alone: how fast tf.data can produce augmented batches with no model to feed.
    it = iter(make_batches(x, y, cfg.batch_size, cfg.seed, augment=True))
    next(it)
    t0 = time.perf_counter()
    for _ in range(steps):
        next(it)
    out["augment_only_per_second"] = steps * batch / (time.perf_counter() - t0)
    out["tf_threads"] = [
        tf.config.threading.get_intra_op_parallelism_threads(),
        tf.config.threading.get_inter_op_parallelism_threads(),
    ]
    return out


def run(ctx: Context) -> Section:
    sz = sizes(ctx.tiny)
    log(f"training: {sz['epochs']} epochs of {sz['steps']} steps x {sz['batch']} images, three ways, in a child")
    r = run_json(
        [PYTHON, "-m", "benchmarks.training", "--child"] + (["--tiny"] if ctx.tiny else []), timeout=ctx.n(3600, 600)
    )

    rate = {k: r["images_per_epoch"] / p50(v) for k, v in r["times"].items()}
    base = rate["plain"]
    timed = max(r["epochs"] - 1, 1)
    s = Section(
        NAME,
        TITLE,
        intro=(
            f'`build_model("compact")` trained from scratch three ways on {r["source"]}: {r["epochs"]} epochs of '
            f"{r['steps']} steps of {r['batch']} images each, the first epoch not counted (tracing, buffers); "
            f"images/s is the median over the {timed} timed epochs."
        ),
        columns=["how", "images/s", "per epoch", "vs plain fit (images/s)"],
    )
    s.add(
        "**Baseline**: plain `model.fit(x, y)` on in-memory arrays, no augmentation",
        fmt_rate(base, " images/s"),
        fmt_s(p50(r["times"]["plain"])),
        "1.00x (baseline)",
    )
    s.add(
        "`digitrec.training.datasets.make_batches` (tf.data) without augmentation",
        fmt_rate(rate["pipeline"], " images/s"),
        fmt_s(p50(r["times"]["pipeline"])),
        rate_ratio(base, rate["pipeline"]),
    )
    s.add(
        "`digitrec.training.datasets.make_batches` with augmentation (`digitrec.training.augment.warp`): "
        "what `digitrec train` runs",
        fmt_rate(rate["augment"], " images/s"),
        fmt_s(p50(r["times"]["augment"])),
        rate_ratio(base, rate["augment"]),
    )
    s.add(
        "&nbsp;&nbsp;the augmented tf.data pipeline alone, no model",
        fmt_rate(r["augment_only_per_second"], " images/s"),
        "",
        rate_ratio(base, r["augment_only_per_second"]),
    )
    card = _card()
    if card:
        t = card.get("training", {})
        per_second = t.get("images_per_second", float("nan"))
        s.add(
            f"Full training of the committed model, from its card ({t.get('epochs')} epochs of "
            f"{t.get('train_images', 0):,} images, another run)",
            fmt_rate(per_second, " images/s"),
            f"{t.get('seconds', float('nan')):,.0f} s in all",
            rate_ratio(base, per_second),
        )
    slowdown = base / rate["augment"]
    measured = f"{slowdown:.2f}x slower" if slowdown >= 1 else f"{1 / slowdown:.2f}x faster"
    s.targets.append(
        Target(
            "Training with augmentation vs plain fit",
            f"at most {TARGET_SLOWDOWN}x slower",
            measured,
            slowdown <= TARGET_SLOWDOWN,
        )
    )
    s.notes.append(
        f"TensorFlow threads (intra-op, inter-op; 0 = one per core): {r['tf_threads']}. tf.data's "
        "augmentation runs on its own threads, in parallel with the training step, on the same cores."
    )
    if card:
        s.notes.append(
            "The card's figure covers the whole run (validation after each epoch included) on whatever "
            "the machine was doing then; it is shown for scale, not as a same-run ratio."
        )
    return s


def _card() -> dict | None:
    from digitrec import card
    from digitrec.paths import model_path

    return card.read(model_path())


if __name__ == "__main__":
    if "--child" in sys.argv:
        print(json.dumps(child("--tiny" in sys.argv)))
        sys.exit(0)
    sys.exit("usage: python -m benchmarks.training --child [--tiny]  (python -m benchmarks --only training runs it)")
