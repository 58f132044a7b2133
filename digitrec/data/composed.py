"""Whole numbers written by one real hand: several of a writer's digits side by side, as a canvas.

``compose`` lays out pen strokes of single digits (``digitrec.data.handwriting``) the way a person
writes a number: each digit a little taller or shorter (height +-10%), on a baseline that slopes
and drifts, with gaps from nothing to a digit's width, and now and then two digits whose x-extents
overlap without their ink touching (a 1 tucked under a 7's bar, a 4's arm under a 7). It draws the
whole number through the one stroke renderer (``digitrec.data.strokes``) and returns the picture with
the truth: the text, each digit's box and each digit's own ink, so a segmentation can be judged
pixel by pixel (``digitrec.evaluate.judge``). ``touching=True`` pushes neighbours into each other until their ink
overlaps, as a "00" written in one go.

``deal`` deals numbers from held-out writers, one writer per number, by a fixed rule; the tests,
``scripts/number_accuracy.py``, the benchmark and notebook 6 all draw their numbers here.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from digitrec.data.handwriting import Sample
from digitrec.data.strokes import Strokes, bounds, ink_map, look_of, place
from digitrec.ink import ink_box
from digitrec.preprocess import NUMBER_CANVAS

HEIGHT = 64  # a digit's height in canvas pixels: a number on an 840x280 canvas, written at a third of its height
PEN_PX = 5.0  # the pen: 7% of a digit's height, as on the single-digit canvases (12 px for a 168 px digit)
HEIGHT_JITTER = 0.10  # each digit's height: +-10%
MAX_ASPECT = 1.5  # a digit wider than this many heights is drawn smaller: a few samples are stretched scribbles
SLOPE = 0.12  # the baseline's slope, up to +-0.12 (7 degrees) uphill or downhill
DRIFT = 0.04  # ...and its drift from one digit to the next, in heights (standard deviation)
OVERLAP = 0.25  # the share of neighbours whose x-extents overlap without touching...
MAX_OVERLAP = 0.4  # ...by up to this share of the narrower one's width: the order stays plain
CLEARANCE = 2  # untouching ink is this many pixels apart at least (the antialiased edges included)
INK = 0.3 * 255  # what counts as ink, as for digitrec.segment: the same threshold as ink.drop_specks
SPECK = 0.2  # a blot smaller than this share of a digit's height is a stray dot, not ink of the digit
MIN_DIGITS = 10  # writers with fewer digits than this are left out (two UNIPEN contributors wrote 3)

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in canvas pixels, x1 and y1 exclusive


@dataclass(frozen=True)
class ComposedNumber:
    """A number drawn on a canvas, with the truth about every digit."""

    image: np.ndarray  # the canvas as a front end sends it (RGB, or RGBA for the "transparent" look)
    text: str  # "2026"
    boxes: tuple[Box, ...]  # each digit's ink box, left to right
    masks: np.ndarray  # (digits, H, W) bool: each digit's own ink (above the ink threshold), drawn alone
    writer: str = ""
    touching: bool = False

    @property
    def owner(self) -> np.ndarray:
        """(H, W) int: the digit (1-based) whose ink each pixel is, 0 where none or several are."""
        count = self.masks.sum(axis=0)
        first = self.masks.argmax(axis=0) + 1
        return np.where(count == 1, first, 0)


def _draw(strokes: Strokes, size: tuple[int, int], pen_px: float) -> np.ndarray:
    """Strokes already in canvas coordinates, drawn where they are: their box is their own bounds."""
    lo, hi = bounds(strokes)
    return ink_map(strokes, size, box=(lo[0], lo[1], hi[0], hi[1]), pen_px=pen_px)


def _shape(strokes: Strokes, height: float, pen_px: float) -> tuple[list[np.ndarray], np.ndarray]:
    """The digit scaled to ``height`` (narrowed to MAX_ASPECT), drawn alone on a tight canvas:
    (strokes in that canvas's coordinates, its uint8 ink)."""
    lo, hi = bounds(strokes)
    aspect = min(float(hi[0] - lo[0]) / max(float(hi[1] - lo[1]), 1e-6), MAX_ASPECT)
    pad = int(np.ceil(pen_px)) + CLEARANCE
    w, h = max(aspect * height, 1.0), height
    placed = place(strokes, (pad, pad, pad + w, pad + h))
    size = (int(np.ceil(w)) + 2 * pad, int(np.ceil(h)) + 2 * pad)
    return placed, _draw(placed, size, pen_px)


def _ink_columns(ink: np.ndarray) -> tuple[int, int]:
    x0, _, x1, _ = ink_box(ink)
    return x0, x1


def _contact(near: np.ndarray, digit: np.ndarray, top: int, x: int) -> bool:
    """Whether ``digit``'s ink, with its top-left corner at (x, top), falls on ``near``."""
    h, w = digit.shape
    return bool((near[top : top + h, x : x + w] & digit).any())


def _closest(prev: np.ndarray, digit: np.ndarray, top: int, start: int) -> int:
    """The leftmost x, moving left from ``start`` (a free spot), at which ``digit`` (uint8 ink)
    still keeps CLEARANCE pixels from ``prev``'s ink: x-extents may overlap, ink may not touch."""
    near = ndimage.binary_dilation(prev > 0, iterations=CLEARANCE + 1)
    mine = digit > 0
    x = start
    while x > 0 and not _contact(near, mine, top, x - 1):
        x -= 1
    return x


def _touch(prev: np.ndarray, digit: np.ndarray, top: int, start: int, pen_px: float) -> int:
    """An x, moving left from ``start``, at which ``digit``'s ink runs into ``prev``'s (at the ink
    threshold: one connected mark), then half a pen further."""
    near = ndimage.binary_dilation(prev > INK)
    mine = digit > INK
    x = start
    while x > 0 and not _contact(near, mine, top, x):
        x -= 1
    return max(x - int(np.ceil(pen_px / 4)), 0)


def _without_specks(mask: np.ndarray, height: float) -> np.ndarray:
    """A digit's ink without its stray dots (blots under a fifth of a digit's height a side): a few
    samples hold a pen tap far from the digit, which is no part of it (and no reader keeps it)."""
    labels, count = ndimage.label(mask, structure=np.ones((3, 3)))
    if count <= 1:
        return mask
    keep = np.zeros(count + 1, bool)
    for i, (rows, cols) in enumerate(ndimage.find_objects(labels), start=1):
        keep[i] = max(rows.stop - rows.start, cols.stop - cols.start) >= SPECK * height
    return keep[labels]


def compose(
    digits: Sequence[Strokes],
    rng: np.random.Generator,
    *,
    text: str = "",
    height: float = HEIGHT,
    pen_px: float = PEN_PX,
    touching: bool = False,
    slope: float | None = None,
    look: str = "dark_on_light",
    writer: str = "",
) -> ComposedNumber:
    """Digits (each a list of strokes) written left to right with a person's jitter (module docstring).

    ``touching`` pushes each digit into the one before until their ink overlaps; ``slope`` fixes the
    baseline's rise per pixel (negative: uphill, as y grows downwards) instead of a random one.
    """
    heights = height * rng.uniform(1 - HEIGHT_JITTER, 1 + HEIGHT_JITTER, len(digits))
    shapes = [_shape(s, h, pen_px) for s, h in zip(digits, heights, strict=True)]
    columns = [_ink_columns(ink) for _, ink in shapes]
    mean_width = float(np.mean([right - left for left, right in columns]))
    slope = rng.uniform(-SLOPE, SLOPE) if slope is None else slope
    margin = int(height * 0.5)
    # Room for every gap, the slope and the drift; the canvas is cropped to the ink plus the margin at the end.
    width = int(sum(ink.shape[1] for _, ink in shapes) + mean_width * len(digits)) + 2 * margin
    rise = abs(slope) * width + height * (1 + HEIGHT_JITTER + 6 * DRIFT * np.sqrt(len(digits)))
    room = int(rise) + 2 * margin
    canvas_ink = np.zeros((2 * room, width), np.uint8)
    baseline, right, last_width = float(room), margin, 0
    offsets = []
    for i, ((_, ink), (left, ink_right)) in enumerate(zip(shapes, columns, strict=True)):
        h, w = ink.shape
        flush = right - left  # where this digit's ink starts where the last one's ended
        top = int(round(baseline + slope * (flush - margin) - h))  # the baseline at this digit
        x = flush
        if i > 0:
            start = flush + CLEARANCE + 2  # ink columns apart by more than the clearance: free
            if touching:
                x = _touch(canvas_ink, ink, top, start, pen_px)
            else:
                free = _closest(canvas_ink, ink, top, start)
                # x-extents overlap, the ink does not touch, by at most MAX_OVERLAP of the narrower digit
                deepest = max(free, flush - int(MAX_OVERLAP * min(ink_right - left, last_width)))
                if rng.random() < OVERLAP and deepest < flush:
                    x = int(rng.integers(deepest, flush + 1))
                else:
                    x = max(flush + int(round(rng.uniform(0, mean_width))), free)  # a gap up to a digit's width
        region = canvas_ink[top : top + h, x : x + w]
        np.maximum(region, ink, out=region)
        offsets.append((x, top))
        right, last_width = max(right, x + ink_right), ink_right - left
        baseline += rng.normal(0, DRIFT * height)
    # Crop to the ink plus the margin, then draw the whole number at once, as a canvas would.
    left, top, right, bottom = ink_box(canvas_ink)
    y0, x0 = max(top - margin, 0), max(left - margin, 0)
    size = (right + margin - x0, bottom + margin - y0)
    strokes, masks, boxes = [], [], []
    for (placed, _), (ox, oy) in zip(shapes, offsets, strict=True):
        moved = [s + (ox - x0, oy - y0) for s in placed]
        strokes += moved
        alone = _draw(moved, size, pen_px)
        masks.append(_without_specks(alone > INK, height))
        boxes.append(ink_box(alone))
    image = look_of(_draw(strokes, size, pen_px), look)
    return ComposedNumber(image, text, tuple(boxes), np.stack(masks), writer, touching)


def by_writer(samples: Sequence[Sample]) -> dict[str, list[Sample]]:
    """The writers with at least MIN_DIGITS digits, each with their samples, in a stable order."""
    groups: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        groups[s.writer].append(s)
    return {w: groups[w] for w in sorted(groups) if len(groups[w]) >= MIN_DIGITS}


def deal(samples: Sequence[Sample], length: int, count: int, seed: int = 0, **options) -> Iterator[ComposedNumber]:
    """``count`` numbers of ``length`` digits: for each, a writer at random (every writer as likely),
    then that writer's own digits at random (never the same sample twice in one number)."""
    writers = by_writer(samples)
    names = list(writers)
    rng = np.random.default_rng(seed)
    for _ in range(count):
        writer = names[int(rng.integers(len(names)))]
        own = writers[writer]
        chosen = [own[i] for i in rng.choice(len(own), size=length, replace=len(own) < length)]
        text = "".join(str(s.label) for s in chosen)
        yield compose([s.strokes for s in chosen], rng, text=text, writer=writer, **options)


def on_canvas(number: ComposedNumber, size: tuple[int, int] = NUMBER_CANVAS) -> ComposedNumber:
    """The number in the middle of a canvas of ``size`` (width, height), as a front end's wide pad
    sends it; boxes and masks move along. Raises ``ValueError`` when the ink does not fit."""
    w, h = size
    x0, y0, x1, y1 = ink_box(number.masks.any(axis=0))
    ink_h, ink_w = y1 - y0, x1 - x0
    if ink_w > w or ink_h > h:
        raise ValueError(f"a {ink_w}x{ink_h} number does not fit a {w}x{h} canvas")
    dy, dx = (h - ink_h) // 2 - y0, (w - ink_w) // 2 - x0
    image = np.zeros((h, w, number.image.shape[2]), np.uint8)
    if number.image.shape[2] == 3:
        image[:] = number.image[0, 0]  # the background of the look
    masks = np.zeros((len(number.masks), h, w), bool)
    src = (
        slice(max(-dy, 0), min(number.image.shape[0], h - dy)),
        slice(max(-dx, 0), min(number.image.shape[1], w - dx)),
    )
    dst = (slice(src[0].start + dy, src[0].stop + dy), slice(src[1].start + dx, src[1].stop + dx))
    image[dst] = number.image[src]
    masks[:, dst[0], dst[1]] = number.masks[:, src[0], src[1]]
    boxes = tuple((x0 + dx, y0 + dy, x1 + dx, y1 + dy) for x0, y0, x1, y1 in number.boxes)
    return dataclasses.replace(number, image=image, boxes=boxes, masks=masks)
