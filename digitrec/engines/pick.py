"""The three ways to run the network, behind one interface.

Each loader takes the model file, its card and the file's SHA-256 and returns a ``Backend``: a
forward function (N, 28, 28, 1) float32 -> (N, 10) and whether its outputs still need normalising.
A loader that cannot run this model raises ``Unavailable(reason)``, and ``Predictor.load`` tries
the next one in ``AUTO``; a file that is broken for every backend raises ``ModelError`` at once.
``check_card`` refuses a file that does not match its card; ``load_backend`` picks the backend.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitrec import card as model_card
from digitrec.preprocess import SIZE

VERIFY_ENV = "DIGITREC_VERIFY_MODEL"  # 0: load a model file that does not match its card
TRAIN_HINT = "train one with `python -m digitrec train` (or set DIGITREC_MODEL to a model file)"

Forward = Callable[[np.ndarray], np.ndarray]


class ModelError(RuntimeError):
    """The model file is missing, broken, of the wrong shape, or not the one its card describes."""


class Unavailable(Exception):
    """This backend cannot run this model (the message says why); another one may."""


@dataclass(frozen=True)
class Backend:
    """A loaded forward pass and what ``Predictor`` needs to know about it."""

    name: str  # "litert" (the fastest), "numpy" (no extra package) or "keras"
    forward: Forward
    normalize: bool  # sigmoid outputs (the seed) do not sum to 1 by themselves


def load_litert(path: Path, card: dict | None, digest: str | None) -> Backend:
    """LiteRT for ``path`` (whose SHA-256 is ``digest``), when its card lists a flatbuffer made from
    this very file."""
    from digitrec.engines import litert

    info = (card or {}).get("tflite") or {}
    if not info.get("file"):
        raise Unavailable("its card lists no .tflite (`python -m digitrec export --tflite` writes one)")
    flat = path.with_name(Path(info["file"]).name)
    if not flat.is_file():
        raise Unavailable(f"{flat} is missing (`python -m digitrec export --tflite` writes it)")
    if not litert.available():
        raise Unavailable("the ai-edge-litert package is not installed")
    if digest != info.get("source_sha256") or model_card.sha256(flat) != info.get("sha256"):
        raise Unavailable(f"{flat.name} was not made from this {path.name} (`python -m digitrec export --tflite`)")
    try:
        net = litert.LiteNet(flat)
    except (ValueError, RuntimeError) as exc:
        raise Unavailable(f"{flat.name} cannot be loaded ({exc})") from None
    return Backend("litert", net, normalize=False)  # the flatbuffer already normalises a sigmoid output


def load_numpy(path: Path, card: dict | None = None, digest: str | None = None) -> Backend:
    """The NumPy engine, when it implements every layer of ``path``."""
    from digitrec.engines.numpy_net import NumpyNet, UnsupportedModel

    try:
        net = NumpyNet.from_keras_file(path)
    except UnsupportedModel as exc:
        raise Unavailable(f"not supported by the NumPy engine ({exc})") from None
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise ModelError(f"{path} is not a readable .keras model ({exc}): {TRAIN_HINT}") from None
    check_input(path, net.input_shape)
    try:
        out_shape = net(np.zeros((1, SIZE, SIZE, 1), np.float32)).shape
    except ValueError as exc:  # weights that do not fit the layers: a broken or foreign file
        raise ModelError(f"{path}: its weights do not fit its layers ({exc}); {TRAIN_HINT}") from None
    check_output(path, out_shape)
    return Backend("numpy", net, normalize=net.output_activation != "softmax")


def load_keras(path: Path, card: dict | None = None, digest: str | None = None) -> Backend:
    """A compiled, fixed-signature Keras forward pass: slower to start, but runs any Keras model."""
    from digitrec.engines import keras_net

    try:
        model = keras_net.load_model(path)
    except Exception as exc:  # Keras raises many types for broken files
        raise ModelError(f"{path} is not a loadable Keras model ({type(exc).__name__}): {TRAIN_HINT}") from None
    check_input(path, tuple(model.input_shape[1:]))
    check_output(path, tuple(model.output_shape))
    return Backend("keras", keras_net.forward(model), normalize=keras_net.output_activation(model) != "softmax")


def load_features(path: Path, digest: str | None):
    """The NumPy engine for ``path``, for its last hidden layer (``NumpyNet.features``) whatever backend
    answers: the very file that was loaded when its SHA-256 then was ``digest``."""
    import hashlib
    import io

    from digitrec.engines.numpy_net import NumpyNet, UnsupportedModel

    data = path.read_bytes()
    if digest is not None and hashlib.sha256(data).hexdigest() != digest:
        raise ModelError(f"{path} changed since it was loaded: load it again for its hidden layer")
    try:
        return NumpyNet.from_keras_file(io.BytesIO(data))
    except UnsupportedModel as exc:
        raise ModelError(f"{path}: its hidden layer needs the NumPy engine, which cannot run it ({exc})") from None
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise ModelError(f"{path} is not a readable .keras model ({exc}): {TRAIN_HINT}") from None


LOADERS: dict[str, Callable[[Path, dict | None, str | None], Backend]] = {
    "litert": load_litert,
    "numpy": load_numpy,
    "keras": load_keras,
}
AUTO = ("litert", "numpy", "keras")  # fastest first; Keras runs whatever the others cannot


def check_input(path: Path, input_shape: tuple) -> None:
    if tuple(input_shape) != (SIZE, SIZE, 1):
        raise ModelError(
            f"{path} expects input {tuple(input_shape)}, not ({SIZE}, {SIZE}, 1): "
            f"it is not a digit model for this app; {TRAIN_HINT}"
        )


def check_output(path: Path, output_shape: tuple) -> None:
    if output_shape[-1] != 10:
        raise ModelError(f"{path} has {output_shape[-1]} outputs, not 10 digits; {TRAIN_HINT}")


def check_card(path: Path, card: dict | None, verify: bool | None) -> str | None:
    """The SHA-256 of ``path`` when it has a card (the LiteRT check needs it too), after refusing a
    file that does not match the card's, unless ``verify`` (default ``$DIGITREC_VERIFY_MODEL``) is off."""
    if not card:
        return None
    if verify is None:
        verify = os.environ.get(VERIFY_ENV, "1").lower() not in ("0", "false", "no")
    digest = model_card.sha256(path)
    if verify and card.get("sha256") and digest != card["sha256"]:
        raise ModelError(
            f"{path} does not match the SHA-256 in {model_card.card_path(path).name} "
            f"({digest[:12]}... vs {card['sha256'][:12]}...): the file changed since it was trained. "
            f"Restore it, {TRAIN_HINT}, or load it anyway: verify=False (Python) / {VERIFY_ENV}=0 "
            "(environment) / --no-verify (command line)"
        )
    return digest


def load_backend(name: str, path: Path, card: dict | None, digest: str | None) -> Backend:
    """The backend called ``name``, or for "auto" the first in ``AUTO`` that can run this model."""
    reasons = []
    for candidate in AUTO if name == "auto" else (name,):
        try:
            return LOADERS[candidate](path, card, digest)
        except Unavailable as exc:
            reasons.append(f"{candidate}: {exc}" if name == "auto" else str(exc))
    raise ModelError(f"{path}: {'; '.join(reasons)}")
