"""Rendered shards -> what the CRNN learns from: strips and packed labels, batched in an order
fixed by (seed, epoch), so a resumed run sees exactly the batches the uninterrupted run would have."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from digitrec.segment.line import FRAMES, ink_frames
from digitrec.training.lines.model import MAX_DIGITS


def pack(texts, strips: np.ndarray) -> np.ndarray:
    """Digit strings and their strips -> (N, 2 + MAX_DIGITS) int32 rows: the length, the frames
    CTC reads (``ink_frames``, never fewer than the digits and the blanks between repeats need), then
    the digits, zero-padded."""
    out = np.zeros((len(texts), 2 + MAX_DIGITS), np.int32)
    for i, (text, strip) in enumerate(zip(texts, strips, strict=True)):
        if not 0 < len(text) <= MAX_DIGITS or not text.isdigit():
            raise ValueError(f"a label must be 1 to {MAX_DIGITS} digits, not {text!r}")
        repeats = sum(a == b for a, b in zip(text, text[1:], strict=False))
        out[i, 0] = len(text)
        out[i, 1] = min(FRAMES, max(ink_frames(strip), len(text) + repeats + 1))
        out[i, 2 : 2 + len(text)] = [int(c) for c in text]
    return out


def load_shards(folder: str | os.PathLike, limit: int | None = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Every shard in ``folder`` in order (at most ``limit`` numbers): (N, 32, 256) uint8 strips,
    their packed labels, and their texts. Raises ``FileNotFoundError`` for a folder without shards."""
    paths = sorted(Path(folder).glob("shard-?????.npz"))
    if not paths:
        raise FileNotFoundError(f"no shards in {folder}: `python -m digitrec.training.lines render --out {folder}`")
    images, texts = [], []
    for path in paths:
        with np.load(path) as shard:
            images.append(shard["images"])
            texts += [str(t) for t in shard["labels"]]
        if limit is not None and len(texts) >= limit:
            break
    x = np.concatenate(images)[:limit]
    texts = texts[:limit]
    return x, pack(texts, x), texts


def make_batches(x: np.ndarray, y: np.ndarray, batch_size: int, seed: int, start_step: int = 0):
    """An endless stream of batches from global batch ``start_step`` on: pass ``e`` over the data
    visits the numbers in an order drawn from (seed, e) alone, so where a run resumes depends only on
    how many batches it had done. Strips go to float32 in [0, 1] per batch, not all at once."""
    import tensorflow as tf

    steps = len(x) // batch_size
    images, labels = tf.constant(x[..., None]), tf.constant(y)
    key = tf.constant(seed, tf.int64)

    def epoch(e):
        order = tf.random.experimental.stateless_shuffle(tf.range(len(x), dtype=tf.int64), seed=tf.stack([key, e]))
        return tf.data.Dataset.from_tensor_slices(tf.reshape(order[: steps * batch_size], (steps, -1)))

    def batch(index):
        return tf.cast(tf.gather(images, index), tf.float32) / 255.0, tf.gather(labels, index)

    first = start_step // steps
    ds = tf.data.Dataset.range(first, 1_000_000).flat_map(epoch).skip(start_step - first * steps)
    return ds.map(batch, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
