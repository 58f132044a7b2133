"""Digits as low-resolution scanning pipelines deliver them: cropped into 16x16 (or 32x32 summed
into 8x8 counts), often stretched to fill the square, often thresholded.

``scan_like`` turns any ink image (an MNIST digit, a rendering of real pen strokes) into such a
scan; training shows the network some, and evaluation reads held-out handwriting scanned this way.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from digitrec.ink import crop
from digitrec.preprocess import preprocess


def scan_like(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One MNIST digit as a scanned-form pipeline might have stored it, before ``preprocess``.

    Such pipelines crop each digit and scale it into a small square (16x16, or 32x32 summed into
    8x8 counts), often stretching it to fill the square whatever its shape, and often threshold it
    to black and white. A stretched 1 becomes a broad diagonal bar that MNIST never shows.
    """
    ink = image.astype(np.float32) / 255.0 if image.dtype == np.uint8 else image.astype(np.float32)
    cropped = crop(ink, 0.1)
    if cropped is None:
        return ink
    ink = cropped
    counts = rng.random() < 0.25  # the 8x8-counts pipeline, else a 16x16 one
    side = 32 if counts else 16
    h, w = ink.shape
    if rng.random() < 0.5:  # stretch to fill the square
        th, tw = side, side
    else:
        k = side / max(h, w)
        th, tw = max(1, round(h * k)), max(1, round(w * k))
    img = Image.fromarray(ink, mode="F").resize((tw, th), Image.BILINEAR)
    small = np.zeros((side, side), np.float32)
    top, left = (side - th) // 2, (side - tw) // 2
    small[top : top + th, left : left + tw] = np.asarray(img)
    if counts or rng.random() < 0.5:
        small = (small > rng.uniform(0.3, 0.6)).astype(np.float32)
    if counts:
        small = small.reshape(8, 4, 8, 4).sum(axis=(1, 3))  # 0..16, like scikit-learn's digits
    return small


def make_scans(images: np.ndarray, labels: np.ndarray, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random MNIST digits through ``scan_like`` and ``preprocess``: (n, 28, 28), labels."""
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(images), size=n, replace=False)
    out = np.zeros((n, 28, 28), dtype=np.float32)
    for i, j in enumerate(pick):
        framed = preprocess(scan_like(images[j], rng))
        if framed is not None:
            out[i] = framed
    return out, labels[pick]
