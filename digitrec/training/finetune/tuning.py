"""Fine-tune a model on the drawings users saved, without forgetting everyone else's hand.

Reads top to bottom:

saved drawings (digitrec.store) -> preprocess -> warped copies ─┐
MNIST training digits, as training reads them (replay) ──────────┴─> the frozen layers, once per digit
(kept on disk for the MNIST digits) -> a few hundred steps of the layers that learn, from the shipped
weights -> the new weights pulled part of the way back towards the old ones -> PATH.keras + card +
.tflite, figures before and after: the saved drawings (cross-validated when few), MNIST test, and the
validation writers of ``digitrec.data.handwriting.split``.
What it reads is in ``finetune_data``, the card and the report it writes in ``finetune_report``.

The recipe (``FinetuneConfig``), and why, measured by ``benchmarks/finetune.py`` and
``benchmarks/learn.py`` on the test writers the shipped model reads worst (docs/finetune.md):

- the last convolution block and the dense layers learn; the convolutions before them, and batch norm
  everywhere, stay frozen (batch norm's statistics describe the training data, and a batch of a few
  saved drawings would overwrite them). The frozen layers' output is worked out once per digit, so
  a step costs a third of the whole network's, and the same share of the gain or more;
- each batch is a quarter saved drawings, each a random warp (``augment.warp``: slant, rotation,
  proportions, wobble, pen width), and three quarters MNIST replay, on which the new weights are
  also held to the old model's answers (distillation), so MNIST stays as it was;
- MNIST digits like each saved drawing but of another class are replayed more often (half of each
  replay batch), so the border between the user's style and MNIST's moves as little as it can;
- a forgetting budget: when MNIST's held-out digits lose more than 0.1 points, the weights are
  pulled back towards the old ones until they do not.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from digitrec import card as model_card
from digitrec.paths import DEFAULT_MODEL, model_path
from digitrec.predict import ModelError
from digitrec.training.finetune.anchor import Anchor, anchor_of, predicted, unit_features, warped
from digitrec.training.finetune.data import (
    cache_dir,
    cached,
    mnist_replay,
    saved_drawings,
    validation_writers,
)
from digitrec.training.finetune.report import Laps, format_report, new_card

__all__ = ["FinetuneConfig", "finetune", "format_report", "prepare", "saved_drawings", "tune"]

CV_BELOW = 50  # fewer saved drawings than this: their "after" figure is cross-validated (k extra fine-tunes)


# Augmentation of the saved drawings: half the strength training uses. A user's digits differ from
# MNIST's in small details (where a 3's top bends, how long a 1's flag is); stronger warps blur
# exactly those, and the network then claims more of MNIST's own digits for the user's style.
GENTLE = dict(
    rotation_deg=6.0, shear=0.12, aspect=0.08, zoom=0.04, shift_px=0.75, elastic_px=0.65, thicken=0.35, thin=0.18
)


@dataclass
class FinetuneConfig:
    steps: int = 150
    saved_batch: int = 32  # saved drawings per step (with replacement, each a random one of its warps)
    replay_batch: int = 96  # MNIST training digits per step
    learning_rate: float = 1e-3  # Adam
    saved_weight: float = 4.0  # the saved drawings' loss, relative to the replay's
    distill: bool = True  # replay targets: the old model's probabilities, not just the labels
    hard_replay: int = 30  # per saved drawing, its nearest MNIST digits of other classes (0: none)
    hard_share: float = 0.5  # of each replay batch drawn from those neighbours
    replay_pool: int = 20_000  # the MNIST training digits replayed: a random share (hard neighbours among them)
    # The forgetting budget: when MNIST's held-out digits (the 5,000 training never saw) lose more
    # than this, the weights are pulled back towards the old ones (a quarter, half, three quarters
    # of the way) until they do not. None: no check.
    forget_budget: float | None = 0.001
    learns: str = "last block"  # which layers learn (batch norm never does): one of LEARNS
    augment: dict = field(default_factory=lambda: dict(GENTLE))  # digitrec.training.augment.AugmentConfig
    seed: int = 0


def tune(anchor: Anchor, saved_in: np.ndarray, y_saved: np.ndarray, warps: np.ndarray, cfg, on_step=None):
    """A copy of the old model fine-tuned on the saved drawings (``saved_in``: as the head's input;
    ``warps``: ``warped``) with replay, within the forgetting budget; the old model is untouched. Its
    ``kept`` attribute: the share of old weights kept. ``on_step()``: called after each training step."""
    hard = hard_neighbours(anchor, saved_in, y_saved, cfg) if cfg.hard_replay else None
    model = _tune(anchor, warps, y_saved, cfg, hard, on_step)
    model.kept = 0.0
    if cfg.forget_budget is None:
        return model
    head = anchor.head(model)
    old, new = anchor.old.get_weights(), model.get_weights()
    for keep in (0.0, 0.25, 0.5, 0.75, 1.0):
        if keep:
            model.set_weights([o + (1 - keep) * (n - o) for o, n in zip(old, new, strict=True)])
        model.kept = keep
        if anchor.check_accuracy - accuracy(head, anchor.check_in, anchor.check_y) <= cfg.forget_budget:
            break
    return model


def _tune(anchor: Anchor, warps: np.ndarray, y_saved: np.ndarray, cfg, hard: np.ndarray | None, on_step=None):
    import keras
    import tensorflow as tf

    n_hard = int(cfg.hard_share * cfg.replay_batch) if hard is not None and len(hard) else 0
    model = keras.models.clone_model(anchor.old)
    model.set_weights(anchor.old.get_weights())
    for i, layer in enumerate(model.layers):
        layer.trainable = i >= anchor.at and not isinstance(layer, keras.layers.BatchNormalization)
    head = anchor.head(model)
    optimizer = keras.optimizers.Adam(cfg.learning_rate)
    n_saved = cfg.saved_batch

    @tf.function
    def step(drawings, labels, replay, teacher):
        with tf.GradientTape() as tape:
            p = head(tf.concat([drawings, replay], 0), training=True)
            own = keras.losses.sparse_categorical_crossentropy(labels, p[:n_saved])
            kept = keras.losses.categorical_crossentropy(teacher, p[n_saved:])
            loss = cfg.saved_weight * tf.reduce_mean(own) + tf.reduce_mean(kept)
        grads = tape.gradient(loss, head.trainable_variables)
        optimizer.apply_gradients(zip(grads, head.trainable_variables, strict=True))
        return loss

    rng = np.random.default_rng(cfg.seed)
    targets = anchor.pool_teacher if cfg.distill else np.eye(10, dtype=np.float32)[anchor.pool_y]
    for _ in range(cfg.steps):
        picked = rng.integers(0, len(warps), n_saved)
        drawings = warps[picked, rng.integers(0, warps.shape[1], n_saved)]
        r = rng.integers(0, len(anchor.pool_y), cfg.replay_batch)
        if n_hard:
            r[:n_hard] = hard[rng.integers(0, len(hard), n_hard)]
        replay, teacher = tf.constant(anchor.pool_in[r]), tf.constant(targets[r])
        step(tf.constant(drawings), tf.constant(y_saved[picked]), replay, teacher)
        if on_step is not None:
            on_step()
    return model


def hard_neighbours(anchor: Anchor, saved_in: np.ndarray, y_saved: np.ndarray, cfg) -> np.ndarray:
    """Positions in the replay pool of the MNIST digits most like each saved drawing but of another class.

    Where a user's style meets MNIST's (their 3 is MNIST's 7), replaying exactly those digits
    teaches the network the border between the two instead of moving it over MNIST's side.
    Likeness: cosine similarity of the old network's last hidden layer.
    """
    similar = unit_features(anchor, saved_in) @ anchor.pool_features.T
    found = set()
    for row, label in zip(similar, y_saved, strict=True):
        order = np.argsort(-row)
        found.update(order[anchor.pool_y[order] != label][: cfg.hard_replay].tolist())
    return np.array(sorted(found), dtype=np.int64)


def accuracy(head, inputs: np.ndarray, y: np.ndarray) -> float:
    return float((predicted(head, inputs) == y).mean())


def folds_of(y: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Each saved drawing's fold (stratified: each fold gets its share of every digit)."""
    rng = np.random.default_rng(seed + 1)
    fold = np.empty(len(y), int)
    for digit in range(10):
        idx = rng.permutation(np.flatnonzero(y == digit))
        fold[idx] = np.arange(len(idx)) % folds
    return fold


def cross_validated(
    anchor: Anchor,
    saved_in: np.ndarray,
    y: np.ndarray,
    warps: np.ndarray,
    cfg,
    folds: int,
    on_step=None,
    runs: int | None = None,
) -> tuple[float | None, int, int]:
    """Accuracy on the saved drawings of models fine-tuned without them (``folds``-fold, stratified):
    (accuracy, folds, drawings scored). A fold runs only when it holds drawings out and leaves some to
    train on; ``runs``: at most that many folds run, the first that can (None: all); the accuracy is over
    the drawings some fold scored, None when no fold could run (one drawing of each digit: every drawing
    falls in the first fold and nothing is left to train on). The folds share the drawings' warps."""
    fold = folds_of(y, folds, cfg.seed)
    right = scored = ran = 0
    for k in range(folds):
        train, held = fold != k, fold == k
        if not held.any() or not train.any() or (runs is not None and ran >= runs):
            continue
        model = tune(anchor, saved_in[train], y[train], warps[train], cfg, on_step)
        right += int((predicted(anchor.head(model), saved_in[held]) == y[held]).sum())
        scored += int(held.sum())
        ran += 1
    return (right / scored if scored else None), folds, scored


def cv_figure(cv: tuple[float | None, int, int], drawings: int) -> str:
    """What the saved drawings' "after" figure is, for the report: ``cross_validated``'s answer in words."""
    accuracy, folds, scored = cv
    if accuracy is None:
        return f"{folds}-fold cross-validation: no fold could run"
    return f"{folds}-fold cross-validation" + ("" if scored == drawings else f", {scored} of {drawings} drawings")


def check_out(out: Path, base: Path) -> None:
    """Refuse to write over the model fine-tuning starts from, or the shipped one."""
    if out.suffix != ".keras":
        raise ModelError(f"--out must name a .keras file, not {out.name}")
    protected = {base.resolve().with_suffix(""), DEFAULT_MODEL.resolve().with_suffix("")}
    if out.resolve().with_suffix("") in protected:
        raise ModelError(f"{out} would overwrite the model fine-tuning starts from: choose another --out")


def load_old(base_path: Path, cfg):
    """The Keras model fine-tuning starts from (TensorFlow is imported here). Raises ``ModelError``."""
    import keras

    keras.utils.set_random_seed(cfg.seed)
    try:
        return keras.models.load_model(base_path, compile=False)
    except Exception as exc:  # Keras raises many types for broken files
        raise ModelError(f"cannot fine-tune {base_path}: not a loadable Keras model ({type(exc).__name__})") from None


@dataclass
class HeldOut:
    """The digits the figures before and after are measured on (MNIST test, the validation writers') as
    the head's input, and the old model's figures on them: the same for every fine-tune from one model,
    so kept on disk (``data.cached``)."""

    test_in: np.ndarray
    writers_in: np.ndarray | None
    before: dict  # the old model's accuracy: "mnist_test", "validation_writers"


def held_out(anchor: Anchor, x_test: np.ndarray, y_test: np.ndarray, writers) -> HeldOut:
    """``HeldOut`` for ``anchor``'s model (``writers``: ``data.validation_writers``'s answer, or None)."""
    test_in = anchor.inputs(x_test, keep=True)
    writers_in = anchor.inputs(writers[0], keep=True) if writers else None

    def read_by_old() -> dict:
        reads = {"mnist_test": predicted(anchor.head(), test_in)}
        return reads | ({"writers": predicted(anchor.head(), writers_in)} if writers else {})

    reads = cached("old-reads", [anchor.key, anchor.at, x_test, writers[0] if writers else ""], read_by_old)
    before = {"mnist_test": float((reads["mnist_test"] == y_test).mean())}
    if writers:
        before["validation_writers"] = float((reads["writers"] == writers[1]).mean())
    return HeldOut(test_in, writers_in, before)


def prepare(
    cfg: FinetuneConfig | None = None,
    base: str | os.PathLike | None = None,
    data_dir: str | None = None,
    handwriting_dir: str | None = None,
) -> dict:
    """Work out what every fine-tune from ``base`` (default: the shipped model) reads, and keep it in
    ``$DIGITREC_CACHE`` (``Anchor``, ``HeldOut``): what the first Learn on a machine would otherwise
    spend its first seconds on. Returns the model, the folder and the seconds it took."""
    start = time.perf_counter()
    cfg = cfg or FinetuneConfig()
    base_path = model_path(base)
    replay, x_test, y_test = mnist_replay(data_dir)
    writers = validation_writers(handwriting_dir)
    anchor = anchor_of(load_old(base_path, cfg), model_card.sha256(base_path), replay, cfg)
    held_out(anchor, x_test, y_test, writers)
    return {"base": str(base_path), "cache": str(cache_dir()), "seconds": round(time.perf_counter() - start, 1)}


def finetune(
    cfg: FinetuneConfig,
    out: str | os.PathLike,
    db: str | os.PathLike | None = None,
    user: str | None = None,
    base: str | os.PathLike | None = None,
    data_dir: str | None = None,
    handwriting_dir: str | None = None,
    folds: int | None = None,
    progress=None,
    fold_runs: int | None = None,
    include_touching: bool = False,
) -> dict:
    """Fine-tune ``base`` (default: the shipped model) on the saved drawings, write ``out`` (+ card and
    .tflite) and return the report: accuracy before and after on the saved drawings (cross-validated by
    ``folds`` folds, default: 2-5 below ``CV_BELOW`` drawings, of which at most ``fold_runs`` run), MNIST
    test and the validation writers, the seconds it took and each phase's (``phases``).
    ``progress(fraction, phase)``, when given, hears how far it is (0 to 1) as it goes: "Learn my
    handwriting" shows it. Digits saved ``touching`` a neighbour are left out unless ``include_touching``
    (``saved_drawings``)."""
    clock = Laps(progress)
    base_path, out = model_path(base), Path(out)
    check_out(out, base_path)
    x_saved, y_saved, saved_info = saved_drawings(db, user, include_touching)
    replay, x_test, y_test = mnist_replay(data_dir)
    writers = validation_writers(handwriting_dir)
    clock.lap("reading data")

    old = load_old(base_path, cfg)
    clock.lap("loading TensorFlow and the model")
    anchor = anchor_of(old, model_card.sha256(base_path), replay, cfg)  # once: every fold and the fine-tune share it
    held = held_out(anchor, x_test, y_test, writers)
    clock.lap("the old model's anchor")

    report: dict = {"base": str(base_path), "out": str(out), "saved": saved_info, "config": asdict(cfg)}
    saved_in = anchor.inputs(x_saved)
    before = {"saved": accuracy(anchor.head(), saved_in, y_saved)} | held.before
    if writers:
        report["validation_writers"] = writers[2]
    warps = warped(anchor, x_saved, cfg)
    clock.lap("figures before, and the drawings' warps")

    n = len(y_saved)
    k = folds if folds is not None else (min(5, max(2, n // 10)) if n < CV_BELOW else 0)
    clock.steps(cfg.steps * ((min(k, fold_runs or k) if k >= 2 else 0) + 1))
    cv = cross_validated(anchor, saved_in, y_saved, warps, cfg, k, clock.step, fold_runs) if k >= 2 else None
    clock.lap("cross-validation")

    new = tune(anchor, saved_in, y_saved, warps, cfg, clock.step)
    clock.lap("fine-tuning")
    report["kept_old_weights"] = new.kept
    head = anchor.head(new)
    mnist_pred = predicted(head, held.test_in)  # the figure and the card's
    after = {
        "saved": cv[0] if cv else accuracy(head, saved_in, y_saved),  # None: cross-validation could not run
        "mnist_test": float((mnist_pred == y_test).mean()),
    }
    if writers:
        after["validation_writers"] = accuracy(head, held.writers_in, writers[1])
    report["saved_figure"] = cv_figure(cv, n) if cv else "on the drawings it trained on"
    report["before"], report["after"] = before, after
    clock.lap("figures after")

    out.parent.mkdir(parents=True, exist_ok=True)
    new.save(out)
    card = new_card(out, new, base_path, mnist_pred, y_test, cfg, report, data_dir)
    model_card.write(out, card)
    from digitrec.training.train import _with_tflite

    _with_tflite(out, card, quantize=False)  # float: the gain was measured with float personal models
    clock.lap("writing")
    report["seconds"], report["phases"] = clock.total(), clock.laps
    return report
