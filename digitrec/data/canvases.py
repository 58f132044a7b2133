"""Canvas drawings made on purpose: what users' apps send, for tests, proxies and examples.

A drawing starts as an ink map (white on black, any size) or as pen strokes and is put on a
canvas in one of the looks real front ends deliver (``strokes.LOOKS``).
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from digitrec.data import synth
from digitrec.data.strokes import CANVAS, look_of, render
from digitrec.ink import crop


def paste(
    ink: np.ndarray,
    rng: np.random.Generator | None = None,
    canvas: int = CANVAS,
    scale: float | tuple[float, float] = 0.6,
    centred: bool = True,
) -> np.ndarray:
    """Scale an ink map so its longer side is ``scale`` of the canvas; centre it or place at random."""
    rng = rng or np.random.default_rng(0)
    frac = rng.uniform(*scale) if isinstance(scale, tuple) else scale
    out = np.zeros((canvas, canvas), dtype=np.uint8)
    digit = crop(ink)
    if digit is None:
        return out
    k = frac * canvas / max(digit.shape)
    h, w = max(1, round(digit.shape[0] * k)), max(1, round(digit.shape[1] * k))
    img = Image.fromarray(np.asarray(digit, dtype=np.uint8)).resize((w, h), Image.BILINEAR)
    if centred:
        top, left = (canvas - h) // 2, (canvas - w) // 2
    else:
        top, left = int(rng.integers(0, canvas - h + 1)), int(rng.integers(0, canvas - w + 1))
    out[top : top + h, left : left + w] = np.asarray(img)
    return out


def to_png(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return buf.getvalue()


def mnist_digit(image28: np.ndarray, rng: np.random.Generator, how: str) -> np.ndarray:
    """An MNIST digit pasted anywhere in a 280x280 canvas at 30-90% of its size, in look ``how``."""
    return look_of(paste(image28, rng, scale=(0.3, 0.9), centred=False), how)


def pen_digit(
    digit: int,
    rng: np.random.Generator,
    how: str = "dark_on_light",
    *,
    pen_px: float | None = None,
    scale: float | tuple[float, float] = 0.6,
    centred: bool = True,
    canvas: int = CANVAS,
    points: int | None = None,
) -> np.ndarray:
    """A synthetic pen drawing of ``digit`` as a front end would send it.

    ``pen_px`` is the brush width on the canvas (default: random 8-24 px, like a sketchpad brush);
    ``points`` summarises the trajectory to that many points first, as pen-tablet datasets do.
    """
    frac = rng.uniform(*scale) if isinstance(scale, tuple) else scale
    pen = pen_px if pen_px is not None else rng.uniform(8, 24)
    strokes = synth.digit_strokes(digit, rng)
    if points:
        strokes = synth.resample(strokes, points)
    side = frac * canvas
    x0, y0 = ((canvas - side) / 2,) * 2 if centred else rng.uniform(0, canvas - side, 2)
    return render(strokes, canvas, (x0, y0, x0 + side, y0 + side), pen_px=pen, look=how)


def pen_paths(
    digit: int, canvas: int = CANVAS, rng: np.random.Generator | None = None, scale: float = 0.6, style: int | None = 0
) -> list[list[tuple[float, float]]]:
    """Pen strokes of ``digit`` in canvas pixel coordinates, centred: for driving a mouse.

    Browser and Pygame tests replay these as pointer moves; style 0 is each digit's plainest form.
    """
    rng = rng or np.random.default_rng(digit)
    strokes = synth.digit_strokes(digit, rng, style=style, join=False)
    pts = np.vstack(strokes)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    k = scale * canvas / max(hi - lo)
    centre = (lo + hi) / 2
    return [
        [(float((x - centre[0]) * k + canvas / 2), float((y - centre[1]) * k + canvas / 2)) for x, y in s]
        for s in strokes
    ]


def examples(digits: tuple[int, ...] = (2, 5, 7, 8), seed: int = 7, pen_px: float = 22) -> list[np.ndarray]:
    """Clear pen drawings of ``digits``, dark on white, from one seeded stream: the demos' examples."""
    rng = np.random.default_rng(seed)
    return [pen_digit(digit, rng, pen_px=pen_px) for digit in digits]
