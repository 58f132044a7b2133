"""MNIST from its four original IDX files, checked against their published MD5s.

The folder comes from the ``data_dir`` argument, else ``$DIGITREC_MNIST_DIR``; with neither, we
fall back to ``keras.datasets.mnist`` (which downloads). Files may be gzip-compressed or plain.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from digitrec.paths import env_folder

ENV_VAR = "DIGITREC_MNIST_DIR"

# MD5 of the *uncompressed* content, as listed with the original files.
MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}


class DataError(RuntimeError):
    """MNIST could not be found, read or verified; the message says which file and why."""


class Split(NamedTuple):
    images: np.ndarray  # (N, 28, 28) uint8, white ink on black
    labels: np.ndarray  # (N,) uint8


class Mnist(NamedTuple):
    train: Split
    test: Split


def parse_idx(raw: bytes, name: str = "IDX data") -> np.ndarray:
    """Decode IDX bytes: two zero bytes, type 0x08 (uint8), ndim, ndim big-endian sizes, values."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DataError(f"{name}: not an IDX file (bad magic number)")
    if raw[2] != 0x08:
        raise DataError(f"{name}: IDX type 0x{raw[2]:02x} is not uint8 (0x08)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise DataError(f"{name}: truncated IDX header")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(shape))
    if len(raw) - header != expected:
        raise DataError(f"{name}: header promises {expected} values for shape {shape}, file holds {len(raw) - header}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def resolve_dir(data_dir: str | os.PathLike | None = None) -> Path | None:
    """The MNIST folder from the argument or ``$DIGITREC_MNIST_DIR``, or None for the download."""
    return env_folder(ENV_VAR, data_dir)


def _read_file(folder: Path, stem: str, verify: bool) -> tuple[bytes, str]:
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.is_file():
            break
    else:
        raise DataError(
            f"missing MNIST file {stem}(.gz) in {folder}; "
            f"point {ENV_VAR} or --data-dir at the folder holding the four IDX files"
        )
    try:
        raw = candidate.read_bytes()
        if candidate.suffix == ".gz":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DataError(f"cannot read {candidate}: {exc}") from exc
    md5 = hashlib.md5(raw).hexdigest()
    if verify and md5 != MD5[stem]:
        raise DataError(f"{candidate} is corrupt or not MNIST: MD5 {md5}, expected {MD5[stem]}")
    return raw, md5


def load_idx_dir(folder: str | os.PathLike, verify: bool = True) -> Mnist:
    """Read and MD5-check the four IDX files in ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"MNIST folder {folder} does not exist")
    arrays = {}
    for stem in MD5:
        raw, _ = _read_file(folder, stem, verify)
        arrays[stem] = parse_idx(raw, stem)
    return Mnist(
        train=Split(arrays["train-images-idx3-ubyte"], arrays["train-labels-idx1-ubyte"]),
        test=Split(arrays["t10k-images-idx3-ubyte"], arrays["t10k-labels-idx1-ubyte"]),
    )


def load_mnist(data_dir: str | os.PathLike | None = None, verify: bool = True) -> Mnist:
    """MNIST as ``Mnist(train=Split(images, labels), test=Split(...))``, uint8 arrays.

    From ``data_dir`` or ``$DIGITREC_MNIST_DIR`` when given (MD5-checked), else downloaded by Keras.
    """
    folder = resolve_dir(data_dir)
    if folder is not None:
        return load_idx_dir(folder, verify=verify)
    try:
        from keras.datasets import mnist  # the usual download, for machines with internet

        (xt, yt), (xv, yv) = mnist.load_data()
    except Exception as exc:  # no internet, no cache: say what to do instead
        raise DataError(
            f"no MNIST folder given and the download failed ({exc}); set {ENV_VAR} or pass --data-dir"
        ) from exc
    return Mnist(Split(xt, yt), Split(xv, yv))


def data_md5s(data_dir: str | os.PathLike | None = None) -> dict[str, str]:
    """MD5s of the files actually used, for the model card (the expected ones for a download)."""
    folder = resolve_dir(data_dir)
    if folder is None:
        return dict(MD5)
    return {stem: _read_file(folder, stem, verify=False)[1] for stem in MD5}
