"""A whole number read from one drawing: ``Predictor.read_number(image) -> NumberReading``.

    reading = predictor.read_number(image)
    reading.text          # "2026" ("" for a blank canvas)
    reading.confidence    # the product of the digits' confidences
    for d in reading.digits:
        d.box             # (x0, y0, x1, y1) in the image's pixels, x1 and y1 exclusive
        d.prediction      # the Prediction for that piece, as predict gives for one digit

``digitrec.segment`` finds the pieces; this module makes them readings and says how the front ends
show them: ``to_dict`` (the web API's JSON), ``summary`` and ``digit_label`` (lines for people),
``annotations`` (boxes for ``gr.AnnotatedImage``), ``picture`` (the drawing as an RGB array to draw
them over) and ``overlay`` (each digit's ink in its colour, its box and reading: how it was cut).
``digit_image`` is one digit's ink alone, as a picture to keep when a user confirms or corrects it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from digitrec import present
from digitrec.imageio import ImageLike, load
from digitrec.predict import Prediction, Predictor
from digitrec.segment import Box, Segmentation, segment


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
    if len(seg.pieces) == 1:  # exactly predict's answer
        return NumberReading((DigitReading(seg.pieces[0].box, predictor.predict(image)),), seg)
    digits = []
    for piece in seg.pieces:
        p = piece.probabilities
        digit = int(np.argmax(p))
        prediction = Prediction(digit, tuple(float(v) for v in p), float(p[digit]), piece.framed)
        digits.append(DigitReading(piece.box, prediction))
    return NumberReading(tuple(digits), seg)


def digit_image(image: ImageLike, reading: NumberReading, position: int) -> ImageLike:
    """The digit at ``position`` (0-based, left to right) of ``reading`` as a picture of its own: what
    a front end keeps when the user confirms or corrects that digit.

    Its ink alone (a neighbour's ink in its box left out), dark on white, at the resolution the number
    was read at, with a margin of paper: ``preprocess`` of it gives the 28x28 the network read for
    this digit (to 8-bit rounding). A number of one digit was read as ``predict`` reads the whole
    drawing, so that is kept as it is. Raises ``IndexError`` for a position the reading lacks.
    """
    if not 0 <= position < len(reading.digits):
        raise IndexError(f"no digit at position {position}: the number has {len(reading.digits)}")
    if len(reading.digits) == 1:
        return image
    if reading.segmentation is None:  # a reading made elsewhere: the box's pixels
        x0, y0, x1, y1 = reading.digits[position].box
        return picture(image)[y0:y1, x0:x1]
    own = reading.segmentation.pieces[position].ink  # kept by segment: the image is not read again
    # A margin wider than the band preprocess reads the paper's colour from, so the paper is all it sees there.
    margin = max(4, min(own.shape) // 8)
    own = np.pad(own, margin)
    return np.round((1.0 - own) * 255).astype(np.uint8)


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


# Distinct colours for neighbouring pieces (Okabe-Ito, readable by colour-blind people).
COLOURS = ((0, 114, 178), (213, 94, 0), (0, 158, 115), (204, 121, 167), (230, 159, 0), (86, 180, 233))


def overlay(image: ImageLike, reading: NumberReading, scale: int = 1) -> np.ndarray:
    """The drawing with each digit's ink in its own colour, its box around it and its reading
    above: how the number was cut. RGB uint8, ``scale`` times the drawing's size."""
    from PIL import ImageDraw

    base = picture(image)
    out = base.copy()
    if reading.segmentation is not None and reading.digits:
        pieces = reading.segmentation.label_map()  # the ink each piece took, whatever the canvas's colours
        for k in range(1, len(reading.digits) + 1):
            out[pieces == k] = COLOURS[(k - 1) % len(COLOURS)]
    img = Image.fromarray(out)
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    draw = ImageDraw.Draw(img)
    for k, d in enumerate(reading.digits):
        colour = COLOURS[k % len(COLOURS)]
        x0, y0, x1, y1 = (v * scale for v in d.box)
        draw.rectangle((x0 - 2, y0 - 2, x1 + 1, y1 + 1), outline=colour, width=max(1, scale))
        draw.text((x0, max(y0 - 14, 0)), str(d.digit), fill=colour)
    return np.asarray(img)
