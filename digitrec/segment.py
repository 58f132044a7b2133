"""A drawn number -> one piece of ink per digit, left to right, each framed like a single digit.

    ink -> marks -> specks dropped -> parts joined -> digits chosen by the network -> touching digits cut

1. **ink**: the drawing read as ``preprocess`` reads it (``imageio`` and ``preprocess.to_ink``), at a
   working resolution: the longer side brought near ``WORKING_SIDE`` as for one digit, but a line
   never squeezed below ``MIN_LINE`` pixels tall, so long numbers keep their detail.
2. **marks**: the connected blots of ink (above 0.3, 8-connected, as ``preprocess.drop_specks``).
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
   largest product of confidences, weighed by what is known of digits (``_score``, ``_spread``).
7. **touching digits**: a piece too wide for one digit, or wide and read without confidence, is cut
   at the thinnest columns of its ink; the cut whose pieces the network is surest of stays, when it
   beats the whole by ``SPLIT_PRIOR``.

Each piece goes through ``preprocess.frame``, the very steps a drawing of one digit takes after its
ink is found. ``segment`` needs only a function from framed 28x28 images to probabilities
(``Predictor.probabilities``); ``Predictor.read_number`` turns its pieces into a ``NumberReading``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image
from scipy import ndimage

from digitrec.imageio import WIDE_MODES, WORKING_SIDE, InvalidImage, check_size, decode, levels, load, planes
from digitrec.preprocess import frame, to_ink

Probabilities = Callable[[np.ndarray], np.ndarray]  # (N, 28, 28) framed images -> (N, 10)
Box = tuple[int, int, int, int]  # x0, y0, x1, y1; x1 and y1 exclusive

MIN_LINE = 128  # the working resolution keeps a line of writing at least this many pixels tall
INK = 0.3  # ink above this is a mark's own (as in preprocess.drop_specks); fainter edges join the nearest
# Sizes, in line heights:
SPECK = 0.2  # a mark whose longer side is shorter than this is a speck, never a digit
PART = 0.75  # a mark shorter than this is part of a digit (digits vary by +-10%: 0.82 of the tallest at worst)
MAX_WIDTH = 1.5  # no digit is wider than this (the widest 5% of real 0s, 2s and 5s reach 1.3-1.4)
MAX_GAP = 0.25  # parts of one digit are at most this far apart in x
TALL_GAP = 0.1  # two tall marks are one digit only if their ink nearly meets (a 4 or a 0 in two strokes)
SPLIT_WIDTH = 1.0  # a mark this wide, read with less than WIDE_CONFIDENCE, may be touching digits: it is tried cut
WIDE_CONFIDENCE = 0.999  # a calibrated model can be 99.6% sure of two touching 0s as one
SPLIT_CONFIDENCE = 0.9  # ...and so is one at least half a line wide that the network reads with less confidence
MIN_PIECE = 0.15  # cuts are at least this far from a mark's ends and from each other
CUTS = 12  # at most this many cuts are tried in one mark
NEAR = 0.2  # 90% of real parts lie closer than this to the rest of their digit (a soft limit: _spread)
MAX_GROUP = 3  # a digit is at most this many separate marks
MERGE_PRIOR = 0.05  # two tall marks read as one digit must be this much likelier than apart (they usually are two)
WIDE_SCALE = 0.2  # a digit wider than the line is this much less likely per 0.2 line heights more (Gaussian)
SHORT_PRIOR = 0.01  # a part standing alone as a digit must be read this much surer than joined (it seldom is one)
SPLIT_PRIOR = 0.5  # the pieces of a cut must be read this much surer than the whole (most marks are one digit)
MAX_MARKS = 256  # more marks than this (a page of noise) is refused: it is no number


@dataclass(frozen=True)
class Piece:
    """One digit's ink: where it is and what the network is shown."""

    box: Box  # in the original image's pixels
    framed: np.ndarray = field(repr=False)  # the 28x28 input, through preprocess
    probabilities: np.ndarray | None = field(default=None, repr=False)  # what the network read, when it was asked
    work_box: Box = (0, 0, 0, 0)  # the box at the working resolution
    mask: np.ndarray = field(default=None, repr=False)  # the piece's ink pixels within work_box


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


# --- 2-5. marks, line height, specks, parts --------------------------------------------------------


@dataclass
class _Group:
    """Marks (label ids) read as one, with their box at the working resolution; ``cols`` limits a cut piece."""

    ids: tuple[int, ...]
    x0: int
    y0: int
    x1: int
    y1: int
    cols: tuple[int, int] | None = None

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def centre(self) -> float:
        return (self.x0 + self.x1) / 2

    def __add__(self, other: _Group) -> _Group:
        return _Group(
            self.ids + other.ids,
            min(self.x0, other.x0),
            min(self.y0, other.y0),
            max(self.x1, other.x1),
            max(self.y1, other.y1),
        )


def _marks(ink: np.ndarray) -> tuple[np.ndarray, list[_Group], float, int]:
    """(label image, the marks that are no specks, the line height, how many specks were dropped)."""
    labels, count = ndimage.label(ink > INK, structure=np.ones((3, 3)))
    if count == 0:
        return labels, [], 0.0, 0
    slices = ndimage.find_objects(labels)
    boxes = np.array([(s[1].start, s[0].start, s[1].stop, s[0].stop) for s in slices])
    widths, heights = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    areas = np.bincount(labels.ravel(), minlength=count + 1)[1:]
    big = np.flatnonzero(areas >= 0.1 * areas.max())  # strokes, not dots
    line = _line_height(boxes[big])
    keep = np.flatnonzero(np.maximum(widths, heights) >= SPECK * line)
    if len(keep) > MAX_MARKS:
        raise InvalidImage(
            f"too many separate marks to read as a number ({len(keep):,}; at most {MAX_MARKS}): "
            "write the number alone on the canvas",
            "too_large",
        )
    marks = [_Group((int(i) + 1,), *map(int, boxes[i])) for i in keep]
    return labels, marks, line, count - len(keep)


def _line_height(boxes: np.ndarray) -> float:
    """How tall the writing is: the tallest stroke, or, when taller, the middle height of the columns
    of strokes that meet in x and stand no wider than tall, as one digit does (a 9 whose loop stands
    apart from its stem is as tall as both together; two neighbours side by side are not one column),
    at most twice the tallest stroke (two halves of a broken 8; never a column of dust)."""
    tallest = float((boxes[:, 3] - boxes[:, 1]).max())
    columns: list[list[int]] = []  # [x0, y0, x1, y1] of each column of strokes, left to right
    for x0, y0, x1, y1 in boxes[np.argsort(boxes[:, 0])].tolist():
        if columns and x0 <= columns[-1][2] + 0.1 * tallest:
            c = columns[-1]
            c[1], c[2], c[3] = min(c[1], y0), max(c[2], x1), max(c[3], y1)
        else:
            columns.append([x0, y0, x1, y1])
    heights = [y1 - y0 for x0, y0, x1, y1 in columns if x1 - x0 <= y1 - y0]
    return min(max(tallest, float(np.median(heights))) if heights else tallest, 2 * tallest)


def _join_parts(marks: list[_Group], line: float, distance: _Distances) -> list[_Group]:
    """Each part whose x-extent lies mostly within one other mark's, overlapping no other and
    nearer no other, joins that mark (a 5's flag over its body, a 7's crossbar over its stem, the
    two loops of a broken 8). The rest is left to the network (step 6): a 1's flag tucked under a
    7's bar overlaps the 7 but ends at its own stem."""
    n = len(marks)
    if n < 2:
        return marks
    x0 = np.array([m.x0 for m in marks])
    x1 = np.array([m.x1 for m in marks])
    overlap = np.clip(np.minimum(x1[:, None], x1[None, :]) - np.maximum(x0[:, None], x0[None, :]), 0, None)
    np.fill_diagonal(overlap, 0)
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for p in sorted(range(n), key=lambda i: marks[i].width):
        if marks[p].height >= PART * line:
            continue
        order = np.argsort(overlap[p])[::-1]
        best, second = overlap[p, order[0]], overlap[p, order[1]] if n > 2 else 0
        if best < 0.5 * marks[p].width or second > 0:
            continue
        q = int(order[0])
        near = [r for r in range(n) if r not in (p, q) and _x_gap(marks[p], marks[r]) <= MAX_GAP * line]
        if near and min(distance(marks[p], marks[r]) for r in near) <= distance(marks[p], marks[q]):
            continue
        parent[root(p)] = root(q)
    groups: dict[int, _Group] = {}
    for i in range(n):
        r = root(i)
        groups[r] = groups[r] + marks[i] if r in groups else marks[i]
    return list(groups.values())


def _x_gap(a: _Group, b: _Group) -> int:
    """How far apart two marks are in x (negative when their x-extents overlap)."""
    return max(a.x0, b.x0) - min(a.x1, b.x1)


class _Distances:
    """The shortest distance between two marks' ink, in pixels; each pair measured once."""

    def __init__(self, labels: np.ndarray):
        self.labels = labels
        self.known: dict[tuple, float] = {}

    def __call__(self, a: _Group, b: _Group) -> float:
        key = (a.ids, b.ids) if a.ids <= b.ids else (b.ids, a.ids)
        if key not in self.known:
            x0, y0, x1, y1 = min(a.x0, b.x0), min(a.y0, b.y0), max(a.x1, b.x1), max(a.y1, b.y1)
            region = self.labels[y0:y1, x0:x1]
            in_b = np.isin(region, b.ids)
            self.known[key] = float(ndimage.distance_transform_edt(~np.isin(region, a.ids))[in_b].min())
        return self.known[key]


def _owners(ink: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The label map with the faint edge pixels (0 < ink <= INK) given to the mark within 2 pixels
    of them, as drop_specks keeps a stroke's halo: each piece then takes its antialiased edges along."""
    rows, cols = np.flatnonzero(labels.any(axis=1)), np.flatnonzero(labels.any(axis=0))
    owners = labels.copy()
    if rows.size == 0:
        return owners
    # Only around the marks: most of a canvas is empty.
    y0, y1 = max(rows[0] - 2, 0), rows[-1] + 3
    x0, x1 = max(cols[0] - 2, 0), cols[-1] + 3
    box = labels[y0:y1, x0:x1]
    near = ndimage.maximum_filter(box, size=5)
    owners[y0:y1, x0:x1] = np.where(box > 0, box, np.where(ink[y0:y1, x0:x1] > 0, near, 0))
    return owners


def _piece_ink(ink: np.ndarray, owners: np.ndarray, g: _Group) -> tuple[np.ndarray, Box, np.ndarray]:
    """The piece's ink alone, in its box grown by 2 pixels: (ink, that box, the piece's pixels in it)."""
    h, w = ink.shape
    x0, y0, x1, y1 = max(g.x0 - 2, 0), max(g.y0 - 2, 0), min(g.x1 + 2, w), min(g.y1 + 2, h)
    sub = owners[y0:y1, x0:x1]
    own = sub == g.ids[0] if len(g.ids) == 1 else np.isin(sub, g.ids)
    if g.cols is not None:  # a cut piece: only its columns
        cols = np.arange(x0, x1)
        own &= (cols >= g.cols[0]) & (cols < g.cols[1])
    return np.where(own, ink[y0:y1, x0:x1], np.float32(0)), (x0, y0, x1, y1), own


def _frame(ink: np.ndarray, owners: np.ndarray, g: _Group) -> np.ndarray | None:
    """The piece through ``preprocess.frame``, the very steps a drawing of one digit goes through
    after its ink is found: 28x28, or None if blank."""
    piece, _box, _own = _piece_ink(ink, owners, g)
    return frame(piece)


# --- 6. grouping marks into digits ------------------------------------------------------------------


def _could_be_one(marks: Sequence[_Group], line: float, distance: _Distances) -> bool:
    """Whether neighbouring marks could be one digit: no wider than a digit, parts close to it in x,
    and tall marks (two strokes of a 4, the halves of a broken 0) nearly meeting."""
    if len(marks) == 1:
        return True
    if max(m.x1 for m in marks) - min(m.x0 for m in marks) > MAX_WIDTH * line:
        return False
    reach = None
    for m in sorted(marks, key=lambda m: m.x0):
        if reach is not None and m.x0 - reach > MAX_GAP * line:
            return False
        reach = m.x1 if reach is None else max(reach, m.x1)
    tall = [m for m in marks if m.height >= PART * line]
    near = TALL_GAP * line  # the ink is at least as far apart as the x-extents
    return all(
        any(m is not o and _x_gap(m, o) <= near and distance(m, o) <= near for o in tall) for m in tall if len(tall) > 1
    )


def _best_grouping(candidates: dict[tuple[int, int], float], n: int, longest: int = MAX_GROUP) -> list[tuple[int, int]]:
    """The partition of items 0..n-1 into runs (i, j) (items i to j-1) of at most ``longest`` items
    whose scores (log-probabilities) sum highest: dynamic programming, left to right."""
    best = [0.0] + [-math.inf] * n
    back = [0] * (n + 1)
    for j in range(1, n + 1):
        for i in range(max(0, j - longest), j):
            score = candidates.get((i, j))
            if score is not None and best[i] + score > best[j]:
                best[j], back[j] = best[i] + score, i
    runs, j = [], n
    while j > 0:
        runs.append((back[j], j))
        j = back[j]
    return runs[::-1]


def _log_confidence(p: np.ndarray | None) -> float:
    return -math.inf if p is None else math.log(max(float(p.max()), 1e-12))


def _score(g: _Group, p: np.ndarray | None, line: float) -> float:
    """How likely ``g`` is one digit read right: the network's confidence times what its shape says.

    The network is sure of things that are no digit (half a 0, two digits squeezed into one frame),
    so its confidence is weighed by two facts about digits: they are as tall as the line (a part
    alone is rarely one), and seldom wider than it (the widest 5% of real 0s, 2s and 5s reach 1.3-1.4).
    """
    prior = SHORT_PRIOR if g.height < PART * line else 1.0
    excess = max(g.width / line - 1.0, 0.0)
    return _log_confidence(p) + math.log(prior) - (excess / WIDE_SCALE) ** 2


class _Reader:
    """Frames pieces and reads them in batches, remembering each piece's answer."""

    def __init__(self, ink: np.ndarray, labels: np.ndarray, probabilities: Probabilities):
        self.ink, self.labels, self.probabilities = ink, labels, probabilities
        self.owners = _owners(ink, labels)
        self.distance = _Distances(labels)
        self.framed: dict[tuple, np.ndarray | None] = {}
        self.read: dict[tuple, np.ndarray | None] = {}
        self.seen: dict[tuple, _Group] = {}

    @staticmethod
    def key(g: _Group) -> tuple:
        return (tuple(sorted(g.ids)), g.cols)

    def __call__(self, groups: Sequence[_Group]) -> list[np.ndarray | None]:
        todo = [g for g in groups if self.key(g) not in self.read]
        self.seen.update((self.key(g), g) for g in todo)
        for g in todo:
            self.framed.setdefault(self.key(g), _frame(self.ink, self.owners, g))
        inked = [g for g in todo if self.framed[self.key(g)] is not None]
        if inked:
            probs = self.probabilities(np.stack([self.framed[self.key(g)] for g in inked]))
            for g, p in zip(inked, probs, strict=True):
                self.read[self.key(g)] = p
        for g in todo:
            self.read.setdefault(self.key(g), None)
        return [self.read[self.key(g)] for g in groups]

    def groups(self) -> list[tuple[_Group, np.ndarray | None]]:
        """Every piece read so far, in the order it was first asked for, with its probabilities."""
        return [(g, self.read[key]) for key, g in self.seen.items()]


def _group(marks: list[_Group], line: float, reader: _Reader) -> list[_Group]:
    """Marks (in x order) -> digits: the grouping of neighbours the network is surest of."""
    n = len(marks)
    runs = [(i, j) for i in range(n) for j in range(i + 1, min(n, i + MAX_GROUP) + 1)]
    runs = [(i, j) for i, j in runs if j - i == 1 or _could_be_one(marks[i:j], line, reader.distance)]
    if all(j - i == 1 for i, j in runs):  # nothing to choose: every mark is a digit
        return marks
    merged = {(i, j): sum(marks[i:j][1:], marks[i]) for i, j in runs}
    answers = reader(list(merged.values()))
    scores = {}
    for (i, j), p in zip(merged, answers, strict=True):
        tall = sum(m.height >= PART * line for m in marks[i:j])
        scores[(i, j)] = (
            _score(merged[(i, j)], p, line)
            + max(tall - 1, 0) * math.log(MERGE_PRIOR)
            - _spread(marks[i:j], line, reader.distance)
        )
    return [merged[run] for run in _best_grouping(scores, n)]


def _spread(marks: Sequence[_Group], line: float, distance: _Distances) -> float:
    """How far a group's marks lie from each other, as a penalty: the parts of one digit nearly meet
    (a 5's flag starts where its body does), so each mark's distance to the nearest other counts,
    in units of NEAR line heights, squared. A 1's flag under a 7's bar goes with the 1's stem."""
    if len(marks) == 1:
        return 0.0
    total = 0.0
    for m in marks:
        nearest = min(distance(m, o) for o in marks if o is not m)
        total += (nearest / (NEAR * line)) ** 2
    return total


# --- 7. cutting touching digits ---------------------------------------------------------------------


def _cut_columns(own: np.ndarray, x0: int, g: _Group, line: float) -> list[int]:
    """Columns where the piece's ink is thinnest (local minima of its column profile), away from its
    ends and from each other: as many as could separate the digits it might hold, and a few more."""
    profile = np.convolve(own.sum(axis=0).astype(np.float32), np.ones(3, np.float32) / 3, mode="same")
    margin = max(int(MIN_PIECE * line), 1)
    lo, hi = g.x0 - x0 + margin, g.x1 - x0 - margin
    if hi <= lo:
        return []
    inner = profile[lo - 1 : hi + 1]
    minima = np.flatnonzero((inner[1:-1] <= inner[:-2]) & (inner[1:-1] <= inner[2:])) + lo
    wanted = min(2 * math.ceil(g.width / (0.7 * line)) + 1, CUTS)
    chosen: list[int] = []
    for c in minima[np.argsort(profile[minima], kind="stable")]:
        if all(abs(c - d) >= margin for d in chosen):
            chosen.append(int(c))
        if len(chosen) == wanted:
            break
    return sorted(c + x0 for c in chosen)


def _between(g: _Group, labels: np.ndarray, lo: int, hi: int) -> _Group | None:
    """The part of ``g`` between columns ``lo`` and ``hi``, its box shrunk to its ink (None if no ink)."""
    sub = labels[g.y0 : g.y1, lo:hi]
    own = np.isin(sub, g.ids)
    rows, cols = np.flatnonzero(own.any(axis=1)), np.flatnonzero(own.any(axis=0))
    if rows.size == 0:
        return None
    return _Group(
        g.ids, lo + int(cols[0]), g.y0 + int(rows[0]), lo + int(cols[-1]) + 1, g.y0 + int(rows[-1]) + 1, (lo, hi)
    )


def _suspect(g: _Group, p: np.ndarray | None, line: float) -> bool:
    """Whether a piece may be touching digits: too wide for one, or wide and read without confidence."""
    confidence = 0.0 if p is None else float(p.max())
    return (
        g.width > MAX_WIDTH * line
        or (g.width >= SPLIT_WIDTH * line and confidence < WIDE_CONFIDENCE)
        or (g.width >= 0.5 * line and confidence < SPLIT_CONFIDENCE)
    )


def _split(digits: list[_Group], line: float, reader: _Reader) -> list[_Group]:
    """Cut pieces that look like touching digits at their thinnest columns, into the pieces (the
    whole among them) the network is surest of; a single mark only, once."""
    out: list[_Group] = []
    plans = []
    for g, p in zip(digits, reader(digits), strict=True):
        if len(g.ids) != 1 or g.cols is not None or not _suspect(g, p, line):
            plans.append(None)
            continue
        _piece, (x0, _y0, _x1, _y1), own = _piece_ink(reader.ink, reader.owners, g)
        bounds = [g.x0, *_cut_columns(own, x0, g, line), g.x1]
        runs = {}
        for i in range(len(bounds) - 1):
            for j in range(i + 1, len(bounds)):
                if bounds[j] - bounds[i] > MAX_WIDTH * line:
                    break
                piece = g if (i, j) == (0, len(bounds) - 1) else _between(g, reader.labels, bounds[i], bounds[j])
                if piece is not None and piece.height >= PART * line:  # touching digits are as tall as any
                    runs[(i, j)] = piece
        plans.append((bounds, runs))
    reader([piece for plan in plans if plan for piece in plan[1].values()])  # one batch for every piece tried
    for g, plan in zip(digits, plans, strict=True):
        if plan is None:
            out.append(g)
            continue
        bounds, runs = plan
        answers = reader(list(runs.values()))
        whole = (0, len(bounds) - 1)
        scores = {run: _score(runs[run], p, line) for run, p in zip(runs, answers, strict=True)}
        if whole in scores:
            scores[whole] -= math.log(SPLIT_PRIOR)  # most marks are one digit: cuts must earn their place
        chosen = _best_grouping(scores, len(bounds) - 1, len(bounds) - 1)
        if any(math.isinf(scores.get(run, -math.inf)) for run in chosen):
            out.append(g)  # no way to cut it into digit-sized pieces: leave it whole
        else:
            out += [runs[run] for run in chosen]
    return out


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
    labels, marks, line, specks = _marks(ink)
    if not marks:
        return Segmentation([], size, f, line, specks)
    w, h = size

    def original(g: _Group) -> Box:
        return (g.x0 * f, g.y0 * f, min(g.x1 * f, w), min(g.y1 * f, h))

    reader = _Reader(ink, labels, probabilities)
    joined = sorted(_join_parts(marks, line, reader.distance), key=lambda m: m.centre)
    digits = _split(_group(joined, line, reader), line, reader)
    answers = reader(digits)
    pieces = []
    for g, p in zip(digits, answers, strict=True):
        key = reader.key(g)
        if reader.framed.get(key) is None:
            continue  # nothing left to read (cannot happen for ink above INK; kept for safety)
        _piece, work_box, own = _piece_ink(ink, reader.owners, g)
        pieces.append(Piece(original(g), reader.framed[key], p, work_box, own))
    tried = tuple((original(g), int(p.argmax()), float(p.max())) for g, p in reader.groups() if p is not None)
    trace = {
        "marks": tuple(original(m) for m in sorted(marks, key=lambda m: m.centre)),
        "joined": tuple(original(m) for m in joined),
        "tried": tried,
    }
    return Segmentation(pieces, size, f, line, specks, **trace)
