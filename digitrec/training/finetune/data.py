"""What fine-tuning reads: the saved drawings, MNIST as training reads it (replay, held-out digits,
test) and the validation writers' digits drawn as an app's canvas (cached: drawing them takes ~10 s)."""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitrec.paths import env_folder
from digitrec.predict import ModelError

CACHE_ENV = "DIGITREC_CACHE"  # where the fine-tune keeps what it computed once (validation writers, MNIST's anchor)
VALIDATION_DIGITS = 1_000  # of the validation writers' digits, evenly spread (rendering all takes long)
MNIST_VALIDATION = 5_000  # the last MNIST training digits, held out by training: replay never sees them


def saved_drawings(
    db: str | os.PathLike | None, user: str | None, include_touching: bool = False
) -> tuple[np.ndarray, np.ndarray, dict]:
    """The saved drawings as the network sees them: (N, 28, 28) float32, labels, and what was read.

    Digits whose ink could not be parted from a neighbour's (``Drawing.touching``) are left out unless
    ``include_touching``: what was kept of them may hold a sliver of the neighbour, a lesson in the wrong
    shape. ``info["touching_left_out"]`` says how many."""
    from digitrec.preprocess import preprocess
    from digitrec.store import Store

    with Store.open(db) as store:
        drawings = list(store.drawings(user))
        where = store.describe()
    left_out = 0 if include_touching else sum(d.touching for d in drawings)
    if left_out:
        drawings = [d for d in drawings if not d.touching]
    framed, labels = [], []
    for d in drawings:
        x = preprocess(d.png)
        if x is not None:
            framed.append(x)
            labels.append(d.label)
    if not framed:
        who = f" by {user}" if user else ""
        also = f" but {left_out} touching digits (--include-touching learns from them)" if left_out else ""
        raise ModelError(
            f"no saved drawings{who}{also} in {where}: save some in an app first, or `drawings import DIR`"
        )
    info = {
        "store": where,
        "user": user,
        "drawings": len(framed),
        "touching_left_out": left_out,
        "per_digit": np.bincount(labels, minlength=10).tolist(),
        "users": sorted({d.user for d in drawings}),
    }
    return np.stack(framed).astype(np.float32), np.array(labels, np.int32), info


@dataclass
class Replay:
    """MNIST as training reads it: digits to replay, and the held-out ones the forgetting budget checks."""

    x: np.ndarray
    y: np.ndarray
    x_check: np.ndarray
    y_check: np.ndarray


def mnist_replay(data_dir: str | None) -> tuple[Replay, np.ndarray, np.ndarray]:
    """The replay set (training digits less the last 5,000, which are held out) and MNIST test."""
    from digitrec.data.mnist import load_mnist

    mnist = load_mnist(data_dir)
    x = mnist.train.images.astype(np.float32) / 255.0
    y = mnist.train.labels.astype(np.int32)
    cut = len(x) - MNIST_VALIDATION
    replay = Replay(x[:cut], y[:cut], x[cut:], y[cut:])
    return replay, mnist.test.images.astype(np.float32) / 255.0, mnist.test.labels.astype(np.int32)


def validation_writers(handwriting_dir: str | None, seed: int = 0) -> tuple[np.ndarray, np.ndarray, dict] | None:
    """Up to ``VALIDATION_DIGITS`` of the validation writers' digits, drawn as an app's canvas and
    framed; None without the data. Drawing them takes ~10 s, so they are cached (``cache_dir()``),
    keyed by the data files and the code that draws and frames them."""
    import importlib
    import json

    from digitrec.data.handwriting import data_md5s, load_handwriting, resolve_dir, split

    if resolve_dir(handwriting_dir) is None:
        return None
    key = json.dumps(
        [data_md5s(handwriting_dir), VALIDATION_DIGITS, seed]
        + [
            hashlib.md5(Path(importlib.import_module(m).__file__).read_bytes()).hexdigest()
            for m in ("digitrec.preprocess", "digitrec.data.strokes")
        ]
    )
    cached = cache_dir() / f"validation-writers-{hashlib.md5(key.encode()).hexdigest()[:16]}.npz"
    try:
        with np.load(cached) as f:
            return f["x"], f["y"], json.loads(str(f["info"]))
    except (OSError, ValueError, KeyError):
        pass  # not there yet, or unreadable: draw them again
    from digitrec.data.renderings import framed_renderings

    samples = split(load_handwriting(handwriting_dir))["validation"]
    every = max(1, int(np.ceil(len(samples) / VALIDATION_DIGITS)))
    picked = samples[::every]
    x, y = framed_renderings(picked, seed=seed, renderings=["centred"])
    info = {"writers": len({s.writer for s in picked}), "digits": len(picked), "of": len(samples)}
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.npz")
        np.savez_compressed(partial, x=x, y=y.astype(np.int32), info=json.dumps(info))
        partial.replace(cached)  # whole or not at all, even with two runs at once
    except OSError:
        pass  # a cache we cannot write only costs time
    return x, y.astype(np.int32), info


def cached(kind: str, key: list, compute: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """``compute()``'s arrays, kept in ``cache_dir()`` under ``kind`` and a digest of ``key`` (strings and
    arrays: what they were computed from), so a later fine-tune on this machine reads them instead."""
    digest = hashlib.md5()
    for part in key:
        if isinstance(part, np.ndarray):
            digest.update(f"{part.dtype}{part.shape}".encode())
            digest.update(np.ascontiguousarray(part).data)
        else:
            digest.update(str(part).encode())
        digest.update(b"|")
    path = cache_dir() / f"{kind}-{digest.hexdigest()[:20]}.npz"
    try:
        with np.load(path) as f:
            return {name: f[name] for name in f.files}
    except (OSError, ValueError, KeyError, EOFError):
        pass  # not there yet, or unreadable: compute it again
    found = compute()
    partial = path.with_suffix(f".{os.getpid()}.npz")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(partial, **found)  # uncompressed: read back in a fraction of a second
        partial.replace(path)  # whole or not at all, even with two runs at once
    except OSError:  # a cache we cannot write (a full disk, a read-only folder) only costs time
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
    return found


def cache_dir() -> Path:
    """``$DIGITREC_CACHE``, else the user's cache directory (``~/.cache/digitrec`` on Linux)."""
    return env_folder(CACHE_ENV, user="cache")
