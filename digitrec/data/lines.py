"""Numbers on a line for the learned reader: to train it, and to measure it on fixed settings.

``compose_line`` writes digits left to right as ``digitrec.data.composed.compose`` does (one
writer's real strokes through the one renderer, heights that vary, a baseline that slopes and
drifts), but places each digit by a gap measured from the previous digit's ink box, in digit
heights, so the spacing runs from well apart through touching to crossing: a negative gap starts the
digit inside its neighbour's box, never deeper than ``max_overlap`` of the narrower digit's width.
A ``LineStyle`` holds every such setting:

- ``TRAINING``: what the reader learns from: 1 to 12 digits, every spacing mode (apart, close,
  just touching, crossing by up to a third of a digit's width), mixed within a number, sizes,
  slopes, pen widths, every canvas look, the writer's hand varied on the vectors (``augment``,
  which also lifts a stroke a little apart, as a 5's flag or a 7's bar), MNIST digits now and then;
- ``JUST_TOUCHING``: the measurement, fixed before any training: each digit starting 2-12% of the
  height inside the previous one's box, at ``composed``'s sizes and pen;
- ``APART``: the measurement with digits apart (gaps up to a digit's height);
- ``BEYOND``: the measurement beyond the training range: each digit starting 40-50% of the height
  inside the previous box, by up to two thirds of the narrower digit's width (``TRAINING`` stops at
  40% of the height and a third of the width), to see how the reader fails past what it learned.

``deal_lines`` deals numbers from given writers (pass the TRAINING writers' samples to train, the
validation writers' to choose a recipe, the test writers' only to report).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from digitrec.data.composed import HEIGHT, INK, PEN_PX, ComposedNumber, by_writer
from digitrec.data.handwriting import Sample
from digitrec.data.strokes import LOOKS, Strokes, augment, ink_map, look_of
from digitrec.ink import ink_box

Range = tuple[float, float]


@dataclass(frozen=True)
class LineStyle:
    """How numbers are written: every range is drawn uniformly (pen widths log-uniformly)."""

    gaps: tuple[Range, ...]  # spacing modes: each a gap range in digit heights (negative: inside the previous box)
    mixed: float = 0.0  # the chance that a pair of neighbours takes another mode than the number's
    max_overlap: float = 1 / 3  # a digit starts at most this share of the narrower one's width inside the other
    lengths: tuple[int, int] = (1, 12)
    height: Range = (HEIGHT, HEIGHT)  # a digit's height in canvas pixels, per number
    height_jitter: float = 0.10  # each digit's height: +- this share
    slope: float = 0.12  # the baseline's rise per pixel, up to +- this
    drift: float = 0.04  # ...and its drift from one digit to the next, in heights (standard deviation)
    pen: Range = (PEN_PX / HEIGHT, PEN_PX / HEIGHT)  # the pen's width, a share of the digit height
    looks: tuple[str, ...] = ("dark_on_light",)
    augment: Range = (0.0, 0.0)  # strength of ``strokes.augment`` on each digit (0: the writer's own strokes)
    mnist: float = 0.0  # the share of numbers made of MNIST digits instead of a writer's


TRAINING = LineStyle(
    gaps=((0.05, 1.0), (-0.02, 0.12), (-0.12, -0.02), (-0.4, -0.1)),
    mixed=0.2,
    height=(28.0, 80.0),
    height_jitter=0.15,
    slope=0.15,
    drift=0.05,
    pen=(0.04, 0.2),
    looks=LOOKS,
    augment=(0.2, 1.0),
    mnist=0.1,
)
# The measurement's settings: never tune these to a model, or the figures stop meaning anything.
JUST_TOUCHING = LineStyle(gaps=((-0.12, -0.02),), max_overlap=0.5)
APART = LineStyle(gaps=((0.1, 1.0),))
BEYOND = LineStyle(gaps=((-0.5, -0.4),), max_overlap=2 / 3)

Glyph = tuple[np.ndarray, tuple[int, int, int, int]]  # uint8 ink, white on black, and its ink box


def stroke_glyph(strokes: Strokes, height: float, pen_px: float) -> Glyph:
    """A digit's strokes drawn ``height`` pixels tall (aspect kept, at most 1.5 heights wide) on a
    tight canvas: (its ink, the ink's box)."""
    pts = np.vstack(strokes)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    width = min(float(hi[0] - lo[0]) / max(float(hi[1] - lo[1]), 1e-6), 1.5) * height
    pad = int(np.ceil(pen_px)) + 1
    size = (int(np.ceil(max(width, 1.0))) + 2 * pad, int(np.ceil(height)) + 2 * pad)
    ink = ink_map(strokes, size, box=(pad, pad, pad + max(width, 1.0), pad + height), pen_px=pen_px)
    return ink, ink_box(ink) or (0, 0, 1, 1)


def image_glyph(image: np.ndarray, height: float) -> Glyph:
    """A scanned digit (uint8, white on black, e.g. MNIST's 28x28) scaled so its ink is ``height`` tall."""
    x0, y0, x1, y1 = ink_box(image > 0) or (0, 0, image.shape[1], image.shape[0])
    k = height / (y1 - y0)
    size = (max(1, int(round((x1 - x0) * k))), max(1, int(round(height))))
    ink = np.pad(np.asarray(Image.fromarray(image[y0:y1, x0:x1]).resize(size, Image.BILINEAR)), 1)
    return ink, ink_box(ink) or (0, 0, 1, 1)


def _gap(style: LineStyle, mode: int, rng: np.random.Generator) -> float:
    if len(style.gaps) > 1 and rng.random() < style.mixed:
        mode = int(rng.integers(len(style.gaps)))
    return float(rng.uniform(*style.gaps[mode]))


def compose_line(
    glyphs: Sequence[Glyph], rng: np.random.Generator, style: LineStyle, height: float, *, text: str = "",
    look: str = "dark_on_light", writer: str = "", truth: bool = True,
) -> ComposedNumber:  # fmt: skip
    """Digits already drawn (``stroke_glyph``, ``image_glyph``) laid out on a line as ``style`` says,
    on a canvas cropped to the ink plus half a height, in ``look``. ``truth``: each digit's mask
    and box (for judging a segmentation); without it ``masks`` is empty and ``boxes`` still right."""
    mode = int(rng.integers(len(style.gaps)))
    slope = rng.uniform(-style.slope, style.slope)
    placed, baseline, right, last_width = [], 0.0, 0.0, 0.0
    for i, (_ink, (left, _t, r, b)) in enumerate(glyphs):
        width = r - left
        x = 0.0
        if i:
            gap = _gap(style, mode, rng) * height
            x = right + max(gap, -style.max_overlap * min(width, last_width))
        y = baseline + slope * x
        placed.append((int(round(x)) - left, int(round(y)) - b))  # the glyph's corner: its ink box at (x, y - height)
        right, last_width = x + width, width
        baseline += rng.normal(0, style.drift * height)
    margin = int(height * 0.5)
    x_min = min(px for px, _ in placed)
    y_min = min(py for _, py in placed)
    x_max = max(px + ink.shape[1] for (px, _), (ink, _) in zip(placed, glyphs, strict=True))
    y_max = max(py + ink.shape[0] for (_, py), (ink, _) in zip(placed, glyphs, strict=True))
    canvas = np.zeros((y_max - y_min + 2 * margin, x_max - x_min + 2 * margin), np.uint8)
    masks, boxes = [], []
    for (px, py), (ink, (left, t, r, b)) in zip(placed, glyphs, strict=True):
        x0, y0 = px - x_min + margin, py - y_min + margin
        region = canvas[y0 : y0 + ink.shape[0], x0 : x0 + ink.shape[1]]
        np.maximum(region, ink, out=region)
        boxes.append((x0 + left, y0 + t, x0 + r, y0 + b))
        if truth:
            mask = np.zeros(canvas.shape, bool)
            mask[y0 : y0 + ink.shape[0], x0 : x0 + ink.shape[1]] = ink > INK
            masks.append(mask)
    masks_array = np.stack(masks) if masks else np.zeros((0, *canvas.shape), bool)
    touching = any(b[0] < a[2] for a, b in zip(boxes, boxes[1:], strict=False))
    return ComposedNumber(look_of(canvas, look), text, tuple(boxes), masks_array, writer, touching)


def deal_lines(
    samples: Sequence[Sample], count: int, seed: int | tuple[int, ...] = 0, style: LineStyle = JUST_TOUCHING,
    length: int | None = None, mnist: tuple[np.ndarray, np.ndarray] | None = None, truth: bool = True,
) -> Iterator[ComposedNumber]:  # fmt: skip
    """``count`` numbers, each by one writer drawn at random (every writer as likely) from ``samples``
    (or, for ``style.mnist`` of them, MNIST digits from ``mnist`` = (images, labels)), ``length``
    digits (default: drawn from ``style.lengths``), written as ``style`` says. The same arguments
    deal the same numbers."""
    writers = by_writer(samples)
    names = list(writers)
    rng = np.random.default_rng(seed)
    for _ in range(count):
        n = length or int(rng.integers(style.lengths[0], style.lengths[1] + 1))
        height = float(rng.uniform(*style.height))
        heights = height * rng.uniform(1 - style.height_jitter, 1 + style.height_jitter, n)
        pen = float(np.exp(rng.uniform(*np.log(style.pen)))) * height
        look = style.looks[int(rng.integers(len(style.looks)))]
        if mnist is not None and rng.random() < style.mnist:
            images, labels = mnist
            chosen = rng.integers(len(images), size=n)
            text, writer = "".join(str(int(labels[i])) for i in chosen), "mnist"
            glyphs = [image_glyph(images[i], h) for i, h in zip(chosen, heights, strict=True)]
        else:
            writer = names[int(rng.integers(len(names)))]
            own = writers[writer]
            chosen = [own[i] for i in rng.choice(len(own), size=n, replace=len(own) < n)]
            text = "".join(str(s.label) for s in chosen)
            glyphs = []
            for s, h in zip(chosen, heights, strict=True):
                strength = rng.uniform(*style.augment)
                strokes = augment(s.strokes, rng, strength) if strength > 0 else s.strokes
                glyphs.append(stroke_glyph(strokes, h, pen))
        yield compose_line(glyphs, rng, style, height, text=text, look=look, writer=writer, truth=truth)
