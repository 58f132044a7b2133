"""A whole number read from one drawing: ``Predictor.read_number(image) -> NumberReading``.

    reading = predictor.read_number(image)
    reading.text          # "2026" ("" for a blank canvas)
    reading.confidence    # the product of the digits' confidences
    for d in reading.digits:
        d.box             # (x0, y0, x1, y1) in the image's pixels, x1 and y1 exclusive
        d.prediction      # the Prediction for that piece, as predict gives for one digit

``digitrec.segment`` finds the pieces; this module makes them readings and says how the front ends
show them: ``to_dict`` (the web API's JSON), ``annotations`` (boxes for ``gr.AnnotatedImage``),
``picture`` (the drawing as an RGB array to draw those boxes over).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from digitrec import present
from digitrec.imageio import ImageLike, load
from digitrec.predict import Prediction, Predictor
from digitrec.segment import Box, segment


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

    @property
    def text(self) -> str:
        return "".join(str(d.digit) for d in self.digits)

    @property
    def confidence(self) -> float:
        """The product of the digits' confidences: how likely every digit is right (0.0 when blank)."""
        return math.prod(d.confidence for d in self.digits) if self.digits else 0.0

    @property
    def blank(self) -> bool:
        return not self.digits


def read_number(predictor: Predictor, image: ImageLike) -> NumberReading:
    """``Predictor.read_number``: segment, then one ``Prediction`` per piece.

    A drawing of a single digit gives exactly ``predictor.predict(image)``: its one piece is the
    whole drawing, framed as ``predict`` frames it.
    """
    seg = segment(image, predictor.probabilities)
    if len(seg.pieces) == 1:
        return NumberReading((DigitReading(seg.pieces[0].box, predictor.predict(image)),))
    digits = []
    for piece in seg.pieces:
        p = piece.probabilities
        digit = int(np.argmax(p))
        prediction = Prediction(digit, tuple(float(v) for v in p), float(p[digit]), piece.framed)
        digits.append(DigitReading(piece.box, prediction))
    return NumberReading(tuple(digits))


# --- how the front ends show a reading ---------------------------------------------------------------


def to_dict(reading: NumberReading) -> dict[str, Any]:
    """The JSON the web API and ``digitrec predict --number --json`` answer with."""
    return {
        "text": reading.text,
        "confidence": round(reading.confidence, 6),
        "digits": [{**present.to_dict(d.prediction), "box": list(d.box)} for d in reading.digits],
    }


def summary(reading: NumberReading) -> str:
    """One line for people: '2026 (91.3% sure)', or 'blank (no digit drawn)'."""
    if reading.blank:
        return "blank (no digit drawn)"
    return f"{reading.text} ({present.format_percent(reading.confidence)} sure)"


def digit_label(d: DigitReading, k: int = 3) -> str:
    """'2: 98.1%, 7: 1.2%, 3: 0.3%': a digit's ``k`` likeliest readings."""
    return ", ".join(f"{digit}: {present.format_percent(p)}" for digit, p in d.prediction.top(k))


def annotations(reading: NumberReading) -> list[tuple[Box, str]]:
    """Each digit's box with its label ("2 (98.1%)"), for ``gr.AnnotatedImage``."""
    return [(d.box, f"{d.digit} ({present.format_percent(d.confidence)})") for d in reading.digits]


def picture(image: ImageLike) -> np.ndarray:
    """The drawing as an RGB uint8 array, a transparent canvas shown on white: what boxes are drawn over."""
    img = load(image)
    if isinstance(img, np.ndarray):
        img = Image.fromarray(img if img.dtype == np.uint8 else np.uint8(np.clip(img, 0, 1) * 255))
    rgba = img.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))
