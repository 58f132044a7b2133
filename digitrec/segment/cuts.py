"""Step 7 of ``digitrec.segment``: touching digits cut. A piece too wide for one digit, or wide and
read without confidence, is cut at the thinnest columns of its ink; the cut whose pieces the network
is surest of stays, when it beats the whole by ``SPLIT_PRIOR``."""

from __future__ import annotations

import math

import numpy as np

from digitrec.ink import ink_box
from digitrec.segment.groups import best_grouping, score
from digitrec.segment.marks import Group
from digitrec.segment.reader import Reader, piece_ink
from digitrec.segment.sizes import (
    CUTS,
    MAX_WIDTH,
    MIN_PIECE,
    PART,
    SPLIT_CONFIDENCE,
    SPLIT_PRIOR,
    SPLIT_WIDTH,
    WIDE_CONFIDENCE,
)


def cut_columns(own: np.ndarray, x0: int, g: Group, line: float) -> list[int]:
    """Columns where the piece's ink is thinnest (local minima of its column profile), away from its
    ends and from each other: as many as could separate the digits it might hold, and a few more."""
    profile = np.convolve(own.sum(axis=0).astype(np.float32), np.ones(3, np.float32) / 3, mode="same")
    margin = max(int(MIN_PIECE * line), 1)
    lo, hi = g.x0 - x0 + margin, g.x1 - x0 - margin
    if hi <= lo:
        return []
    inner = profile[lo - 1 : hi + 1]
    minima = np.flatnonzero((inner[1:-1] <= inner[:-2]) & (inner[1:-1] <= inner[2:])) + lo
    wanted = min(2 * math.ceil(g.width / (0.7 * line)) + 1, CUTS)
    chosen: list[int] = []
    for c in minima[np.argsort(profile[minima], kind="stable")]:
        if all(abs(c - d) >= margin for d in chosen):
            chosen.append(int(c))
        if len(chosen) == wanted:
            break
    return sorted(c + x0 for c in chosen)


def between(g: Group, labels: np.ndarray, lo: int, hi: int) -> Group | None:
    """The part of ``g`` between columns ``lo`` and ``hi``, its box shrunk to its ink (None if no ink)."""
    sub = labels[g.y0 : g.y1, lo:hi]
    own = np.isin(sub, g.ids)
    box = ink_box(own)
    if box is None:
        return None
    x0, y0, x1, y1 = box
    return Group(g.ids, lo + x0, g.y0 + y0, lo + x1, g.y0 + y1, (lo, hi))


def suspect(g: Group, p: np.ndarray | None, line: float) -> bool:
    """Whether a piece may be touching digits: too wide for one, or wide and read without confidence."""
    confidence = 0.0 if p is None else float(p.max())
    return (
        g.width > MAX_WIDTH * line
        or (g.width >= SPLIT_WIDTH * line and confidence < WIDE_CONFIDENCE)
        or (g.width >= 0.5 * line and confidence < SPLIT_CONFIDENCE)
    )


def split(digits: list[Group], line: float, reader: Reader) -> list[Group]:
    """Cut pieces that look like touching digits at their thinnest columns, into the pieces (the
    whole among them) the network is surest of; a single mark only, once."""
    out: list[Group] = []
    plans = []
    for g, p in zip(digits, reader(digits), strict=True):
        if len(g.ids) != 1 or g.cols is not None or not suspect(g, p, line):
            plans.append(None)
            continue
        _piece, (x0, _y0, _x1, _y1), own = piece_ink(reader.ink, reader.owners, g)
        bounds = [g.x0, *cut_columns(own, x0, g, line), g.x1]
        runs = {}
        for i in range(len(bounds) - 1):
            for j in range(i + 1, len(bounds)):
                if bounds[j] - bounds[i] > MAX_WIDTH * line:
                    break
                piece = g if (i, j) == (0, len(bounds) - 1) else between(g, reader.labels, bounds[i], bounds[j])
                if piece is not None and piece.height >= PART * line:  # touching digits are as tall as any
                    runs[(i, j)] = piece
        plans.append((bounds, runs))
    reader([piece for plan in plans if plan for piece in plan[1].values()])  # one batch for every piece tried
    for g, plan in zip(digits, plans, strict=True):
        if plan is None:
            out.append(g)
            continue
        bounds, runs = plan
        answers = reader(list(runs.values()))
        whole = (0, len(bounds) - 1)
        scores = {run: score(runs[run], p, line) for run, p in zip(runs, answers, strict=True)}
        if whole in scores:
            scores[whole] -= math.log(SPLIT_PRIOR)  # most marks are one digit: cuts must earn their place
        chosen = best_grouping(scores, len(bounds) - 1, len(bounds) - 1)
        if any(math.isinf(scores.get(run, -math.inf)) for run in chosen):
            out.append(g)  # no way to cut it into digit-sized pieces: leave it whole
        else:
            out += [runs[run] for run in chosen]
    return out
