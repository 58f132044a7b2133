"""A drawn number -> one piece of ink per digit, left to right, each framed like a single digit.

    ink -> marks -> specks dropped -> parts joined -> digits chosen by the network -> touching digits cut

Step 1 is here; steps 2-5 are ``segment_marks``, 6 ``segment_groups``, 7 ``segment_cuts``; how a piece
is framed and read is ``segment_reader``, and every size and confidence it is tuned by ``segment_sizes``.

1. **ink**: the drawing read as ``preprocess`` reads it (``imageio`` and ``ink.to_ink``), at a
   working resolution: the longer side brought near ``WORKING_SIDE`` as for one digit, but a line
   never squeezed below ``MIN_LINE`` pixels tall, so long numbers keep their detail.
2. **marks**: the connected blots of ink (above 0.3, 8-connected, as ``ink.drop_specks``).
3. **line height**: the tallest of the big marks, or the strokes that meet in x together (a 9 whose
   loop stands apart from its stem). Every size below is a share of it, never a fixed number of
   pixels, so a number reads the same at any size and on any canvas.
4. **specks**: marks whose longer side is under ``SPECK`` of the line: dots and stray marks, never a digit.
5. **parts**: marks shorter than ``PART`` of the line are pieces of a digit (a 5's lifted flag, a 7's
   crossbar, a stroke of a 4, half of a broken 8). A part whose x-extent lies mostly within one other
   mark's, overlapping no other and nearer no other, joins it.
6. **digits**: the marks, ordered by the middle of their x-extent (so a number written uphill or
   downhill still reads left to right), are grouped into digits. Every way to group neighbours that
   could be one digit (close in x, together no wider than a digit, tall strokes nearly meeting) is
   framed and read by the network, and the grouping whose digits it is most sure of wins: the
   largest product of confidences, weighed by what is known of digits (``segment_groups.score``, ``spread``).
7. **touching digits**: a piece too wide for one digit, or wide and read without confidence, is cut
   at the thinnest columns of its ink; the cut whose pieces the network is surest of stays, when it
   beats the whole by ``SPLIT_PRIOR``. Its pieces are ``touching``: their ink was one blot.

Each piece goes through ``preprocess.frame``, the very steps a drawing of one digit takes after its
ink is found. ``segment`` needs only a function from framed 28x28 images to probabilities
(``Predictor.probabilities``); ``Predictor.read_number`` turns its pieces into a ``NumberReading``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from digitrec.imageio import WIDE_MODES, WORKING_SIDE, check_size, decode, levels, load, planes
from digitrec.ink import to_ink
from digitrec.segment.cuts import split
from digitrec.segment.groups import group
from digitrec.segment.marks import Box, Group, find_marks, join_parts
from digitrec.segment.reader import Probabilities, Reader, piece_ink
from digitrec.segment.sizes import MIN_LINE


@dataclass(frozen=True)
class Piece:
    """One digit's ink: where it is and what the network is shown."""

    box: Box  # in the original image's pixels
    framed: np.ndarray = field(repr=False)  # the 28x28 input, through preprocess
    probabilities: np.ndarray | None = field(default=None, repr=False)  # what the network read, when it was asked
    work_box: Box = (0, 0, 0, 0)  # the box at the working resolution
    mask: np.ndarray = field(default=None, repr=False)  # the piece's ink pixels within work_box
    ink: np.ndarray = field(default=None, repr=False)  # its ink in [0, 1] within work_box, a neighbour's left out
    # Its ink could not be parted from a neighbour's: the border between them runs through a stroke, so
    # ``ink`` may hold a sliver of the neighbour or lack a sliver of its own. The cutting reader sets it on
    # a piece cut out of one mark (a mark is one connected blot: any cut goes through it); the learned
    # reader on the pieces a blot across a border was parted between. Kept corrections say so:
    # fine-tuning skips them.
    touching: bool = False


@dataclass(frozen=True)
class Segmentation:
    """The pieces, left to right, and the scale they were found at."""

    pieces: list[Piece]
    size: tuple[int, int]  # the original image's (width, height)
    scale: int = 1  # original pixels per working pixel
    line_height: float = 0.0  # in working pixels
    specks: int = 0  # marks dropped as specks
    # How it got there, for people (notebook 6): boxes in the original image's pixels.
    marks: tuple[Box, ...] = ()  # step 2: every mark that is no speck, left to right
    joined: tuple[Box, ...] = ()  # step 5: the marks once parts joined the mark they lie over
    tried: tuple[tuple[Box, int, float], ...] = ()  # steps 6-7: every piece the network read: (box, digit, confidence)

    def label_map(self) -> np.ndarray:
        """(height, width) int32 of the original image: k on the ink of the k-th piece (1-based), else 0."""
        w, h = self.size
        f = self.scale
        work = np.zeros((math.ceil(h / f), math.ceil(w / f)), np.int32)
        for k, p in enumerate(self.pieces, start=1):
            x0, y0, x1, y1 = p.work_box
            work[y0:y1, x0:x1][p.mask] = k
        if f > 1:
            work = work.repeat(f, axis=0).repeat(f, axis=1)
        return work[:h, :w]


# --- 1. ink at the working resolution ------------------------------------------------------------


def scale_for(width: int, height: int) -> int:
    """The reduction factor for an image: as ``decode``'s, but a line stays MIN_LINE pixels tall."""
    return max(1, min(math.ceil(max(width, height) / WORKING_SIDE), height // MIN_LINE))


def working_ink(image: Any) -> tuple[np.ndarray | None, int, tuple[int, int]]:
    """(ink in [0, 1] or None if blank, the reduction factor, the original (width, height)).

    8-bit images (every canvas) are reduced in C before any float exists; anything else is read by
    ``decode``, which reduces on its own. Raises ``InvalidImage`` as ``preprocess`` does.
    """
    img = load(image)
    if (
        isinstance(img, np.ndarray)
        and img.dtype == np.uint8
        and (img.ndim == 2 or (img.ndim == 3 and img.shape[2] in (3, 4)))
    ):
        check_size(img.shape[1], img.shape[0])  # as decode checks arrays
        img = Image.fromarray(img)  # (H, W), (H, W, 3) or (H, W, 4) uint8: Pygame's surface, a Gradio array
    if isinstance(img, Image.Image) and img.mode not in WIDE_MODES:
        size = img.size
        f = scale_for(*size)
        grey_img, alpha_img = planes(img)  # decode's own conversions
        if f > 1:
            grey_img = grey_img.reduce(f)
            alpha_img = alpha_img.reduce(f) if alpha_img is not None else None
        grey = levels(grey_img)
        alpha = levels(alpha_img) if alpha_img is not None else None
        if alpha is not None and alpha.min() > 0.99:
            alpha = None  # an opaque alpha channel says nothing (as in decode)
    else:
        grey, alpha = decode(img)  # refuses what is no image before its shape is trusted
        size = img.size if isinstance(img, Image.Image) else (img.shape[1], img.shape[0])
        f = 1 if grey.shape == (size[1], size[0]) else math.ceil(max(size) / WORKING_SIDE)
    return to_ink(grey, alpha), f, size


# --- all together -------------------------------------------------------------------------------------


def segment(image: Any, probabilities: Probabilities) -> Segmentation:
    """A drawing of a number -> its digits' pieces, left to right (none for a blank canvas).

    ``probabilities`` reads framed 28x28 images (``Predictor.probabilities``); it settles what the
    shapes leave open. Raises ``InvalidImage`` for input ``preprocess`` refuses, and for a canvas of
    more than MAX_MARKS separate marks.
    """
    ink, f, size = working_ink(image)
    if ink is None:
        return Segmentation([], size, f)
    labels, marks, line, specks = find_marks(ink)
    if not marks:
        return Segmentation([], size, f, line, specks)
    w, h = size

    def original(g: Group) -> Box:
        return (g.x0 * f, g.y0 * f, min(g.x1 * f, w), min(g.y1 * f, h))

    reader = Reader(ink, labels, probabilities)
    joined = sorted(join_parts(marks, line, reader.distance), key=lambda m: m.centre)
    digits = split(group(joined, line, reader), line, reader)
    answers = reader(digits)
    pieces = []
    for g, p in zip(digits, answers, strict=True):
        key = reader.key(g)
        if reader.framed.get(key) is None:
            continue  # nothing left to read (cannot happen for ink above INK; kept for safety)
        own_ink, work_box, own = piece_ink(ink, reader.owners, g)
        touching = g.cols is not None  # cut out of one mark: its ink was joined to a neighbour's
        pieces.append(Piece(original(g), reader.framed[key], p, work_box, own, own_ink, touching))
    tried = tuple((original(g), int(p.argmax()), float(p.max())) for g, p in reader.groups() if p is not None)
    trace = {
        "marks": tuple(original(m) for m in sorted(marks, key=lambda m: m.centre)),
        "joined": tuple(original(m) for m in joined),
        "tried": tried,
    }
    return Segmentation(pieces, size, f, line, specks, **trace)
