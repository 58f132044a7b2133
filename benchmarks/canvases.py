"""The benchmarks' input canvases: deterministic canvas PNGs, shared by the processes of one run."""

from __future__ import annotations

import os
import pickle
from collections.abc import Sequence
from pathlib import Path

import numpy as np

LOOKS = ("dark_on_light", "transparent")  # the CLI/Pygame look, and the Flask page's canvas
CACHE_ENV = "DIGITREC_BENCH_CACHE"  # a folder where the benchmark's processes share their canvases


def canvases(n: int, seed: int = 0, looks: Sequence[str] = LOOKS) -> list[tuple[int, str, bytes]]:
    """``n`` 280x280 canvas PNGs as (digit, look, png): the looks in turn, then digits 0-9 in turn.

    Deterministic; cached in ``$DIGITREC_BENCH_CACHE`` when set (``python -m benchmarks`` sets it),
    so the worker processes of one run do not each draw the same thousand digits again.
    """
    cache = os.environ.get(CACHE_ENV)
    path = Path(cache) / f"canvases-{n}-{seed}-{'-'.join(looks)}.pickle" if cache else None
    if path is not None and path.is_file():
        return pickle.loads(path.read_bytes())
    from digitrec.data.canvases import pen_digit, to_png

    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        digit, how = (i // len(looks)) % 10, looks[i % len(looks)]
        out.append((digit, how, to_png(pen_digit(digit, rng, how))))
    if path is not None:
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(pickle.dumps(out))
        tmp.replace(path)  # atomic: a concurrent reader sees the whole file or none
    return out
