"""The one stroke renderer: pen strokes -> the picture a front end's canvas would send.

A digit is a list of strokes, each an (n, 2) array of (x, y) points, y growing downwards, with
the pen lifted between strokes. ``render`` fits the digit's bounding box into a box on a canvas
of any size (aspect kept), draws every stroke with a round pen of a given width in canvas pixels,
antialiased as a browser canvas draws it, and delivers it in one of the canvas looks, ``LOOKS`` (dark on light,
light on dark, ink in alpha, grey background).

Real handwriting (``digitrec.data.handwriting``), the synthetic drawings (``digitrec.data.synth``),
evaluation, tests and notebooks all draw through here. ``augment`` varies a writer's hand on the
vectors themselves, before any pixel exists: slant, rotation, proportions, point jitter, a
little per-stroke offset and resampling of the points.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from digitrec.preprocess import CANVAS

Strokes = Sequence[np.ndarray]
Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in canvas pixels
SUPERSAMPLE = 2  # draw at twice the size, then area-average: a browser canvas's antialiasing
# How front ends deliver a drawing: dark ink on white, light ink on black, ink only in the alpha
# channel of a transparent layer, light ink on the dark theme's grey.
LOOKS = ("dark_on_light", "light_on_dark", "transparent", "grey_background")


def bounds(strokes: Strokes) -> tuple[np.ndarray, np.ndarray]:
    """The (x, y) minimum and maximum over every point."""
    pts = np.vstack(strokes)
    return pts.min(axis=0), pts.max(axis=0)


def centred_box(canvas: tuple[int, int], scale: float = 0.6) -> Box:
    """A square box of ``scale`` times the canvas's shorter side, in its middle."""
    w, h = canvas
    side = scale * min(w, h)
    return ((w - side) / 2, (h - side) / 2, (w + side) / 2, (h + side) / 2)


def random_box(canvas: tuple[int, int], rng: np.random.Generator, scale: tuple[float, float] = (0.3, 0.9)) -> Box:
    """A square box of a random share of the canvas, anywhere on it."""
    w, h = canvas
    side = rng.uniform(*scale) * min(w, h)
    x0, y0 = rng.uniform(0, w - side), rng.uniform(0, h - side)
    return (x0, y0, x0 + side, y0 + side)


def place(strokes: Strokes, box: Box) -> list[np.ndarray]:
    """Scale and move the strokes so their bounding box fits ``box`` (aspect kept), centred in it."""
    lo, hi = bounds(strokes)
    size = np.maximum(hi - lo, 1e-6)
    x0, y0, x1, y1 = box
    k = min((x1 - x0) / size[0], (y1 - y0) / size[1])
    offset = np.array([(x0 + x1) / 2, (y0 + y1) / 2]) - k * (lo + hi) / 2
    return [np.asarray(s, dtype=np.float64) * k + offset for s in strokes]


def ink_map(
    strokes: Strokes,
    canvas: int | tuple[int, int] = CANVAS,
    box: Box | None = None,
    pen_px: float = 12.0,
    supersample: int = SUPERSAMPLE,
) -> np.ndarray:
    """Strokes drawn on a (height, width) uint8 canvas, white ink on black (255 = full coverage).

    ``box`` defaults to ``centred_box``; ``pen_px`` is the pen's diameter in canvas pixels.
    """
    size = (canvas, canvas) if isinstance(canvas, int) else tuple(canvas)
    placed = place(strokes, box or centred_box(size))
    k = supersample
    img = Image.new("L", (size[0] * k, size[1] * k), 0)
    draw = ImageDraw.Draw(img)
    width = max(1, int(round(pen_px * k)))
    r = width / 2
    for stroke in placed:
        xy = [(float(x * k), float(y * k)) for x, y in stroke]
        if len(xy) > 1:
            draw.line(xy, fill=255, width=width, joint="curve")
        for x, y in (xy[0], xy[-1]):  # round caps, and a dot for a stroke of one point
            draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    if k > 1:
        img = img.resize(size, Image.BOX)
    return np.asarray(img)


def render(
    strokes: Strokes,
    canvas: int | tuple[int, int] = CANVAS,
    box: Box | None = None,
    pen_px: float = 12.0,
    look: str = "dark_on_light",
) -> np.ndarray:
    """Strokes as a front end's canvas sends them: RGB (or RGBA for ``"transparent"``) uint8."""
    return look_of(ink_map(strokes, canvas, box, pen_px), look)


def look_of(ink: np.ndarray, how: str = "dark_on_light") -> np.ndarray:
    """An ink map (uint8, white on black) as a front end would send it: RGB or RGBA uint8."""
    a = ink.astype(np.float32) / 255.0
    if how == "dark_on_light":
        grey = 255.0 * (1.0 - a)
    elif how == "light_on_dark":
        grey = 255.0 * a
    elif how == "grey_background":
        grey = 45.0 + (240.0 - 45.0) * a  # Gradio's dark theme: near-white pen on dark grey
    elif how == "transparent":
        rgba = np.zeros(ink.shape + (4,), dtype=np.uint8)  # black, fully transparent...
        rgba[..., 3] = ink  # ...with the black pen's coverage in alpha only
        return rgba
    else:
        raise ValueError(f"unknown canvas look {how!r}; one of {', '.join(LOOKS)}")
    g = np.clip(grey, 0, 255).astype(np.uint8)
    return np.stack([g, g, g], axis=-1)


# --- augmentation: a writer's variations, on the vectors --------------------------------------


def resample(stroke: np.ndarray, spacing: float) -> np.ndarray:
    """Points evenly ``spacing`` apart along the stroke (its ends kept)."""
    steps = np.r_[0.0, np.cumsum(np.hypot(*np.diff(stroke, axis=0).T))]
    if len(stroke) < 2 or steps[-1] <= spacing:
        return stroke
    at = np.linspace(0.0, steps[-1], int(steps[-1] / spacing) + 1)
    return np.column_stack([np.interp(at, steps, stroke[:, 0]), np.interp(at, steps, stroke[:, 1])])


def augment(strokes: Strokes, rng: np.random.Generator, strength: float = 1.0) -> list[np.ndarray]:
    """One plausible re-writing of the same digit by the same hand.

    Coordinates are first scaled so the digit is 1 tall; then slant (shear), rotation and aspect
    change the whole, each stroke moves a little on its own (where the pen came down again), the
    points are resampled and jittered. ``strength`` scales every variation (0: none).
    """
    lo, hi = bounds(strokes)
    height = max(float(hi[1] - lo[1]), float(hi[0] - lo[0]) * 0.5, 1e-6)
    centre = (lo + hi) / 2
    s = strength
    shear = rng.uniform(-0.3, 0.3) * s
    angle = np.radians(rng.uniform(-10, 10) * s)
    aspect = np.exp(rng.uniform(-0.2, 0.2) * s)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    spacing = rng.uniform(0.02, 0.06)
    out = []
    for stroke in strokes:
        pts = (np.asarray(stroke, dtype=np.float64) - centre) / height
        pts = np.column_stack([aspect * (pts[:, 0] - shear * pts[:, 1]), pts[:, 1]]) @ rot.T
        if len(strokes) > 1:
            pts = pts + rng.normal(0.0, 0.025 * s, 2)
        pts = resample(pts, spacing)
        pts = pts + rng.normal(0.0, 0.006 * s, pts.shape)
        out.append(pts)
    return out
