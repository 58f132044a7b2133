"""How good is a saved model? On real writers it never saw, on MNIST, and on proxies.

The figure that matters comes first: ``real_handwriting`` draws the held-out writers' pen strokes
(``digitrec.data.handwriting``: validation or test writers, never a writer the model's card lists) on
canvases through the one stroke renderer, in each of ``digitrec.data.renderings.RENDERINGS``, and reads them through
``Predictor`` like the apps do.

MNIST test accuracy says little about a sketchpad. The ``drawn`` proxies put digits through the
same ``Predictor.predict`` path; most are made by this project's own generators, so they grade
themselves and come second:

- ``mnist_canvas``: MNIST test digits pasted anywhere in a 280x280 canvas at 30-90% of its size,
  dark-on-light, light-on-dark, ink-in-alpha or on a grey background. Re-framing must lose nothing.
- ``pen_<variant>``: synthetic pen drawings in non-American styles (continental 1s and 7s,
  joined strokes), with a seed never used for training, centred or at random size and place,
  with thin or thick pens, in each canvas look. Optimistic (same generator as the training
  extras), but it shows whether rendering variants cost accuracy.
- ``mnist_scans``: MNIST test digits as low-resolution scanning pipelines store them (16x16 or
  8x8 counts, stretched to fill the square or not, thresholded or grey).
- ``load_digits_heldout``: scikit-learn's 8x8 scans by writers after the first 900 images, which
  training never sees: real handwriting from outside the US.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from digitrec.calibrate import expected_calibration_error
from digitrec.card import classification_report, trained_writers
from digitrec.data.canvases import mnist_digit, pen_digit
from digitrec.data.handwriting import Sample
from digitrec.data.renderings import CANVAS_RENDERINGS, RENDERINGS, framed_renderings
from digitrec.data.strokes import LOOKS
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


class WriterLeak(ValueError):
    """Asked to report on writers the model trained on: the figure would measure memory."""


def real_handwriting(
    predictor: Predictor, samples: list[Sample], seed: int = 0, renderings: list[str] | None = None
) -> dict:
    """Accuracy on held-out writers: per rendering; per source, country and class (centred); the
    worst writers; calibration and the confidence of mistakes over the canvas renderings."""
    leaked = sorted({s.writer for s in samples} & trained_writers(predictor.card))
    if leaked:
        raise WriterLeak(
            f"the model trained on {len(leaked)} of these writers ({', '.join(leaked[:5])}...): "
            "report only on writers it never saw"
        )
    names = renderings or list(RENDERINGS)
    x, y = framed_renderings(samples, seed, names)
    probs = predictor.probabilities(x)
    pred = probs.argmax(axis=1)
    n = len(samples)
    out: dict = {"writers": len({s.writer for s in samples}), "digits": n, "renderings": {}}
    for r, name in enumerate(names):
        right = pred[r * n : (r + 1) * n] == y[r * n : (r + 1) * n]
        out["renderings"][name] = {"images": n, "accuracy": round(float(right.mean()), 5)}
    canvas = np.concatenate(
        [np.arange(r * n, (r + 1) * n) for r, name in enumerate(names) if name in CANVAS_RENDERINGS]
    )
    if "centred" in names:
        c = names.index("centred")
        right = pred[c * n : (c + 1) * n] == y[c * n : (c + 1) * n]
        out["centred"] = {
            "per_source": _grouped(right, [_source(s) for s in samples]),
            "per_country": _grouped(right, [s.country for s in samples]),
            "per_class": classification_report(y[c * n : (c + 1) * n], pred[c * n : (c + 1) * n])["per_class_accuracy"],
        }
    if len(canvas):
        right = pred[canvas] == y[canvas]
        writers = [samples[i % n].writer for i in canvas]
        per_writer = _grouped(right, writers)
        worst = sorted(per_writer.items(), key=lambda kv: kv[1]["accuracy"])[:5]
        confidence = probs[canvas].max(axis=1)
        wrong = ~right
        out["canvas"] = {
            "images": int(len(canvas)),
            "accuracy": round(float(right.mean()), 5),
            "worst_writers": [{"writer": w, **v} for w, v in worst],
            "mean_confidence": round(float(confidence.mean()), 5),
            "ece": round(expected_calibration_error(probs[canvas], y[canvas].astype(int)), 5),
            "mistakes": int(wrong.sum()),
            "mistakes_over_90": int((confidence[wrong] > 0.9).sum()),
            "mistake_confidence_mean": round(float(confidence[wrong].mean()), 4) if wrong.any() else None,
        }
    return out


def _source(sample: Sample) -> str:
    return "pendigits" if sample.source.startswith("pendigits") else sample.source


def _grouped(right: np.ndarray, keys: list[str]) -> dict[str, dict]:
    groups: dict[str, list[bool]] = {}
    for k, r in zip(keys, right, strict=False):
        groups.setdefault(k, []).append(bool(r))
    return {k: {"images": len(v), "accuracy": round(float(np.mean(v)), 5)} for k, v in sorted(groups.items())}


def format_real(results: dict) -> str:
    """The held-out writers' figures as a few lines of text."""
    lines = [
        f"{results['writers']} writers, {results['digits']} digits, each drawn in every rendering:",
        f"  {'rendering':<24} {'accuracy':>9}",
    ]
    lines += [f"  {name:<24} {100 * r['accuracy']:>8.2f}%" for name, r in results["renderings"].items()]
    if "centred" in results:
        c = results["centred"]
        lines.append(
            "centred, per source: "
            + ", ".join(f"{k} {100 * v['accuracy']:.1f}% ({v['images']})" for k, v in c["per_source"].items())
        )
        lines.append(
            "centred, per country: "
            + ", ".join(f"{k} {100 * v['accuracy']:.1f}% ({v['images']})" for k, v in c["per_country"].items())
        )
        lines.append("centred, per class: " + "  ".join(f"{d}: {100 * a:.1f}%" for d, a in c["per_class"].items()))
    if "canvas" in results:
        c = results["canvas"]
        lines.append(
            f"all canvas renderings: {100 * c['accuracy']:.2f}% of {c['images']}; mean confidence "
            f"{100 * c['mean_confidence']:.2f}%, calibration error {100 * c['ece']:.2f}%"
        )
        lines.append(f"mistakes: {c['mistakes']}, of which {c['mistakes_over_90']} claim over 90% confidence")
        lines.append(
            "worst writers: " + ", ".join(f"{w['writer']} {100 * w['accuracy']:.1f}%" for w in c["worst_writers"])
        )
    return "\n".join(lines)


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


def _accuracy(
    predictor: Predictor,
    make: Callable[[int, np.random.Generator], tuple[np.ndarray, int]],
    n: int,
    seed: int,
    frame: Framer = preprocess,
) -> dict:
    rng = np.random.default_rng(seed)
    framed, labels = [], []
    for i in range(n):
        image, label = make(i, rng)
        framed.append(frame(image))
        labels.append(label)
    preds = predictor.predict_framed(framed)
    predicted = np.array([-1 if p.digit is None else p.digit for p in preds])
    labels = np.array(labels)
    return {
        "images": n,
        "accuracy": round(float((predicted == labels).mean()), 5),
        "blank": int((predicted == -1).sum()),
    }


def mnist_canvas(
    predictor: Predictor, images: np.ndarray, labels: np.ndarray, n: int | None = None, frame: Framer = preprocess
) -> dict:
    """MNIST test digits on 280x280 canvases, each look in turn, through ``Predictor``."""
    n = len(images) if n is None else min(n, len(images))
    return _accuracy(
        predictor,
        lambda i, rng: (mnist_digit(images[i], rng, LOOKS[i % len(LOOKS)]), int(labels[i])),
        n,
        PROXY_SEED,
        frame,
    )


def pen_drawings(predictor: Predictor, n: int = 1000, frame: Framer = preprocess) -> dict[str, dict]:
    """Synthetic pen drawings per rendering variant, and each canvas look with random placement."""
    out = {}
    for name, kwargs in PEN_VARIANTS.items():
        out[f"pen_{name}"] = _accuracy(
            predictor,
            lambda i, rng, kw=kwargs: (pen_digit(i % 10, rng, LOOKS[i % len(LOOKS)], **kw), i % 10),
            n,
            PROXY_SEED + 1,
            frame,
        )
    return out


def mnist_scans(
    predictor: Predictor, images: np.ndarray, labels: np.ndarray, n: int | None = None, frame: Framer = preprocess
) -> dict:
    """MNIST test digits through ``scans.scan_like`` (16x16 / 8x8, stretched or not), then ``Predictor``."""
    from digitrec.data.scans import scan_like

    n = len(images) if n is None else min(n, len(images))
    return _accuracy(predictor, lambda i, rng: (scan_like(images[i], rng), int(labels[i])), n, PROXY_SEED + 2, frame)


def load_digits_heldout(predictor: Predictor, start: int = 900, frame: Framer = preprocess) -> dict:
    from sklearn.datasets import load_digits

    digits = load_digits()
    images, labels = digits.images[start:], digits.target[start:]
    return _accuracy(predictor, lambda i, rng: (images[i], int(labels[i])), len(images), PROXY_SEED, frame)


def drawn(
    predictor: Predictor,
    mnist_images: np.ndarray,
    mnist_labels: np.ndarray,
    n_mnist: int | None = None,
    n_pen: int = 1000,
    frame: Framer = preprocess,
) -> dict[str, dict]:
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
