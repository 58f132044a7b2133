"""How well ``read_number`` reads whole numbers: composed numbers judged pixel by pixel, and timed.

``judge`` says whether a segmentation cut a number right, ``measure`` reads numbers dealt by
``digitrec.data.composed.deal`` as a front end sends them, ``wilson`` gives a rate's 95% interval.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from digitrec.data.canvases import to_png
from digitrec.data.composed import ComposedNumber, deal
from digitrec.data.handwriting import Sample
from digitrec.data.lines import LineStyle, deal_lines
from digitrec.predict import NumberReading, Predictor


def judge(pieces: np.ndarray, truth: ComposedNumber, tolerance: float = 0.01) -> bool:
    """Whether a segmentation is right: as many pieces as digits, and piece k (from the left) holds
    all of digit k's ink and none of another's, judged on the pixels only one digit inks, with at
    most ``tolerance`` of each digit's pixels amiss (dropped, or in another piece).

    ``pieces`` is an (H, W) int map of the canvas: 0 for no piece, k for the k-th piece from the left
    (``digitrec.segment.Segmentation.label_map``).
    """
    n = len(truth.boxes)
    if pieces.max() != n or len(np.unique(pieces[pieces > 0])) != n:
        return False
    owner = truth.owner
    # Every digit's ink in its own piece means, too, that no piece holds more than a trace of another's.
    return all(np.mean(pieces[owner == d] == d) >= 1 - tolerance for d in range(1, n + 1) if (owner == d).any())


@dataclass(frozen=True)
class Outcome:
    """One composed number, what was read, and whether it was cut right."""

    number: ComposedNumber
    reading: NumberReading
    segmented: bool  # ``judge`` says the pieces are the digits
    seconds: float  # how long ``read_number`` took

    @property
    def exact(self) -> bool:
        return self.reading.text == self.number.text


def measure(
    predictor: Predictor,
    samples: Sequence[Sample],
    length: int,
    count: int,
    seed: int = 0,
    style: LineStyle | None = None,
    **options,
) -> list[Outcome]:
    """``count`` numbers of ``length`` digits (``deal``; with ``style``, ``digitrec.data.lines.deal_lines``
    as that style writes them, e.g. ``JUST_TOUCHING``) read by ``predictor.read_number`` from their
    PNG, as a front end sends them, each judged (``judge``) and timed."""
    out = []
    numbers = (
        deal(samples, length, count, seed, **options)
        if style is None
        else deal_lines(samples, count, seed, style, length=length)
    )
    for number in numbers:
        png = to_png(number.image)
        start = time.perf_counter()
        reading = predictor.read_number(png)
        seconds = time.perf_counter() - start
        out.append(Outcome(number, reading, judge(reading.segmentation.label_map(), number), seconds))
    return out


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson interval of a rate: what ``successes`` in ``n`` says about the true rate."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))
