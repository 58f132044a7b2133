"""The one way every front end turns a drawing into an answer.

    predictor = Predictor.load()            # once, at start-up: models/digit_recognizer.keras
    prediction = predictor.predict(image)   # any drawing preprocess() accepts
    prediction.digit, prediction.confidence, prediction.probabilities, prediction.model_input

A ``Predictor`` holds only read-only weights, so one instance is safe to share between threads.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from digitrec import card as model_card
from digitrec.paths import MODEL_ENV, model_path
from digitrec.preprocess import SIZE, preprocess

TRAIN_HINT = "train one with `python -m digitrec train` (or set DIGITREC_MODEL to a model file)"
VERIFY_ENV = "DIGITREC_VERIFY_MODEL"
BACKENDS = ("auto", "litert", "numpy", "keras")
BACKEND_ENV = "DIGITREC_BACKEND"


class ModelError(RuntimeError):
    """The model file is missing, broken, of the wrong shape, or not the one its card describes."""


@dataclass(frozen=True)
class Prediction:
    """The answer for one drawing. ``digit`` is None when the canvas is blank."""

    digit: int | None
    probabilities: tuple[float, ...]  # 10 floats summing to 1 (uniform for a blank canvas)
    confidence: float  # the top probability; 0.0 for a blank canvas
    model_input: np.ndarray = field(repr=False)  # the 28x28 image the network saw

    @property
    def blank(self) -> bool:
        return self.digit is None

    def model_image(self, scale: int = 1) -> np.ndarray:
        """``model_input`` as a uint8 picture (0 black, 255 full ink), for front ends to show.

        ``scale`` enlarges it to ``28 * scale`` pixels a side, each pixel a ``scale`` x ``scale``
        block: smoothing would show a blur the network never saw.
        """
        if scale < 1:
            raise ValueError(f"scale must be a whole number >= 1, not {scale!r}")
        image = np.round(np.clip(self.model_input, 0.0, 1.0) * 255).astype(np.uint8)
        return image if scale == 1 else image.repeat(scale, axis=0).repeat(scale, axis=1)

    def top(self, k: int = 3) -> list[tuple[int, float]]:
        """The ``k`` likeliest digits with their probabilities, likeliest first (none if blank)."""
        if self.blank:
            return []
        order = np.argsort(self.probabilities)[::-1][:k]
        return [(int(d), float(self.probabilities[d])) for d in order]


BLANK_PROBABILITIES = (0.1,) * 10


def _blank() -> Prediction:
    return Prediction(None, BLANK_PROBABILITIES, 0.0, np.zeros((SIZE, SIZE), np.float32))


class Predictor:
    """A loaded model plus the shared preprocessing. Build one with ``Predictor.load()``."""

    def __init__(self, forward: Callable[[np.ndarray], np.ndarray], path: Path, backend: str,
                 card: dict | None = None, normalize: bool = False):
        self._forward = forward
        self.path = path
        self.backend = backend  # "litert" (the fastest), "numpy" (no extra package) or "keras"
        self.card = card
        self._normalize = normalize  # sigmoid outputs (the seed) do not sum to 1 by themselves

    @classmethod
    def load(cls, path: str | os.PathLike | None = None, *, verify: bool | None = None,
             backend: str | None = None) -> "Predictor":
        """Load ``path`` (default ``$DIGITREC_MODEL`` or ``models/digit_recognizer.keras``).

        ``verify`` checks the file against the SHA-256 in its card (default on; set
        ``DIGITREC_VERIFY_MODEL=0`` or pass False for a model you changed yourself).
        ``backend`` (default ``$DIGITREC_BACKEND``, else "auto"): "auto" (LiteRT when the card
        lists a ``.tflite`` made from this very file, else the NumPy engine when it supports the
        layers, else Keras), "litert", "numpy" or "keras".
        """
        path = model_path(path)
        if not path.is_file():
            hint = f" (from ${MODEL_ENV})" if os.environ.get(MODEL_ENV) and str(path) == os.environ[MODEL_ENV] else ""
            raise ModelError(f"no model at {path}{hint}: {TRAIN_HINT}")
        if verify is None:
            verify = os.environ.get(VERIFY_ENV, "1").lower() not in ("0", "false", "no")
        card = model_card.read(path)
        digest = model_card.sha256(path) if card else None  # checked here, and by the LiteRT path
        if verify and card and card.get("sha256"):
            if digest != card["sha256"]:
                raise ModelError(
                    f"{path} does not match the SHA-256 in {model_card.card_path(path).name} "
                    f"({digest[:12]}... vs {card['sha256'][:12]}...): the file changed since it was trained. "
                    f"Restore it, {TRAIN_HINT}, or load it anyway with verify=False / {VERIFY_ENV}=0"
                )
        backend = backend or os.environ.get(BACKEND_ENV) or "auto"
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(map(repr, BACKENDS))}, not {backend!r}")
        forward, used, activation = None, backend, "softmax"
        _limit_blas_threads()  # whichever backend: preprocessing and the NumPy engine share NumPy's BLAS
        if backend in ("auto", "litert"):
            forward, error = _litert_forward(path, card, digest)
            if forward is None and backend == "litert":
                raise ModelError(f"{path}: {error}")
            used = "litert"  # its flatbuffer already normalises a sigmoid output
        if forward is None and backend in ("auto", "numpy"):
            forward, activation, error = _numpy_forward(path)
            if forward is None and backend == "numpy":
                raise ModelError(f"{path}: {error}")
            used = "numpy"
        if forward is None:
            forward, activation = _keras_forward(path)
            used = "keras"
        return cls(forward, path, used, card, normalize=activation != "softmax")

    def probabilities(self, model_inputs: np.ndarray) -> np.ndarray:
        """(N, 28, 28) framed images -> (N, 10) probabilities, each row summing to 1."""
        x = np.asarray(model_inputs, dtype=np.float32).reshape(-1, SIZE, SIZE, 1)
        if len(x) == 0:
            return np.zeros((0, 10), np.float32)
        p = self._forward(x)
        if self._normalize:
            p = p / np.maximum(p.sum(axis=1, keepdims=True), 1e-12)
        return p

    def predict(self, image: Any) -> Prediction:
        """One drawing (anything ``preprocess`` accepts) -> ``Prediction``.

        Raises ``digitrec.InvalidImage`` for input that is not an image.
        """
        return self.predict_batch([image])[0]

    def predict_batch(self, images: Iterable[Any]) -> list[Prediction]:
        """Many drawings at once: preprocessing per image, one network pass for all of them."""
        framed = [preprocess(image) for image in images]
        return self.predict_framed(framed)

    def predict_framed(self, framed: Sequence[np.ndarray | None]) -> list[Prediction]:
        """Predictions for images already through ``preprocess`` (None for blank)."""
        inked = [i for i, f in enumerate(framed) if f is not None]
        probs = self.probabilities(np.stack([framed[i] for i in inked])) if inked else None
        results = [_blank()] * len(framed)
        for row, i in enumerate(inked):
            p = probs[row]
            digit = int(p.argmax())
            results[i] = Prediction(digit, tuple(float(v) for v in p), float(p[digit]), framed[i])
        return results


BLAS_THREADS_ENV = "DIGITREC_BLAS_THREADS"


def _limit_blas_threads() -> None:
    """One BLAS thread per call, process-wide (``$DIGITREC_BLAS_THREADS`` to change it).

    The engine's matrix products are small: splitting them over cores saves little, and when a
    server runs several predictions at once (or the machine is busy) OpenBLAS's spinning worker
    threads fight each other: 113 ms per drawing instead of 9 ms on a loaded 2-core machine.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=int(os.environ.get(BLAS_THREADS_ENV, "1")), user_api="blas")


def _litert_forward(path: Path, card: dict | None, digest: str | None):
    """LiteRT for ``path`` (whose SHA-256 is ``digest``), or (None, reason) when there is no
    flatbuffer made from this very file."""
    from digitrec import litert

    info = (card or {}).get("tflite") or {}
    if not info.get("file"):
        return None, "its card lists no .tflite (`python -m digitrec export --tflite` writes one)"
    flat = path.with_name(Path(info["file"]).name)
    if not flat.is_file():
        return None, f"{flat} is missing (`python -m digitrec export --tflite` writes it)"
    if not litert.available():
        return None, "the ai-edge-litert package is not installed"
    if digest != info.get("source_sha256") or model_card.sha256(flat) != info.get("sha256"):
        return None, f"{flat.name} was not made from this {path.name} (`python -m digitrec export --tflite`)"
    try:
        return litert.LiteNet(flat), None
    except (ValueError, RuntimeError) as exc:
        return None, f"{flat.name} cannot be loaded ({exc})"


def _numpy_forward(path: Path):
    """The NumPy engine for ``path``, or (None, None, reason) when it cannot run this model."""
    import zipfile

    from digitrec.engine import NumpyNet, UnsupportedModel

    try:
        net = NumpyNet.from_keras_file(path)
    except UnsupportedModel as exc:
        return None, None, f"not supported by the NumPy engine ({exc})"
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise ModelError(f"{path} is not a readable .keras model ({exc}): {TRAIN_HINT}") from None
    _check_input(path, net.input_shape)
    try:
        out_shape = net(np.zeros((1, SIZE, SIZE, 1), np.float32)).shape
    except ValueError as exc:  # weights that do not fit the layers: a broken or foreign file
        raise ModelError(f"{path}: its weights do not fit its layers ({exc}); {TRAIN_HINT}") from None
    _check_output(path, out_shape)
    return net, net.output_activation, None


def _keras_forward(path: Path):
    """A compiled, fixed-signature Keras forward pass (slower to start; any Keras model)."""
    try:
        import keras
        import tensorflow as tf

        model = keras.models.load_model(path, compile=False)
    except Exception as exc:  # Keras raises many types for broken files
        raise ModelError(f"{path} is not a loadable Keras model ({type(exc).__name__}): {TRAIN_HINT}") from None
    _check_input(path, tuple(model.input_shape[1:]))
    _check_output(path, tuple(model.output_shape))
    from digitrec.model import output_activation

    fn = tf.function(lambda x: model(x, training=False),
                     input_signature=[tf.TensorSpec([None, SIZE, SIZE, 1], tf.float32)])
    return (lambda x: fn(tf.constant(x)).numpy()), output_activation(model)


def _check_input(path: Path, input_shape: tuple) -> None:
    if tuple(input_shape) != (SIZE, SIZE, 1):
        raise ModelError(f"{path} expects input {tuple(input_shape)}, not ({SIZE}, {SIZE}, 1): "
                         f"it is not a digit model for this app; {TRAIN_HINT}")


def _check_output(path: Path, output_shape: tuple) -> None:
    if output_shape[-1] != 10:
        raise ModelError(f"{path} has {output_shape[-1]} outputs, not 10 digits; {TRAIN_HINT}")
