"""Step 6 of ``digitrec.segment``: marks, in x order, grouped into digits. Every way to group
neighbours that could be one digit is read by the network; the grouping whose digits it is surest
of, weighed by what is known of digits (``score``, ``spread``), wins."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from digitrec.segment.marks import Distances, Group, x_gap
from digitrec.segment.reader import Reader
from digitrec.segment.sizes import (
    MAX_GAP,
    MAX_GROUP,
    MAX_WIDTH,
    MERGE_PRIOR,
    NEAR,
    PART,
    SHORT_PRIOR,
    TALL_GAP,
    WIDE_SCALE,
)


def could_be_one(marks: Sequence[Group], line: float, distance: Distances) -> bool:
    """Whether neighbouring marks could be one digit: no wider than a digit, parts close to it in x,
    and tall marks (two strokes of a 4, the halves of a broken 0) nearly meeting."""
    if len(marks) == 1:
        return True
    if max(m.x1 for m in marks) - min(m.x0 for m in marks) > MAX_WIDTH * line:
        return False
    reach = None
    for m in sorted(marks, key=lambda m: m.x0):
        if reach is not None and m.x0 - reach > MAX_GAP * line:
            return False
        reach = m.x1 if reach is None else max(reach, m.x1)
    tall = [m for m in marks if m.height >= PART * line]
    near = TALL_GAP * line  # the ink is at least as far apart as the x-extents
    return all(
        any(m is not o and x_gap(m, o) <= near and distance(m, o) <= near for o in tall) for m in tall if len(tall) > 1
    )


def best_grouping(candidates: dict[tuple[int, int], float], n: int, longest: int = MAX_GROUP) -> list[tuple[int, int]]:
    """The partition of items 0..n-1 into runs (i, j) (items i to j-1) of at most ``longest`` items
    whose scores (log-probabilities) sum highest: dynamic programming, left to right."""
    best = [0.0] + [-math.inf] * n
    back = [0] * (n + 1)
    for j in range(1, n + 1):
        for i in range(max(0, j - longest), j):
            value = candidates.get((i, j))
            if value is not None and best[i] + value > best[j]:
                best[j], back[j] = best[i] + value, i
    runs, j = [], n
    while j > 0:
        runs.append((back[j], j))
        j = back[j]
    return runs[::-1]


def _log_confidence(p: np.ndarray | None) -> float:
    return -math.inf if p is None else math.log(max(float(p.max()), 1e-12))


def score(g: Group, p: np.ndarray | None, line: float) -> float:
    """How likely ``g`` is one digit read right: the network's confidence times what its shape says.

    The network is sure of things that are no digit (half a 0, two digits squeezed into one frame),
    so its confidence is weighed by two facts about digits: they are as tall as the line (a part
    alone is rarely one), and seldom wider than it (the widest 5% of real 0s, 2s and 5s reach 1.3-1.4).
    """
    prior = SHORT_PRIOR if g.height < PART * line else 1.0
    excess = max(g.width / line - 1.0, 0.0)
    return _log_confidence(p) + math.log(prior) - (excess / WIDE_SCALE) ** 2


def group(marks: list[Group], line: float, reader: Reader) -> list[Group]:
    """Marks (in x order) -> digits: the grouping of neighbours the network is surest of."""
    n = len(marks)
    runs = [(i, j) for i in range(n) for j in range(i + 1, min(n, i + MAX_GROUP) + 1)]
    runs = [(i, j) for i, j in runs if j - i == 1 or could_be_one(marks[i:j], line, reader.distance)]
    if all(j - i == 1 for i, j in runs):  # nothing to choose: every mark is a digit
        return marks
    merged = {(i, j): sum(marks[i:j][1:], marks[i]) for i, j in runs}
    answers = reader(list(merged.values()))
    scores = {}
    for (i, j), p in zip(merged, answers, strict=True):
        tall = sum(m.height >= PART * line for m in marks[i:j])
        scores[(i, j)] = (
            score(merged[(i, j)], p, line)
            + max(tall - 1, 0) * math.log(MERGE_PRIOR)
            - spread(marks[i:j], line, reader.distance)
        )
    return [merged[run] for run in best_grouping(scores, n)]


def spread(marks: Sequence[Group], line: float, distance: Distances) -> float:
    """How far a group's marks lie from each other, as a penalty: the parts of one digit nearly meet
    (a 5's flag starts where its body does), so each mark's distance to the nearest other counts,
    in units of NEAR line heights, squared. A 1's flag under a 7's bar goes with the 1's stem."""
    if len(marks) == 1:
        return 0.0
    total = 0.0
    for m in marks:
        nearest = min(distance(m, o) for o in marks if o is not m)
        total += (nearest / (NEAR * line)) ** 2
    return total
