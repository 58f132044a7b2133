"""What the network learns from, every part framed by ``preprocess`` as the apps frame drawings.

- MNIST's training digits as distributed (the last 5,000 held out to watch for overfitting);
- real handwriting by the *training* writers (``digitrec.data.handwriting``), each digit drawn several
  times through the one stroke renderer, its hand varied on the vectors (``strokes.augment``), at
  a random size, place, pen width and canvas look, sometimes as a low-resolution scan;
- optional extras: synthetic pen drawings in styles MNIST lacks, MNIST as low-resolution scans,
  and the first writers of scikit-learn's digits.
"""

from __future__ import annotations

import multiprocessing
import os

import numpy as np

from digitrec.data.handwriting import Sample
from digitrec.data.strokes import LOOKS, augment, ink_map, random_box, render
from digitrec.preprocess import CANVAS, SIZE, preprocess

SCAN_SHARE = 0.15  # of real drawings shown as a low-resolution scan of the same strokes
PEN_PX = (3.0, 32.0)  # log-uniform pen width on a 280-pixel canvas


def draw_for_training(sample: Sample, rng: np.random.Generator) -> np.ndarray:
    """One varied rendering of a real digit, as a canvas (or a small scan) the apps might receive."""
    from digitrec.data.scans import scan_like

    strokes = augment(sample.strokes, rng, strength=rng.uniform(0.2, 1.0))
    if rng.random() < SCAN_SHARE:  # a scanner sees a written line, never a hairline
        return scan_like(ink_map(strokes, 112, pen_px=rng.uniform(6.0, 13.0)), rng)
    pen = float(np.exp(rng.uniform(*np.log(PEN_PX))))
    return render(strokes, CANVAS, random_box((CANVAS, CANVAS), rng), pen_px=pen, look=LOOKS[rng.integers(len(LOOKS))])


def _frame_chunk(args: tuple[list[Sample], int, int]) -> np.ndarray:
    samples, copies, seed = args
    rng = np.random.default_rng(seed)
    out = np.zeros((len(samples) * copies, SIZE, SIZE), np.float32)
    for c in range(copies):
        for i, s in enumerate(samples):
            framed = preprocess(draw_for_training(s, rng))
            if framed is not None:
                out[c * len(samples) + i] = framed
    return out


def real_drawings(samples: list[Sample], copies: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``copies`` varied renderings of each sample, framed: (N * copies, 28, 28) float32, labels.

    Spread over the machine's cores in fresh processes (never forked from one holding TensorFlow).
    """
    if not samples or copies <= 0:
        return np.zeros((0, SIZE, SIZE), np.float32), np.zeros(0, np.uint8)
    workers = max(1, min(os.cpu_count() or 1, 8))
    chunks = [samples[i::workers] for i in range(workers)]
    jobs = [(chunk, copies, seed * 1000 + i) for i, chunk in enumerate(chunks)]
    if workers == 1:
        parts = [_frame_chunk(jobs[0])]
    else:
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            parts = pool.map(_frame_chunk, jobs)
    labels = [np.tile([s.label for s in chunk], copies) for chunk in chunks]
    return np.concatenate(parts), np.concatenate(labels).astype(np.uint8)


def extras(
    mnist_images: np.ndarray,
    mnist_labels: np.ndarray,
    *,
    synthetic: int,
    scans: int,
    load_digits_share: int,
    load_digits_repeat: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, dict]:
    """Synthetic pen drawings in other styles, MNIST digits as low-resolution scans, and the first
    ``load_digits_share`` of scikit-learn's digits (by writer order; the rest stay held out)."""
    from sklearn.datasets import load_digits

    from digitrec.data import synth
    from digitrec.data.scans import make_scans  # not `import scans`: the argument of that name is a count

    px, py = synth.make_drawings(synthetic, seed=seed, tablet=0)
    sx, sy = make_scans(mnist_images, mnist_labels, min(scans, len(mnist_images)), seed=seed)
    digits = load_digits()
    framed = [preprocess(img) for img in digits.images[:load_digits_share]]
    keep = [i for i, f in enumerate(framed) if f is not None]
    dx = np.tile(np.stack([framed[i] for i in keep]), (load_digits_repeat, 1, 1)) if keep else px[:0]
    dy = np.tile(digits.target[:load_digits_share][keep].astype(np.uint8), load_digits_repeat)
    info = {
        "synthetic_drawings": len(px),
        "mnist_scans": len(sx),
        "load_digits_train": len(keep),
        "load_digits_repeat": load_digits_repeat,
    }
    return np.concatenate([px, sx, dx]), np.concatenate([py, sy, dy]), info


def make_batches(x: np.ndarray, y: np.ndarray, batch_size: int, seed: int, augment: bool, start_epoch: int = 0):
    """Batches for every epoch from ``start_epoch`` on: epoch ``e`` visits the images in an order
    drawn from (seed, e) alone, and augmentation is keyed by (seed, global batch number), so a run
    resumed at epoch ``e`` sees exactly the batches the uninterrupted run would have."""
    import tensorflow as tf

    from digitrec.training.augment import warp

    steps = len(x) // batch_size
    images, labels = tf.constant(x[..., None]), tf.constant(y)
    key = tf.constant(seed, tf.int64)

    def epoch(e):
        order = tf.random.experimental.stateless_shuffle(tf.range(len(x), dtype=tf.int64), seed=tf.stack([key, e]))
        batches = tf.data.Dataset.from_tensor_slices(tf.reshape(order[: steps * batch_size], (steps, -1)))
        return batches.enumerate(start=e * steps)

    def batch(step, index):
        out = tf.gather(images, index)
        return (warp(out, tf.stack([key, step])) if augment else out), tf.gather(labels, index)

    ds = tf.data.Dataset.range(start_epoch, 1_000_000).flat_map(epoch)
    return ds.map(batch, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
