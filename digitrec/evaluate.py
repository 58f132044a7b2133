"""How good is a saved model? On MNIST, and on honest proxies for real drawings.

MNIST test accuracy says little about a sketchpad. The ``drawn`` proxies put digits through the
same ``Predictor.predict`` path the apps use:

- ``mnist_canvas``: MNIST test digits pasted anywhere in a 280x280 canvas at 30-90% of its size,
  dark-on-light, light-on-dark, ink-in-alpha or on a grey background. Re-framing must lose nothing.
- ``pen_<variant>``: synthetic pen drawings in non-American styles (continental 1s and 7s,
  joined strokes), with a seed never used for training, centred or at random size and place,
  with thin or thick pens, in each canvas style. Optimistic (same generator as the training
  extras), but it shows whether rendering variants cost accuracy.
- ``mnist_scans``: MNIST test digits as low-resolution scanning pipelines store them (16x16 or
  8x8 counts, stretched to fill the square or not, thresholded or grey).
- ``load_digits_heldout``: scikit-learn's 8x8 scans by writers after the first 900 images, which
  training never sees: real handwriting from outside the US.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np

from digitrec.card import classification_report
from digitrec.drawings import STYLES, mnist_digit, pen_digit
from digitrec.predict import Predictor
from digitrec.preprocess import preprocess

PROXY_SEED = 20261126  # never a training seed
PEN_VARIANTS: dict[str, dict] = {
    "centred": {"centred": True, "scale": 0.6},
    "random_place_size": {"centred": False, "scale": (0.3, 0.9)},
    "thin_pen": {"pen_px": 5.0},
    "thick_pen": {"pen_px": 32.0},
    "tablet_8_points": {"points": 8, "centred": False, "scale": (0.3, 0.9)},
}


def mnist_test(predictor: Predictor, images: np.ndarray, labels: np.ndarray) -> dict:
    """The network alone on MNIST as distributed (already framed): the textbook figure."""
    probs = predictor.probabilities(images.astype(np.float32) / 255.0)
    return classification_report(labels, probs.argmax(axis=1))


def naive_frame(image) -> np.ndarray:
    """The usual demo's preprocessing, for comparison: greyscale (alpha dropped), the whole canvas
    resized to 28x28, inverted when the background is light. No cropping, centring or alpha."""
    from PIL import Image

    x = np.asarray(image.convert("L") if isinstance(image, Image.Image) else image, dtype=np.float32)
    if x.ndim == 3:
        x = x[..., :3].mean(axis=2)
    x = x / (255.0 if x.max() > 16 else max(float(x.max()), 1.0))
    small = np.asarray(Image.fromarray(x, mode="F").resize((28, 28), Image.BILINEAR), dtype=np.float32)
    return 1.0 - small if small.mean() > 0.5 else small


Framer = Callable[[object], "np.ndarray | None"]


def _accuracy(predictor: Predictor, make: Callable[[int, np.random.Generator], tuple[np.ndarray, int]],
              n: int, seed: int, frame: Framer = preprocess) -> dict:
    rng = np.random.default_rng(seed)
    framed, labels = [], []
    for i in range(n):
        image, label = make(i, rng)
        framed.append(frame(image))
        labels.append(label)
    preds = predictor.predict_framed(framed)
    predicted = np.array([-1 if p.digit is None else p.digit for p in preds])
    labels = np.array(labels)
    return {"images": n, "accuracy": round(float((predicted == labels).mean()), 5),
            "blank": int((predicted == -1).sum())}


def mnist_canvas(predictor: Predictor, images: np.ndarray, labels: np.ndarray, n: int | None = None,
                 frame: Framer = preprocess) -> dict:
    """MNIST test digits on 280x280 canvases, each style in turn, through ``Predictor``."""
    n = len(images) if n is None else min(n, len(images))
    return _accuracy(predictor, lambda i, rng: (mnist_digit(images[i], rng, STYLES[i % len(STYLES)]), int(labels[i])),
                     n, PROXY_SEED, frame)


def pen_drawings(predictor: Predictor, n: int = 1000, frame: Framer = preprocess) -> dict[str, dict]:
    """Synthetic pen drawings per rendering variant, and each canvas style with random placement."""
    out = {}
    for name, kwargs in PEN_VARIANTS.items():
        out[f"pen_{name}"] = _accuracy(
            predictor, lambda i, rng, kw=kwargs: (pen_digit(i % 10, rng, STYLES[i % len(STYLES)], **kw), i % 10),
            n, PROXY_SEED + 1, frame)
    return out


def mnist_scans(predictor: Predictor, images: np.ndarray, labels: np.ndarray, n: int | None = None,
                frame: Framer = preprocess) -> dict:
    """MNIST test digits through ``synth.scan_like`` (16x16 / 8x8, stretched or not), then ``Predictor``."""
    from digitrec.synth import scan_like

    n = len(images) if n is None else min(n, len(images))
    return _accuracy(predictor, lambda i, rng: (scan_like(images[i], rng), int(labels[i])), n, PROXY_SEED + 2, frame)


def load_digits_heldout(predictor: Predictor, start: int = 900, frame: Framer = preprocess) -> dict:
    from sklearn.datasets import load_digits

    digits = load_digits()
    images, labels = digits.images[start:], digits.target[start:]
    return _accuracy(predictor, lambda i, rng: (images[i], int(labels[i])), len(images), PROXY_SEED, frame)


def drawn(predictor: Predictor, mnist_images: np.ndarray, mnist_labels: np.ndarray,
          n_mnist: int | None = None, n_pen: int = 1000, frame: Framer = preprocess) -> dict[str, dict]:
    """Every drawing proxy, and the seconds they took; ``frame=naive_frame`` for the usual demo's way."""
    start = time.perf_counter()
    results = {"mnist_canvas": mnist_canvas(predictor, mnist_images, mnist_labels, n_mnist, frame)}
    results.update(pen_drawings(predictor, n_pen, frame))
    results["mnist_scans"] = mnist_scans(predictor, mnist_images, mnist_labels, n_mnist, frame)
    results["load_digits_heldout"] = load_digits_heldout(predictor, frame=frame)
    results["seconds"] = round(time.perf_counter() - start, 1)
    return results


def format_table(results: dict[str, dict]) -> str:
    lines = [f"{'proxy':<28} {'images':>7} {'accuracy':>9}"]
    for name, r in results.items():
        if isinstance(r, dict) and "accuracy" in r:
            lines.append(f"{name:<28} {r['images']:>7} {100 * r['accuracy']:>8.2f}%")
    return "\n".join(lines)
