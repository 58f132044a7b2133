"""Composed numbers rendered once to disk, in shards: rendering competes with training for the cores.

    python -m digitrec.training.lines render --out runs/lines/train --numbers 100000 --shard-size 2000

Each shard ``shard-00012.npz`` holds ``images`` (n, 32, 256) uint8 strips (``segment.line``: made
from the canvas as the reader makes them), ``labels`` (n,) strings and ``writers`` (n,) strings.
Shard k is dealt from the seed (seed, k) alone, so a run killed and started again skips the
shards already written (each is written under a temporary name, then renamed) and renders the rest
exactly as the uninterrupted run would have. ``manifest.json`` records the settings; a folder
made with other settings is refused rather than mixed.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from digitrec.data.lines import JUST_TOUCHING, TRAINING, LineStyle, deal_lines
from digitrec.segment.line import LINE_HEIGHT, LINE_WIDTH, line_of

STYLES = {"training": TRAINING, "just_touching": JUST_TOUCHING}
MNIST_TRAIN = 55_000  # MNIST's training images the digit model trains on (its last 5,000 are held out)


def shard_name(k: int) -> str:
    return f"shard-{k:05d}.npz"


def render_shard(samples: list, count: int, seed: int, k: int, style: LineStyle, mnist=None) -> dict[str, np.ndarray]:
    """Shard ``k``: ``count`` numbers dealt from (seed, k), as strips, labels and writers."""
    images = np.zeros((count, LINE_HEIGHT, LINE_WIDTH), np.uint8)
    labels, writers = [], []
    for i, number in enumerate(deal_lines(samples, count, (seed, k), style, mnist=mnist, truth=False)):
        images[i] = line_of(number.image).image
        labels.append(number.text)
        writers.append(number.writer)
    return {"images": images, "labels": np.array(labels), "writers": np.array(writers)}


def render(
    out: str | os.PathLike,
    numbers: int,
    shard_size: int = 2_000,
    seed: int = 0,
    group: str = "train",
    style: str = "training",
    handwriting_dir: str | None = None,
    mnist_dir: str | None = None,
    log=sys.stderr,
) -> list[Path]:
    """Render ``numbers`` numbers by the ``group`` writers ("train", "validation" or "test") into
    shards in ``out``, skipping those already there; return every shard's path. MNIST digits join
    the training group only (``LineStyle.mnist`` of its numbers)."""
    from digitrec.data.handwriting import data_md5s, load_handwriting, split

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    samples = split(load_handwriting(handwriting_dir))[group]
    manifest = {
        "group": group,
        "numbers": numbers,
        "shard_size": shard_size,
        "seed": seed,
        "style": style,
        "settings": dataclasses.asdict(STYLES[style]),
        "line": [LINE_HEIGHT, LINE_WIDTH],
        "writers": sorted({s.writer for s in samples}),
        "handwriting_md5": data_md5s(handwriting_dir),
    }
    manifest = json.loads(json.dumps(manifest))  # tuples -> lists, as it reads back
    path = out / "manifest.json"
    if path.is_file() and json.loads(path.read_text()) != manifest:
        raise ValueError(f"{out} holds shards made with other settings (see {path}): use another folder")
    path.write_text(json.dumps(manifest, indent=1) + "\n")
    mnist = None
    if group == "train" and STYLES[style].mnist > 0:
        from digitrec.data.mnist import load_mnist

        m = load_mnist(mnist_dir)
        mnist = (m.train.images[:MNIST_TRAIN], m.train.labels[:MNIST_TRAIN])
    shards = (numbers + shard_size - 1) // shard_size
    paths, start, done = [], time.perf_counter(), 0
    for k in range(shards):
        target = out / shard_name(k)
        paths.append(target)
        if target.is_file():
            continue
        count = min(shard_size, numbers - k * shard_size)
        arrays = render_shard(samples, count, seed, k, STYLES[style], mnist)
        partial = target.with_suffix(".partial.npz")
        np.savez(partial, **arrays)
        os.replace(partial, target)
        done += count
        rate = done / (time.perf_counter() - start)
        left = sum(min(shard_size, numbers - j * shard_size) for j in range(k + 1, shards)) / rate
        eta = time.strftime("%H:%M:%S", time.gmtime(left))
        print(f"shard {k + 1}/{shards} | {rate:,.0f} numbers/s | ETA {eta}", file=log, flush=True)
    return paths
