"""Fine-tune a model on the drawings users saved, without forgetting everyone else's hand.

Reads top to bottom:

saved drawings (digitrec.store) -> preprocess -> augmented copies ─┐
MNIST training digits, as training reads them (replay) ─────────────┴─> a few hundred steps from the
shipped weights -> the new weights pulled part of the way back towards the old ones -> PATH.keras +
card + .tflite, figures before and after: the saved drawings (cross-validated when few), MNIST test,
and the validation writers of ``digitrec.data.handwriting.split``.
What it reads is in ``finetune_data``, the card and the report it writes in ``finetune_report``.

The recipe (``FinetuneConfig``), and why, measured by ``benchmarks/finetune.py`` on the test writers
the shipped model reads worst (docs/finetune.md):

- every layer learns, but batch norm stays frozen (its statistics describe the training data, and
  a batch of a few saved drawings would overwrite them);
- each batch is a quarter saved drawings, each a fresh random warp (``augment.warp``: slant,
  rotation, proportions, wobble, pen width), and three quarters MNIST replay, on which the new
  weights are also held to the old model's answers (distillation), so MNIST stays as it was;
- MNIST digits like each saved drawing but of another class are replayed more often (half of each
  replay batch), so the border between the user's style and MNIST's moves as little as it can;
- a forgetting budget: when MNIST's held-out digits lose more than 0.1 points, the weights are
  pulled back towards the old ones until they do not.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from digitrec import card as model_card
from digitrec.paths import DEFAULT_MODEL, model_path
from digitrec.predict import ModelError
from digitrec.training.finetune.data import Replay, mnist_replay, saved_drawings, validation_writers
from digitrec.training.finetune.report import Laps, card_mnist, format_report, new_card

__all__ = ["FinetuneConfig", "finetune", "format_report", "saved_drawings", "tune"]

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
    saved_batch: int = 32  # saved drawings per step (with replacement, each freshly warped)
    replay_batch: int = 96  # MNIST training digits per step
    learning_rate: float = 3e-4  # Adam
    saved_weight: float = 4.0  # the saved drawings' loss, relative to the replay's
    distill: bool = True  # replay targets: the old model's probabilities, not just the labels
    hard_replay: int = 30  # per saved drawing, its nearest MNIST digits of other classes (0: none)
    hard_share: float = 0.5  # of each replay batch drawn from those neighbours
    hard_pool: int = 20_000  # a random share of MNIST's training digits searched for them (all: 3x slower)
    # The forgetting budget: when MNIST's held-out digits (the 5,000 training never saw) lose more
    # than this, the weights are pulled back towards the old ones (a quarter, half, three quarters
    # of the way) until they do not. None: no check.
    forget_budget: float | None = 0.001
    trainable_from: int = 0  # index of the first layer that learns (batch norm never does)
    augment: dict = field(default_factory=lambda: dict(GENTLE))  # digitrec.training.augment.AugmentConfig
    seed: int = 0


@dataclass
class Anchor:
    """What every fine-tune from one old model needs from it, worked out once (cross-validation's folds
    and the final fine-tune share it): its accuracy on MNIST's held-out digits (for the forgetting
    budget) and its last hidden layer over the replay digits searched for hard neighbours."""

    check_accuracy: float | None  # None: no forgetting budget
    pool: np.ndarray | None  # indices into the replay set; None: no hard replay
    pool_features: np.ndarray | None  # unit_features of those digits


def anchor_of(base, replay: Replay, cfg) -> Anchor:
    check = accuracy(base, replay.x_check, replay.y_check) if cfg.forget_budget is not None else None
    if not cfg.hard_replay:
        return Anchor(check, None, None)
    pool = np.random.default_rng(cfg.seed).permutation(len(replay.x))[: cfg.hard_pool]
    return Anchor(check, pool, unit_features(base, replay.x[pool]))


def tune(
    base, x_saved: np.ndarray, y_saved: np.ndarray, replay: Replay, cfg, anchor: Anchor | None = None, on_step=None
):
    """A copy of the Keras model ``base`` fine-tuned on the saved drawings with replay, within the
    forgetting budget; ``base`` is untouched. Its ``kept`` attribute: the share of old weights kept.
    ``anchor``: ``anchor_of(base, replay, cfg)``, when several fine-tunes start from ``base``;
    ``on_step()``: called after each training step (progress)."""
    anchor = anchor or anchor_of(base, replay, cfg)
    hard = hard_neighbours(base, x_saved, y_saved, replay.y, anchor, cfg) if cfg.hard_replay else None
    model = _tune(base, x_saved, y_saved, replay.x, replay.y, cfg, hard, on_step)
    model.kept = 0.0
    if cfg.forget_budget is None:
        return model
    old, new = base.get_weights(), model.get_weights()
    for keep in (0.0, 0.25, 0.5, 0.75, 1.0):
        if keep:
            model.set_weights([o + (1 - keep) * (n - o) for o, n in zip(old, new, strict=True)])
        model.kept = keep
        if anchor.check_accuracy - accuracy(model, replay.x_check, replay.y_check) <= cfg.forget_budget:
            break
    return model


def _tune(base, x_saved, y_saved, x_replay, y_replay, cfg, hard: np.ndarray | None, on_step=None):
    import keras
    import tensorflow as tf

    from digitrec.training.augment import AugmentConfig, warp

    n_hard = int(cfg.hard_share * cfg.replay_batch) if hard is not None and len(hard) else 0
    aug = AugmentConfig(**cfg.augment)
    model = keras.models.clone_model(base)
    model.set_weights(base.get_weights())
    for i, layer in enumerate(model.layers):
        layer.trainable = i >= cfg.trainable_from and not isinstance(layer, keras.layers.BatchNormalization)
    optimizer = keras.optimizers.Adam(cfg.learning_rate)
    saved = tf.constant(x_saved[..., None])
    saved_y = tf.constant(y_saved.astype(np.int32))
    seed = tf.constant(cfg.seed, tf.int64)
    n_saved = cfg.saved_batch

    @tf.function
    def step(i, picked, replay, replay_y):
        drawings = warp(tf.gather(saved, picked), tf.stack([seed, tf.cast(i, tf.int64)]), aug)
        labels = tf.gather(saved_y, picked)
        teacher = base(replay, training=False) if cfg.distill else tf.one_hot(replay_y, 10)
        with tf.GradientTape() as tape:
            p = model(tf.concat([drawings, replay], 0), training=True)
            own = keras.losses.sparse_categorical_crossentropy(labels, p[:n_saved])
            kept = keras.losses.categorical_crossentropy(teacher, p[n_saved:])
            loss = cfg.saved_weight * tf.reduce_mean(own) + tf.reduce_mean(kept)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    rng = np.random.default_rng(cfg.seed)
    for i in range(cfg.steps):
        picked = rng.integers(0, len(x_saved), n_saved)
        r = rng.integers(0, len(x_replay), cfg.replay_batch)
        if n_hard:
            r[:n_hard] = hard[rng.integers(0, len(hard), n_hard)]
        step(tf.constant(i), tf.constant(picked), tf.constant(x_replay[r][..., None]), tf.constant(y_replay[r]))
        if on_step is not None:
            on_step()
    return model


def hard_neighbours(base, x_saved, y_saved, y_replay, anchor: Anchor, cfg) -> np.ndarray:
    """Indices into the replay set of the MNIST digits most like each saved drawing but of another class.

    Where a user's style meets MNIST's (their 3 is MNIST's 7), replaying exactly those digits
    teaches the network the border between the two instead of moving it over MNIST's side.
    Likeness: cosine similarity of the old network's last hidden layer.
    """
    pool = anchor.pool
    similar = unit_features(base, x_saved) @ anchor.pool_features.T
    found = set()
    for row, label in zip(similar, y_saved, strict=True):
        order = np.argsort(-row)
        found.update(pool[order[y_replay[pool][order] != label][: cfg.hard_replay]].tolist())
    return np.array(sorted(found), dtype=np.int64)


def unit_features(base, x: np.ndarray) -> np.ndarray:
    """``base``'s last hidden layer (or the dropout after it) for ``x``, each row of unit length."""
    import keras

    hidden = keras.Model(base.inputs, base.layers[-2].output)
    f = hidden.predict(x[..., None], batch_size=1000, verbose=0).reshape(len(x), -1)
    return f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-6)


def accuracy(model, x: np.ndarray, y: np.ndarray) -> float:
    return float((model.predict(x[..., None], batch_size=1000, verbose=0).argmax(axis=1) == y).mean())


def folds_of(y: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Each saved drawing's fold (stratified: each fold gets its share of every digit)."""
    rng = np.random.default_rng(seed + 1)
    fold = np.empty(len(y), int)
    for digit in range(10):
        idx = rng.permutation(np.flatnonzero(y == digit))
        fold[idx] = np.arange(len(idx)) % folds
    return fold


def cross_validated(
    base, x: np.ndarray, y: np.ndarray, replay: Replay, cfg, folds: int, anchor: Anchor, on_step=None
) -> tuple[float | None, int, int]:
    """Accuracy on the saved drawings of models fine-tuned without them (``folds``-fold, stratified):
    (accuracy, folds, drawings scored). A fold runs only when it holds drawings out and leaves some to
    train on; the accuracy is over the drawings some fold scored, None when no fold could run (one
    drawing of each digit: every drawing falls in the first fold and nothing is left to train on)."""
    fold = folds_of(y, folds, cfg.seed)
    right = scored = 0
    for k in range(folds):
        train, held = fold != k, fold == k
        if not held.any() or not train.any():
            continue
        model = tune(base, x[train], y[train], replay, cfg, anchor, on_step)
        right += int((model.predict(x[held][..., None], verbose=0).argmax(axis=1) == y[held]).sum())
        scored += int(held.sum())
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
    include_touching: bool = False,
) -> dict:
    """Fine-tune ``base`` (default: the shipped model) on the saved drawings, write ``out`` (+ card and
    .tflite) and return the report: accuracy before and after on the saved drawings, MNIST test and
    the validation writers, and the seconds it took. ``progress(fraction, phase)``, when given, hears
    how far it is (0 to 1) as it goes: "Learn my handwriting" shows it. Digits saved ``touching`` a
    neighbour are left out unless ``include_touching`` (``saved_drawings``)."""
    clock = Laps(progress)
    base_path, out = model_path(base), Path(out)
    check_out(out, base_path)
    x_saved, y_saved, saved_info = saved_drawings(db, user, include_touching)
    replay, x_test, y_test = mnist_replay(data_dir)
    writers = validation_writers(handwriting_dir)
    clock.lap("reading data")

    import keras

    keras.utils.set_random_seed(cfg.seed)
    try:
        old = keras.models.load_model(base_path, compile=False)
    except Exception as exc:  # Keras raises many types for broken files
        raise ModelError(f"cannot fine-tune {base_path}: not a loadable Keras model ({type(exc).__name__})") from None
    clock.lap("loading TensorFlow and the model")
    report: dict = {"base": str(base_path), "out": str(out), "saved": saved_info, "config": asdict(cfg)}
    before = {"saved": accuracy(old, x_saved, y_saved), "mnist_test": card_mnist(base_path, len(y_test), data_dir)}
    if before["mnist_test"] is None:
        before["mnist_test"] = accuracy(old, x_test, y_test)
    if writers:
        before["validation_writers"] = accuracy(old, writers[0], writers[1])
        report["validation_writers"] = writers[2]
    anchor = anchor_of(old, replay, cfg)  # once: every fold and the final fine-tune start from ``old``
    clock.lap("figures before, and the old model's anchor")

    n = len(y_saved)
    k = folds if folds is not None else (min(5, max(2, n // 10)) if n < CV_BELOW else 0)
    clock.steps(cfg.steps * ((k if k >= 2 else 0) + 1))
    cv = cross_validated(old, x_saved, y_saved, replay, cfg, k, anchor, clock.step) if k >= 2 else None
    clock.lap("cross-validation")

    new = tune(old, x_saved, y_saved, replay, cfg, anchor, clock.step)
    clock.lap("fine-tuning")
    report["kept_old_weights"] = new.kept
    mnist_pred = new.predict(x_test[..., None], batch_size=1000, verbose=0).argmax(axis=1)  # the figure and the card's
    after = {
        "saved": cv[0] if cv else accuracy(new, x_saved, y_saved),  # None: cross-validation could not run
        "mnist_test": float((mnist_pred == y_test).mean()),
    }
    if writers:
        after["validation_writers"] = accuracy(new, writers[0], writers[1])
    report["saved_figure"] = cv_figure(cv, n) if cv else "on the drawings it trained on"
    report["before"], report["after"] = before, after
    clock.lap("figures after")

    out.parent.mkdir(parents=True, exist_ok=True)
    new.save(out)
    card = new_card(out, new, base_path, mnist_pred, y_test, cfg, report, data_dir)
    model_card.write(out, card)
    from digitrec.training.train import _with_tflite

    _with_tflite(out, card)
    clock.lap("writing")
    report["seconds"], report["phases"] = clock.total(), clock.laps
    return report
