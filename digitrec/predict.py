"""The one way every front end turns a drawing into an answer.

    predictor = Predictor.load()            # once, at start-up: models/digit_recognizer.keras
    prediction = predictor.predict(image)   # any drawing preprocess() accepts
    prediction.digit, prediction.confidence, prediction.probabilities, prediction.model_input
    reading = predictor.read_number(image)  # a whole number: reading.text, reading.digits (box, prediction)
    reading.text, reading.confidence        # "2026", how likely the whole text is right
    predictor.number_reader                 # "learned" (models/number_reader.tflite) or "segmentation"
    predictor.predict(image, memory=memory)  # blended with a user's saved drawings (digitrec.memory)

A ``Predictor`` holds only read-only weights, so one instance is safe to share between threads.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from digitrec import card as model_card
from digitrec.engines.numpy_net import NumpyNet, limit_blas_threads
from digitrec.engines.pick import LOADERS, TRAIN_HINT, ModelError, Unavailable, check_card, load_backend, load_features
from digitrec.paths import MODEL_ENV, model_path
from digitrec.preprocess import SIZE, preprocess
from digitrec.segment import Box, Segmentation, segment
from digitrec.segment.learned import LineReader, text_probability

BACKENDS = ("auto", *LOADERS)
BACKEND_ENV = "DIGITREC_BACKEND"
# Below this probability of its own text (worse than even odds), a learned reading of digits that stand
# apart is recounted by the cutting reader (``recounted``). On two samples of the validation writers'
# numbers (scripts/reader_trials.py) it lowered no row; 0.7 gained 3 numbers more of 3,600 but lost one
# row of one sample.
RECOUNT = 0.5


class Blender(Protocol):
    """What ``predict`` takes as ``memory``: ``digitrec.memory.Memory``, a user's saved drawings."""

    def __len__(self) -> int: ...

    def blend(self, probabilities: np.ndarray, features: np.ndarray) -> np.ndarray: ...


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


@dataclass(frozen=True)
class DigitReading:
    """One digit of a number: where it is and what the network read there."""

    box: Box  # (x0, y0, x1, y1) in the original image's pixels; x1 and y1 exclusive
    prediction: Prediction

    @property
    def digit(self) -> int:
        return self.prediction.digit

    @property
    def confidence(self) -> float:
        return self.prediction.confidence


@dataclass(frozen=True)
class NumberReading:
    """The digits of a drawn number, left to right. ``text`` is "" and ``digits`` empty when blank."""

    digits: tuple[DigitReading, ...]
    segmentation: Segmentation | None = field(default=None, repr=False, compare=False)  # how it was cut
    # The learned reader's own probability of exactly this text (CTC, calibrated), when it read it.
    text_probability: float | None = field(default=None, compare=False)

    @property
    def text(self) -> str:
        return "".join(str(d.digit) for d in self.digits)

    @property
    def confidence(self) -> float:
        """How likely the whole reading is right (0.0 when blank): the learned reader's probability of
        the text, which also weighs a digit missed or doubled; else the product of the digits' confidences."""
        if not self.digits:
            return 0.0
        if self.text_probability is not None:
            return self.text_probability
        return math.prod(d.confidence for d in self.digits)

    @property
    def blank(self) -> bool:
        return not self.digits


BLANK_PROBABILITIES = (0.1,) * 10


def _blank() -> Prediction:
    return Prediction(None, BLANK_PROBABILITIES, 0.0, np.zeros((SIZE, SIZE), np.float32))


class Predictor:
    """A loaded model plus the shared preprocessing. Build one with ``Predictor.load()``."""

    def __init__(
        self,
        forward: Callable[[np.ndarray], np.ndarray],
        path: Path,
        backend: str,
        card: dict | None = None,
        normalize: bool = False,
        digest: str | None = None,
        line_reader: LineReader | None = None,
    ):
        self._forward = forward
        self.path = path
        self.backend = backend  # "litert" (the fastest), "numpy" (no extra package) or "keras"
        self.card = card
        self._normalize = normalize  # sigmoid outputs (the seed) do not sum to 1 by themselves
        self._digest = digest  # the file's SHA-256 when it was loaded (None without a card)
        self._features: NumpyNet | None = forward if isinstance(forward, NumpyNet) else None
        self._features_lock = threading.Lock()
        self.line_reader = line_reader  # the learned number reader, when one ships
        self.number_reader_note = ""  # why there is none, when load looked for one

    @property
    def number_reader(self) -> str:
        """Which reader ``read_number`` runs: "learned" (with the cutting one where it is unsure) or
        "segmentation" (the cutting reader alone)."""
        return "learned" if self.line_reader is not None else "segmentation"

    @classmethod
    def load(
        cls,
        path: str | os.PathLike | None = None,
        *,
        verify: bool | None = None,
        backend: str | None = None,
        number_reader: str | os.PathLike | bool | None = None,
    ) -> Predictor:
        """Load ``path`` (default ``$DIGITREC_MODEL`` or ``models/digit_recognizer.keras``).

        ``verify`` checks the file against the SHA-256 in its card (default on; set
        ``DIGITREC_VERIFY_MODEL=0`` or pass False for a model you changed yourself).
        ``backend`` (default ``$DIGITREC_BACKEND``, else "auto"): "auto" (LiteRT when the card
        lists a ``.tflite`` made from this very file, else the NumPy engine when it supports the
        layers, else Keras), "litert", "numpy" or "keras".
        ``number_reader``: the learned number reader's ``.tflite`` (default ``$DIGITREC_NUMBER_READER``,
        else ``models/number_reader.tflite`` when it is there and matches its card); False: none.
        One given by name must load; the default one is skipped, with ``number_reader_note`` saying why.
        """
        path = model_path(path)
        if not path.is_file():
            hint = f" (from ${MODEL_ENV})" if os.environ.get(MODEL_ENV) and str(path) == os.environ[MODEL_ENV] else ""
            raise ModelError(f"no model at {path}{hint}: {TRAIN_HINT}")
        card = model_card.read(path)
        digest = check_card(path, card, verify)
        name = backend or os.environ.get(BACKEND_ENV) or "auto"
        if name not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(map(repr, BACKENDS))}, not {name!r}")
        loaded = load_backend(name, path, card, digest)
        # Whichever backend runs, preprocessing shares NumPy's BLAS with the NumPy engine.
        limit_blas_threads()
        predictor = cls(loaded.forward, path, loaded.name, card, normalize=loaded.normalize, digest=digest)
        if number_reader is not False:
            named = number_reader not in (None, True)
            try:
                predictor.line_reader = LineReader.load(number_reader if named else None)
            except Unavailable as exc:
                if named:
                    raise ModelError(f"number reader {number_reader}: {exc}") from None
                predictor.number_reader_note = str(exc)
        return predictor

    def probabilities(self, model_inputs: np.ndarray, memory: Blender | None = None) -> np.ndarray:
        """(N, 28, 28) framed images -> (N, 10) probabilities, each row summing to 1; blended with
        ``memory`` (a user's saved drawings, ``digitrec.memory.Memory``) when it holds any."""
        x = np.asarray(model_inputs, dtype=np.float32).reshape(-1, SIZE, SIZE, 1)
        if len(x) == 0:
            return np.zeros((0, 10), np.float32)
        p = self._forward(x)
        if self._normalize:
            p = p / np.maximum(p.sum(axis=1, keepdims=True), 1e-12)
        if memory is not None and len(memory):
            p = memory.blend(p, self.features(x))
        return p

    def features(self, model_inputs: np.ndarray) -> np.ndarray:
        """(N, 28, 28) framed images -> (N, units): the network's last hidden layer (the final Dense
        layer's input), by the NumPy engine whatever backend answers (read once, on first use, from
        the same file, checked against the SHA-256 it had when loaded). Raises ``ModelError`` for a
        model the NumPy engine cannot run."""
        x = np.asarray(model_inputs, dtype=np.float32).reshape(-1, SIZE, SIZE, 1)
        with self._features_lock:
            if self._features is None:
                self._features = load_features(self.path, self._digest)
        return self._features.features(x)

    def predict(self, image: Any, memory: Blender | None = None) -> Prediction:
        """One drawing (anything ``preprocess`` accepts) -> ``Prediction``; ``memory``: a user's saved
        drawings to blend in (``digitrec.memory.Memory``; None or empty: the network alone).

        Raises ``digitrec.InvalidImage`` for input that is not an image.
        """
        return self.predict_batch([image], memory)[0]

    def predict_batch(self, images: Iterable[Any], memory: Blender | None = None) -> list[Prediction]:
        """Many drawings at once: preprocessing per image, one network pass for all of them."""
        framed = [preprocess(image) for image in images]
        return self.predict_framed(framed, memory)

    def read_number(self, image: Any, memory: Blender | None = None) -> NumberReading:
        """A drawing of a whole number ("2026", a phone number) -> ``NumberReading``: its ``text``,
        each digit's ``box`` and ``Prediction`` left to right, and ``confidence``, how likely the
        whole text is right (``NumberReading.confidence``). One digit reads exactly as ``predict``
        reads it; a blank canvas gives ``text == ""``. Raises ``digitrec.InvalidImage`` as
        ``predict`` does (``digitrec.segment``).
        ``memory`` changes how each digit is read, never where the number is cut.

        With a learned reader (``number_reader == "learned"``) the whole line is read at once
        (``digitrec.segment.learned``); it replaced the cutting reader, which reads only where it is
        not installed, where it reads nothing in the ink, and where it recounts an unsure learned
        reading (``recounted``). ``scripts/reader_trials.py`` measured both, and ways to combine
        them, on the validation writers' numbers.
        """
        if self.line_reader is not None:
            learned = self.line_reader.read(image)
            if learned is not None and learned[0].pieces:
                seg, frames = learned
                text = [int(np.argmax(piece.probabilities)) for piece in seg.pieces]
                sure = text_probability(frames, text)
                # recounted's own first two conditions: the cutting reader runs only where it may answer
                if sure < RECOUNT and not any(piece.touching for piece in seg.pieces):
                    cut = self._read_by_cutting(image, memory)
                    if recounted(sure, seg, cut):
                        return cut
                return self._learned_reading(image, seg, text, sure, memory)
        return self._read_by_cutting(image, memory)

    def _learned_reading(
        self, image: Any, seg: Segmentation, text: list[int], sure: float, memory: Blender | None
    ) -> NumberReading:
        """The learned reader's digits (``text``) as a ``NumberReading``, its confidence ``sure``, CTC's
        probability of the text (unless ``memory`` changed the text). One digit: ``predict``'s own answer."""
        if len(seg.pieces) == 1:
            return NumberReading((DigitReading(seg.pieces[0].box, self.predict(image, memory)),), seg)
        reading = self._from_pieces(seg, memory)
        if [d.digit for d in reading.digits] != text:  # memory changed the text
            return reading
        return replace(reading, text_probability=sure)

    def _read_by_cutting(self, image: Any, memory: Blender | None) -> NumberReading:
        """The cutting reader (``digitrec.segment``): pieces of ink, each read by the digit network."""
        seg = segment(image, self.probabilities)
        if len(seg.pieces) == 1:  # exactly predict's answer: its one piece is the whole drawing, framed alike
            return NumberReading((DigitReading(seg.pieces[0].box, self.predict(image, memory)),), seg)
        return self._from_pieces(seg, memory)

    def _from_pieces(self, seg: Segmentation, memory: Blender | None) -> NumberReading:
        """Pieces with their probabilities -> a ``NumberReading``, each blended with ``memory``."""
        blended = None
        if memory is not None and len(memory) and seg.pieces:
            framed = np.stack([piece.framed for piece in seg.pieces])
            blended = memory.blend(np.stack([piece.probabilities for piece in seg.pieces]), self.features(framed))
        digits = []
        for i, piece in enumerate(seg.pieces):
            p = piece.probabilities if blended is None else blended[i]
            digit = int(np.argmax(p))
            prediction = Prediction(digit, tuple(p.tolist()), float(p[digit]), piece.framed)
            digits.append(DigitReading(piece.box, prediction))
        return NumberReading(tuple(digits), seg)

    def predict_framed(self, framed: Sequence[np.ndarray | None], memory: Blender | None = None) -> list[Prediction]:
        """Predictions for images already through ``preprocess`` (None for blank)."""
        inked = [i for i, f in enumerate(framed) if f is not None]
        probs = self.probabilities(np.stack([framed[i] for i in inked]), memory) if inked else None
        results = [_blank()] * len(framed)
        for row, i in enumerate(inked):
            p = probs[row]
            digit = int(p.argmax())
            results[i] = Prediction(digit, tuple(p.tolist()), float(p[digit]), framed[i])
        return results


def recounted(sure: float, learned: Segmentation, cut: NumberReading) -> bool:
    """Whether the cutting reader's reading ``cut`` answers instead of the learned reader's pieces
    ``learned``, read with CTC probability ``sure``: where the learned reader is unsure (below
    RECOUNT), neither reader had to part a blot of ink between two digits (each digit is whole
    connected marks: the cutting reader's strength, digits apart), they disagree on how many digits
    there are (the learned reader's usual slip there: a lifted stroke read as a digit more, or a
    digit missed) and the cutting reader is surer of its reading. Its confidence is then the
    cutting reader's own, the product of its digits' (README, Whole numbers: how often it holds)."""
    return (
        sure < RECOUNT
        and not any(piece.touching for piece in learned.pieces)
        and cut.segmentation is not None
        and not any(piece.touching for piece in cut.segmentation.pieces)
        and len(cut.digits) != len(learned.pieces)
        and cut.confidence > sure
    )
