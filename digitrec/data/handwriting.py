"""Real online handwriting: 18,939 digits by 136 writers, as pen strokes, split by writer.

The files (UCI pendigits' original strokes and UNIPEN's isolated digits; see the README for
credit) live outside the repository, in the folder given by the ``data_dir`` argument or
``$DIGITREC_HANDWRITING_DIR``, and are MD5-checked like MNIST.

Every writer belongs to exactly one group, by a rule fixed before any training
(``writer_groups``): ``train`` (the model learns from them), ``validation`` (recipes are chosen and
the temperature fitted on them) and ``test`` (reported, never used for a choice). Whole writers
are held out, never random digits, so the figures measure reading a stranger's hand.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitrec.data.mnist import DataError
from digitrec.paths import env_folder

ENV_VAR = "DIGITREC_HANDWRITING_DIR"
# MD5 of each file as distributed (gzip-compressed).
MD5 = {
    "pendigits_train.jsonl.gz": "a63b59e28c2687a680a3567d73b2ab64",
    "unipen_train.jsonl.gz": "7b4151abfca008b780b9b184221a279c",
}
GROUPS = ("train", "validation", "test")
# UNIPEN sites held out whole; every other site with more than SMALL_SITE writers trains.
HELD_OUT_SITES = {"unipen/apa": "validation", "unipen/aga": "test"}
SMALL_SITE = 3


@dataclass(frozen=True)
class Sample:
    """One handwritten digit: strokes of (x, y) points, y growing downwards, pen up between them."""

    label: int
    strokes: tuple[np.ndarray, ...]
    writer: str  # unique across the collection, e.g. "tra:12" or "gmd:..."
    source: str  # "pendigits-orig.tra" or the UNIPEN site, "unipen/gmd"
    country: str


def resolve_dir(data_dir: str | os.PathLike | None = None) -> Path | None:
    """The handwriting folder from the argument or ``$DIGITREC_HANDWRITING_DIR``; None if neither."""
    return env_folder(ENV_VAR, data_dir)


def _read(folder: Path, name: str, verify: bool) -> bytes:
    path = folder / name
    if not path.is_file():
        raise DataError(
            f"missing handwriting file {name} in {folder}; point {ENV_VAR} or "
            "--handwriting-dir at the folder holding pendigits_train.jsonl.gz and unipen_train.jsonl.gz"
        )
    raw = path.read_bytes()
    md5 = hashlib.md5(raw).hexdigest()
    if verify and md5 != MD5[name]:
        raise DataError(f"{path} is corrupt or not the expected file: MD5 {md5}, expected {MD5[name]}")
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError) as exc:
        raise DataError(f"cannot read {path}: {exc}") from exc


def _sample(row: dict) -> Sample:
    strokes = []
    for stroke in row["strokes"]:
        pts = np.asarray(stroke, dtype=np.float32).reshape(-1, 2)
        if row.get("y_up"):
            pts[:, 1] = -pts[:, 1]  # tablet y grows upwards, a canvas's downwards
        strokes.append(pts)
    return Sample(int(row["label"]), tuple(strokes), row["writer"], row["source"], row["country"])


def load_handwriting(data_dir: str | os.PathLike | None = None, verify: bool = True) -> list[Sample]:
    """Every digit of both files, in file order. Raises ``DataError`` naming a missing or bad file."""
    folder = resolve_dir(data_dir)
    if folder is None:
        raise DataError(f"no handwriting folder: set {ENV_VAR} or pass --handwriting-dir")
    if not folder.is_dir():
        raise DataError(f"handwriting folder {folder} does not exist")
    samples = []
    for name in MD5:
        for line in _read(folder, name, verify).decode("utf-8").splitlines():
            if line.strip():
                try:
                    samples.append(_sample(json.loads(line)))
                except (ValueError, KeyError, TypeError) as exc:
                    raise DataError(f"{folder / name}: malformed line ({exc})") from None
    return samples


def data_md5s(data_dir: str | os.PathLike | None = None) -> dict[str, str]:
    """MD5s of the files used, for the model card."""
    folder = resolve_dir(data_dir)
    return {name: hashlib.md5((folder / name).read_bytes()).hexdigest() for name in MD5} if folder else {}


def writer_groups(samples: list[Sample]) -> dict[str, str]:
    """Writer -> "train", "validation" or "test", by this rule (stated in the README too):

    - pendigits (30 writers, Istanbul): writer number n with n % 5 == 4 -> validation, n % 5 == 0
      -> test (6 writers each), the other 18 train;
    - UNIPEN sites held out whole: ``apa`` -> validation, ``aga`` -> test (US sites, both with
      slashed zeros);
    - UNIPEN sites of at most 3 writers (among them Germany's ``gmd``, which slashes its zeros, and
      Spain's ``val``) are dealt writer by writer, the writer with most digits first, to train,
      test and validation in turn: training sees these hands, and the held-out groups hold writers
      from other countries too;
    - every other UNIPEN site trains.
    """
    by_site: dict[str, Counter] = defaultdict(Counter)
    for s in samples:
        by_site[s.source][s.writer] += 1
    groups = {}
    for site, counts in sorted(by_site.items()):
        ordered = sorted(counts, key=lambda w: (-counts[w], w))
        for i, writer in enumerate(ordered):
            if site.startswith("pendigits"):
                n = int(writer.rsplit(":", 1)[1])
                groups[writer] = {4: "validation", 0: "test"}.get(n % 5, "train")
            elif site in HELD_OUT_SITES:
                groups[writer] = HELD_OUT_SITES[site]
            elif len(ordered) <= SMALL_SITE:
                groups[writer] = ("train", "test", "validation")[i % 3]
            else:
                groups[writer] = "train"
    return groups


def split(samples: list[Sample]) -> dict[str, list[Sample]]:
    """The samples of each group: ``{"train": [...], "validation": [...], "test": [...]}``."""
    groups = writer_groups(samples)
    out: dict[str, list[Sample]] = {g: [] for g in GROUPS}
    for s in samples:
        out[groups[s.writer]].append(s)
    return out
