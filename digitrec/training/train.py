"""Train a model by name and write it with its model card. Reads top to bottom:

MNIST + real handwriting by the training writers (+ extras) -> tf.data with in-graph
augmentation -> fit, checkpointed each epoch -> temperature fitted on validation writers
-> models/<name>.keras + models/<name>.json (card) + models/<name>.tflite
"""

from __future__ import annotations

import os
import shutil
import sys
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from digitrec import card as model_card
from digitrec.data.mnist import load_mnist
from digitrec.paths import DEFAULT_MODEL
from digitrec.training import DEFAULT_ARCH
from digitrec.training.checkpoints import callbacks, checkpoint_dir, resumed_epoch
from digitrec.training.datasets import make_batches

VALIDATION = 5_000  # the last MNIST training images, held out to watch for overfitting
QUICK_TRAIN, QUICK_TEST, QUICK_WRITERS = 2_000, 1_000, 300  # --quick: a subset that trains in seconds


@dataclass
class TrainConfig:
    arch: str = DEFAULT_ARCH  # "seed" (the original design), "compact" (its fixes) or "wide" (what ships)
    epochs: int | None = None  # None: 3 for seed (its original recipe), 8 for the improved models
    batch_size: int = 128
    learning_rate: float = 2e-3
    seed: int = 42
    quick: bool = False
    init: str | None = None  # start from this .keras model's weights (same architecture) instead of at random
    real_copies: int = 6  # varied renderings of each training writer's digit
    synthetic: int = 30_000  # pen-drawn digits in other styles (improved models only)
    scans: int = 15_000  # MNIST training digits as low-resolution scanning pipelines store them
    load_digits_share: int = 900  # first N of scikit-learn's digits, by writer order; the rest stay held out
    load_digits_repeat: int = 5
    augment: bool = True
    label_smoothing: float = 0.0  # soften the labels (improved models only) against confident mistakes

    def resolved_epochs(self) -> int:
        if self.epochs is not None:
            return self.epochs
        if self.quick:
            return 1
        return 3 if self.arch == "seed" else 8


def handwriting_data(cfg: TrainConfig, handwriting_dir: str | None):
    """The real writers, split by the fixed rule, or None (with a warning) when there are none."""
    from digitrec.data.handwriting import load_handwriting, resolve_dir, split
    from digitrec.data.mnist import DataError

    if resolve_dir(handwriting_dir) is None:
        warnings.warn(
            "no real handwriting (set DIGITREC_HANDWRITING_DIR or --handwriting-dir): training on "
            "MNIST and the extras alone; the model card says so",
            stacklevel=2,
        )
        return None
    groups = split(load_handwriting(handwriting_dir))
    if cfg.quick:
        rng = np.random.default_rng(cfg.seed)
        for name in groups:  # keep quick runs quick: a few hundred digits of each group
            picked = rng.permutation(len(groups[name]))[:QUICK_WRITERS]
            groups[name] = [groups[name][i] for i in sorted(picked)]
    if not groups["train"]:
        raise DataError("the handwriting files hold no training writers")
    return groups


def train(
    cfg: TrainConfig,
    data_dir: str | None = None,
    out: str | os.PathLike = DEFAULT_MODEL,
    verbose: int | str = "auto",
    handwriting_dir: str | None = None,
    resume: bool = False,
) -> dict:
    """Train ``cfg.arch``, save it to ``out`` with its card next to it, return the card.

    Each epoch is checkpointed beside ``out``; ``resume=True`` continues an interrupted run of the
    same configuration from its last finished epoch.
    """
    from digitrec.data.handwriting import data_md5s
    from digitrec.training import datasets

    backup = checkpoint_dir(out)
    if resume:
        if backup.is_dir() and any(backup.iterdir()):
            print(f"--resume: continuing from the checkpoint in {backup}", file=sys.stderr)
        else:
            print(
                f"--resume: no checkpoint for this run ({backup} does not exist): starting from epoch 1",
                file=sys.stderr,
            )
    improved = cfg.arch != "seed"
    mnist = load_mnist(data_dir)
    x = mnist.train.images.astype(np.float32) / 255.0
    y = mnist.train.labels
    x_train, y_train = x[:-VALIDATION], y[:-VALIDATION]
    x_val, y_val = x[-VALIDATION:], y[-VALIDATION:]
    x_test, y_test = mnist.test.images.astype(np.float32) / 255.0, mnist.test.labels
    if cfg.quick:
        x_train, y_train = x_train[:QUICK_TRAIN], y_train[:QUICK_TRAIN]
        x_val, y_val = x_val[:QUICK_TEST], y_val[:QUICK_TEST]
        x_test, y_test = x_test[:QUICK_TEST], y_test[:QUICK_TEST]

    data_info: dict = {"mnist_train": int(len(x_train))}
    parts_x, parts_y = [x_train], [y_train]
    writers = handwriting_data(cfg, handwriting_dir) if improved else None
    if writers:
        rx, ry = datasets.real_drawings(writers["train"], cfg.real_copies, cfg.seed)
        parts_x.append(rx)
        parts_y.append(ry)
        data_info["real_handwriting"] = {
            "drawings": int(len(rx)),
            "copies": cfg.real_copies,
            "digits": len(writers["train"]),
            "writers": sorted({s.writer for s in writers["train"]}),
            "held_out_writers": {g: len({s.writer for s in writers[g]}) for g in ("validation", "test")},
        }
    if improved and (cfg.synthetic or cfg.scans or cfg.load_digits_share):
        shrink = (lambda n: min(n, 300)) if cfg.quick else (lambda n: n)
        ex, ey, info = datasets.extras(
            mnist.train.images[: len(x_train)],
            y_train,
            synthetic=shrink(cfg.synthetic),
            scans=shrink(cfg.scans),
            load_digits_share=shrink(cfg.load_digits_share),
            load_digits_repeat=cfg.load_digits_repeat,
            seed=cfg.seed,
        )
        parts_x.append(ex)
        parts_y.append(ey)
        data_info.update(info)
    x_train, y_train = np.concatenate(parts_x), np.concatenate(parts_y)

    import keras  # after the data: its renderer processes start without TensorFlow

    from digitrec.training.model import build_model

    keras.utils.set_random_seed(cfg.seed)
    epochs = cfg.resolved_epochs()
    steps = max(1, len(x_train) // cfg.batch_size)
    start_epoch = resumed_epoch(backup) if resume else 0
    augment = improved and cfg.augment
    train_ds = make_batches(x_train, y_train, cfg.batch_size, cfg.seed, augment, start_epoch)
    lr = cfg.learning_rate
    if improved:  # cosine decay to zero: the last epochs fine-tune instead of bouncing around
        warmup = min(steps, 500) if epochs > 1 else 0
        lr = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=cfg.learning_rate / 10,
            decay_steps=max(1, epochs * steps - warmup),
            warmup_steps=warmup,
            warmup_target=cfg.learning_rate,
        )
        model = build_model(cfg.arch, learning_rate=lr, label_smoothing=cfg.label_smoothing)
    else:
        model = build_model(cfg.arch, learning_rate=1e-3)  # the seed's own Adam defaults
    init_info = _load_init(model, cfg.init) if cfg.init else None

    if not resume and backup.exists():
        shutil.rmtree(backup)  # a fresh run never continues an old one by accident
    if verbose == "auto":
        verbose = 1 if sys.stdout.isatty() else 2
    start = time.perf_counter()
    history = model.fit(
        train_ds,
        epochs=epochs,
        steps_per_epoch=steps,
        validation_data=(x_val[..., None], y_val),
        shuffle=False,
        verbose=verbose,
        callbacks=callbacks(backup, epochs, steps, cfg.batch_size),
    )
    seconds = time.perf_counter() - start
    calibration = fit_calibration(model, x_val, y_val, writers, cfg) if improved else None

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # Save weights and architecture only: the optimizer's state would triple the file for no use
    # (clone_model would not do: it compiles the clone with the same optimizer).
    inference = keras.Model.from_config(model.get_config())
    inference.set_weights(model.get_weights())
    inference.save(out)
    card = model_card.build(
        model_path=out,
        model=model,
        x_test=x_test,
        y_test=y_test,
        training={
            **{k: v for k, v in asdict(cfg).items() if k not in ("epochs",)},
            "epochs": epochs,
            "init": init_info,
            "schedule": "cosine decay with warm-up" if improved else "constant",
            "train_images": int(len(x_train)),
            "augmentation": _augment_info(improved and cfg.augment),
            "data": data_info,
            "calibration": calibration,
            "seconds": round(seconds, 1),
            "images_per_second": round(epochs * steps * cfg.batch_size / seconds, 1),
            "history": {k: [round(float(v), 5) for v in vals] for k, vals in history.history.items()},
        },
        data_dir=data_dir,
        handwriting_md5=data_md5s(handwriting_dir) if writers else None,
    )
    model_card.write(out, card)
    shutil.rmtree(backup, ignore_errors=True)  # the run finished: nothing left to resume
    return _with_tflite(out, card)


def _load_init(model, path: str) -> dict:
    """Copy the weights of the model at ``path`` (same architecture) into ``model``."""
    import keras

    from digitrec.predict import ModelError

    try:
        source = keras.models.load_model(path, compile=False)
        model.set_weights(source.get_weights())
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot start from {path}: {exc}") from None
    card = model_card.read(path) or {}
    return {
        "file": str(path),
        "sha256": model_card.sha256(path),
        "card_created": card.get("created"),
        "card_training": card.get("training"),
    }


def _with_tflite(out: Path, card: dict, quantize: bool = True) -> dict:
    """Write the LiteRT flatbuffer the predictor runs fastest (``quantize``: int8 weights); the model
    is fine without it."""
    from digitrec.training.export import export_tflite

    try:
        export_tflite(out, quantize=quantize)
    except Exception as exc:  # the converter's failures come in many types; the .keras file is what counts
        print(
            f"warning: no {out.with_suffix('.tflite').name} ({type(exc).__name__}: {exc}); "
            "the predictor will use its NumPy engine",
            file=sys.stderr,
        )
        return card
    return model_card.read(out) or card


def fit_calibration(model, x_val: np.ndarray, y_val: np.ndarray, writers: dict | None, cfg: TrainConfig) -> dict:
    """Fit a softmax temperature on the validation writers' drawings (as the apps receive them) and
    held-out MNIST, then fold it into the last layer. Without real writers: MNIST, synthetic
    drawings and scans of other seeds than training's."""
    from digitrec.calibrate import expected_calibration_error, fit_temperature, fold_temperature, rescale
    from digitrec.data import scans, synth
    from digitrec.data.renderings import framed_renderings

    n = 100 if cfg.quick else 1_000
    if writers and writers["validation"]:
        hx, hy = framed_renderings(writers["validation"], seed=cfg.seed + 1)
        x = np.concatenate([x_val[:n], hx])
        y = np.concatenate([y_val[:n], hy]).astype(int)
        source = "validation writers' drawings (every rendering) + held-out MNIST"
    else:
        px, py = synth.make_drawings(n, seed=cfg.seed + 1, tablet=0)  # other seeds than training's
        sx, sy = scans.make_scans((x_val * 255).astype(np.uint8), y_val, min(n, len(x_val)), seed=cfg.seed + 1)
        x = np.concatenate([x_val, px, sx])
        y = np.concatenate([y_val, py, sy]).astype(int)
        source = "held-out MNIST + synthetic drawings and scans"
    probs = model.predict(x[..., None], batch_size=1000, verbose=0)
    temperature = fit_temperature(probs, y)
    fold_temperature(model, temperature)
    return {
        "temperature": round(temperature, 4),
        "images": int(len(y)),
        "fitted_on": source,
        "ece_before": round(expected_calibration_error(probs, y), 5),
        "ece_after": round(expected_calibration_error(rescale(probs, temperature), y), 5),
    }


def _augment_info(on: bool) -> dict | None:
    if not on:
        return None
    from digitrec.training.augment import AugmentConfig

    return AugmentConfig().as_dict()
