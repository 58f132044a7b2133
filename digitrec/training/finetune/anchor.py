"""What every fine-tune from one old model needs from it: the layers that learn, the frozen layers'
output for the digits it replays and checks (kept on disk where it costs), and the old model's
answers for them (``Anchor``). ``tuning`` fine-tunes from it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from digitrec.predict import ModelError
from digitrec.training.finetune.data import Replay, cached

# Which layers a fine-tune changes. "all": every layer. "last block": the convolutions after the last
# pooling but one, and the dense layers. "dense": the layers after the convolutions' Flatten. The frozen
# layers run once per digit (their output kept on disk for the MNIST digits), so each step costs only
# the layers that learn.
LEARNS = ("all", "last block", "dense")


def first_learning(model, learns: str) -> int:
    """The index in ``model.layers`` of the first layer that learns (``learns``: one of ``LEARNS``)."""
    import keras

    if learns not in LEARNS:
        raise ValueError(f"learns must be one of {', '.join(LEARNS)}, not {learns!r}")
    if learns == "all":
        return 0
    kind = keras.layers.Flatten if learns == "dense" else keras.layers.MaxPooling2D
    found = [i for i, layer in enumerate(model.layers) if isinstance(layer, kind)]
    if len(found) < (1 if learns == "dense" else 2):
        raise ModelError(f"{model.name} has no {kind.__name__} layer to start learning after: use learns='all'")
    return found[-1 if learns == "dense" else -2] + 1


def head_of(model, at: int, outputs=None):
    """``model`` from layer ``at`` on (fed the frozen layers' output), up to ``outputs`` (default: its
    own), as a model of its own sharing those layers: what learns."""
    import keras

    if at == 0 and outputs is None:
        return model
    start = model.inputs[0] if at == 0 else model.layers[at].input
    return keras.Model(start, model.outputs if outputs is None else outputs)


def head_inputs(old, at: int, key: str, x: np.ndarray, keep: bool = False) -> np.ndarray:
    """Framed digits (N, 28, 28) as the input of ``old``'s layers from ``at`` on: the frozen layers'
    output (the digits themselves when every layer learns). ``keep``: the same digits come again in
    every fine-tune from ``old`` (MNIST, the validation writers), so that output is kept on disk under
    ``key`` (the model file's SHA-256)."""
    x = np.asarray(x, np.float32)[..., None]
    if at == 0:
        return x
    import keras

    trunk = keras.Model(old.inputs, old.layers[at].input)
    if not keep:
        return trunk.predict(x, batch_size=500, verbose=0)

    def run() -> dict:  # half precision: the 20,000 replayed digits' output in 46 MB
        return {"out": trunk.predict(x, batch_size=500, verbose=0).astype(np.float16)}

    return cached("head-inputs", [key, at, x], run)["out"].astype(np.float32)


@dataclass
class Anchor:
    """What every fine-tune from one old model needs from it, worked out once per run (cross-validation's
    folds and the final fine-tune share it) and, where it costs, once per machine (``data.cached``): the
    model cut where learning starts, and the MNIST digits it replays and checks, as the head's input."""

    old: Any  # the old Keras model
    at: int  # the index of its first layer that learns (first_learning)
    key: str  # the old model file's SHA-256: what the cached arrays were computed from
    pool_in: np.ndarray  # the replayed MNIST training digits (a random ``replay_pool`` of them), as the head's input
    pool_y: np.ndarray
    pool_features: np.ndarray  # their unit_features (hard neighbours are searched among them)
    pool_teacher: np.ndarray  # the old model's probabilities for them (distillation's targets)
    check_in: np.ndarray  # MNIST's held-out training digits, as the head's input (the forgetting budget)
    check_y: np.ndarray
    check_accuracy: float | None  # the old model's on them; None: no forgetting budget

    def inputs(self, x: np.ndarray, keep: bool = False) -> np.ndarray:
        """Framed digits as the head's input (``head_inputs``)."""
        return head_inputs(self.old, self.at, self.key, x, keep)

    def head(self, model=None, outputs=None):
        """The part of ``model`` (default: the old one) that learns, up to ``outputs`` (default: its own)."""
        return head_of(self.old if model is None else model, self.at, outputs)


def anchor_of(old, key: str, replay: Replay, cfg) -> Anchor:
    """``old``'s anchor for ``cfg`` (``key``: its file's SHA-256, naming what is cached on disk)."""
    at = first_learning(old, cfg.learns)
    pool = np.random.default_rng(cfg.seed).permutation(len(replay.x))[: cfg.replay_pool]
    pool_in = head_inputs(old, at, key, replay.x[pool], keep=True)
    check_in = head_inputs(old, at, key, replay.x_check, keep=True)
    head = head_of(old, at)
    both = head_of(old, at, [old.layers[-2].output, old.outputs[0]])

    def run() -> dict:
        hidden, probabilities = both.predict(pool_in, batch_size=1000, verbose=0)
        features = unit_rows(hidden.reshape(len(hidden), -1))
        return {"features": features, "teacher": probabilities, "check": predicted(head, check_in)}

    answers = cached("old-answers", [key, at, replay.x[pool], replay.x_check], run)
    check = float((answers["check"] == replay.y_check).mean()) if cfg.forget_budget is not None else None
    return Anchor(
        old, at, key, pool_in, replay.y[pool], answers["features"], answers["teacher"], check_in, replay.y_check, check
    )


def unit_rows(f: np.ndarray) -> np.ndarray:
    """Each row of ``f`` scaled to unit length."""
    return f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-6)


def predicted(head, inputs: np.ndarray) -> np.ndarray:
    """The digits ``head`` reads from ``inputs`` (as the head's input)."""
    return head.predict(inputs, batch_size=1000, verbose=0).argmax(axis=1)


def warped(anchor: Anchor, x_saved: np.ndarray, cfg) -> np.ndarray:
    """Each saved drawing's warps as the head's input, (N, W, ...): W = the steps' draws of saved
    drawings shared among them (``augment.warp`` on each, once: the frozen layers then run once per warp)."""
    import tensorflow as tf

    from digitrec.training.augment import AugmentConfig, warp

    n = len(x_saved)
    w = -(-cfg.steps * cfg.saved_batch // n)
    images = tf.repeat(tf.constant(x_saved[..., None], tf.float32), w, axis=0)
    out = warp(images, tf.constant([cfg.seed, 0], tf.int64), AugmentConfig(**cfg.augment)).numpy()[..., 0]
    inputs = anchor.inputs(out)
    return inputs.reshape(n, w, *inputs.shape[1:])


def unit_features(anchor: Anchor, inputs: np.ndarray) -> np.ndarray:
    """The old model's last hidden layer (or the dropout after it) for ``inputs`` (the head's input),
    each row of unit length."""
    hidden = anchor.head(outputs=anchor.old.layers[-2].output)
    return unit_rows(hidden.predict(inputs, batch_size=1000, verbose=0).reshape(len(inputs), -1))
