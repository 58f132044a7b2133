"""A drawn number as the learned reader sees it: its ink, cropped and fitted into a 32x256 strip.

Training (``digitrec.training.lines``) and reading (``digitrec.segment.learned``) both make the strip
here, from the canvas a front end sends, so the network is shown at reading time exactly what it
learned from. The ink is ``digitrec.segment``'s own (``working_ink``: the canvas read as ``preprocess``
reads it, at the segmentation's working resolution); its box is fitted, aspect kept, into the strip
less a margin, left-aligned and centred in height. ``Line`` keeps the fit so a column of the strip
maps back to the canvas.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from digitrec.ink import ink_box
from digitrec.segment.marks import find_marks
from digitrec.segment.pieces import working_ink
from digitrec.segment.reader import owners

LINE_HEIGHT, LINE_WIDTH = 32, 256  # the strip: a digit's height of 28 pixels, room for 8-9 digits at that size
STRIDE = 4  # strip columns per output frame: two poolings halve the width, three more only the height
FRAMES = LINE_WIDTH // STRIDE  # 64 frames: CTC needs one per digit, two for a repeated digit
PAD = 2  # background pixels around the ink: the convolutions see a stroke's edge on both sides


@dataclass(frozen=True)
class Line:
    """The strip and how it was cut from the canvas."""

    image: np.ndarray  # (LINE_HEIGHT, LINE_WIDTH) uint8, 255 = full ink, white on black
    ink: np.ndarray  # the canvas's ink in [0, 1] at the working resolution
    scale: int  # canvas pixels per working pixel
    size: tuple[int, int]  # the canvas's (width, height)
    box: tuple[int, int, int, int]  # the ink's box in working pixels
    zoom: float  # strip pixels per working pixel

    def to_working(self, column: float) -> float:
        """A strip column -> the working column it shows."""
        return self.box[0] + (column - PAD) / self.zoom


def ink_frames(strip: np.ndarray) -> int:
    """How many frames of a strip the reader reads: up to the last inked column, one frame more.
    The rest is padding, where CTC must place nothing: trained and decoded alike, so the network
    cannot park digits in the empty end of the strip, away from their ink."""
    columns = np.flatnonzero(np.asarray(strip).max(axis=0))
    return 1 if columns.size == 0 else min(FRAMES, int(columns[-1]) // STRIDE + 2)


def fit(ink: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int], float] | None:
    """Ink in [0, 1] -> (the strip, the ink's box, the zoom); None when there is no ink."""
    box = ink_box(ink > 0)
    if box is None:
        return None
    x0, y0, x1, y1 = box
    h, w = y1 - y0, x1 - x0
    zoom = min((LINE_HEIGHT - 2 * PAD) / h, (LINE_WIDTH - 2 * PAD) / w)
    nh, nw = max(1, int(round(h * zoom))), max(1, int(round(w * zoom)))
    crop = Image.fromarray(np.round(ink[y0:y1, x0:x1] * 255).astype(np.uint8))
    # Area-average when shrinking (a canvas's antialiasing, as preprocess does); bilinear when enlarging.
    resized = np.asarray(crop.resize((nw, nh), Image.BOX if zoom < 1 else Image.BILINEAR))
    strip = np.zeros((LINE_HEIGHT, LINE_WIDTH), np.uint8)
    top = (LINE_HEIGHT - nh) // 2
    strip[top : top + nh, PAD : PAD + nw] = resized
    return strip, box, zoom


def without_specks(ink: np.ndarray) -> np.ndarray | None:
    """The ink of the marks the cutting reader keeps (``segment.marks.find_marks``): stray dots
    dropped, so they cannot stretch the strip; None when nothing is left. Raises ``InvalidImage`` for
    a canvas of too many marks, as the cutting reader does."""
    box = ink_box(ink > 0)
    if box is None:
        return None
    x0, y0, x1, y1 = box
    inked = ink[y0:y1, x0:x1]  # the marks are found in the ink's box alone: a small part of a wide canvas
    labels, marks, _line, specks = find_marks(inked)
    if not marks:
        return None
    if not specks:
        return ink
    kept = np.isin(owners(inked, labels), [m.ids[0] for m in marks])  # each mark with its faint edges
    out = np.zeros_like(ink)
    out[y0:y1, x0:x1] = np.where(kept, inked, np.float32(0))
    return out


def line_of(image: Any) -> Line | None:
    """A drawing (anything ``preprocess`` accepts) -> its ``Line``, or None for a blank canvas.
    Raises ``InvalidImage`` as ``preprocess`` does, and for a canvas of noise as ``segment`` does."""
    ink, scale, size = working_ink(image)
    if ink is not None:
        ink = without_specks(ink)
    if ink is None:
        return None
    fitted = fit(ink)
    if fitted is None:
        return None
    strip, box, zoom = fitted
    return Line(strip, ink, scale, size, box, zoom)
