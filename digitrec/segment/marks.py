"""Steps 2-5 of ``digitrec.segment``: the marks (connected blots of ink), the line height, specks
dropped and parts joined to the mark they lie over, and the distance between two marks' ink."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from digitrec.imageio import InvalidImage
from digitrec.segment.sizes import INK, MAX_GAP, MAX_MARKS, PART, SPECK

Box = tuple[int, int, int, int]  # x0, y0, x1, y1; x1 and y1 exclusive


@dataclass
class Group:
    """Marks (label ids) read as one, with their box at the working resolution; ``cols`` limits a cut piece."""

    ids: tuple[int, ...]
    x0: int
    y0: int
    x1: int
    y1: int
    cols: tuple[int, int] | None = None

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def centre(self) -> float:
        return (self.x0 + self.x1) / 2

    def __add__(self, other: Group) -> Group:
        return Group(
            self.ids + other.ids,
            min(self.x0, other.x0),
            min(self.y0, other.y0),
            max(self.x1, other.x1),
            max(self.y1, other.y1),
        )


def find_marks(ink: np.ndarray) -> tuple[np.ndarray, list[Group], float, int]:
    """(label image, the marks that are no specks, the line height, how many specks were dropped)."""
    labels, count = ndimage.label(ink > INK, structure=np.ones((3, 3)))
    if count == 0:
        return labels, [], 0.0, 0
    slices = ndimage.find_objects(labels)
    boxes = np.array([(s[1].start, s[0].start, s[1].stop, s[0].stop) for s in slices])
    widths, heights = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    areas = np.bincount(labels.ravel(), minlength=count + 1)[1:]
    big = np.flatnonzero(areas >= 0.1 * areas.max())  # strokes, not dots
    line = line_height(boxes[big])
    keep = np.flatnonzero(np.maximum(widths, heights) >= SPECK * line)
    if len(keep) > MAX_MARKS:
        raise InvalidImage(
            f"too many separate marks to read as a number ({len(keep):,}; at most {MAX_MARKS}): "
            "write the number alone on the canvas",
            "too_large",
        )
    marks = [Group((int(i) + 1,), *map(int, boxes[i])) for i in keep]
    return labels, marks, line, count - len(keep)


def line_height(boxes: np.ndarray) -> float:
    """How tall the writing is: the tallest stroke, or, when taller, the middle height of the columns
    of strokes that meet in x and stand no wider than tall, as one digit does (a 9 whose loop stands
    apart from its stem is as tall as both together; two neighbours side by side are not one column),
    at most twice the tallest stroke (two halves of a broken 8; never a column of dust)."""
    tallest = float((boxes[:, 3] - boxes[:, 1]).max())
    columns: list[list[int]] = []  # [x0, y0, x1, y1] of each column of strokes, left to right
    for x0, y0, x1, y1 in boxes[np.argsort(boxes[:, 0])].tolist():
        if columns and x0 <= columns[-1][2] + 0.1 * tallest:
            c = columns[-1]
            c[1], c[2], c[3] = min(c[1], y0), max(c[2], x1), max(c[3], y1)
        else:
            columns.append([x0, y0, x1, y1])
    heights = [y1 - y0 for x0, y0, x1, y1 in columns if x1 - x0 <= y1 - y0]
    return min(max(tallest, float(np.median(heights))) if heights else tallest, 2 * tallest)


def join_parts(marks: list[Group], line: float, distance: Distances) -> list[Group]:
    """Each part whose x-extent lies mostly within one other mark's, overlapping no other and
    nearer no other, joins that mark (a 5's flag over its body, a 7's crossbar over its stem, the
    two loops of a broken 8). The rest is left to the network (step 6): a 1's flag tucked under a
    7's bar overlaps the 7 but ends at its own stem."""
    n = len(marks)
    if n < 2:
        return marks
    x0 = np.array([m.x0 for m in marks])
    x1 = np.array([m.x1 for m in marks])
    overlap = np.clip(np.minimum(x1[:, None], x1[None, :]) - np.maximum(x0[:, None], x0[None, :]), 0, None)
    np.fill_diagonal(overlap, 0)
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for p in sorted(range(n), key=lambda i: marks[i].width):
        if marks[p].height >= PART * line:
            continue
        order = np.argsort(overlap[p])[::-1]
        best, second = overlap[p, order[0]], overlap[p, order[1]] if n > 2 else 0
        if best < 0.5 * marks[p].width or second > 0:
            continue
        q = int(order[0])
        near = [r for r in range(n) if r not in (p, q) and x_gap(marks[p], marks[r]) <= MAX_GAP * line]
        if near and min(distance(marks[p], marks[r]) for r in near) <= distance(marks[p], marks[q]):
            continue
        parent[root(p)] = root(q)
    groups: dict[int, Group] = {}
    for i in range(n):
        r = root(i)
        groups[r] = groups[r] + marks[i] if r in groups else marks[i]
    return list(groups.values())


def x_gap(a: Group, b: Group) -> int:
    """How far apart two marks are in x (negative when their x-extents overlap)."""
    return max(a.x0, b.x0) - min(a.x1, b.x1)


class Distances:
    """The shortest distance between two marks' ink, in pixels; each pair measured once."""

    def __init__(self, labels: np.ndarray):
        self.labels = labels
        self.known: dict[tuple, float] = {}

    def __call__(self, a: Group, b: Group) -> float:
        key = (a.ids, b.ids) if a.ids <= b.ids else (b.ids, a.ids)
        if key not in self.known:
            x0, y0, x1, y1 = min(a.x0, b.x0), min(a.y0, b.y0), max(a.x1, b.x1), max(a.y1, b.y1)
            region = self.labels[y0:y1, x0:x1]
            in_b = np.isin(region, b.ids)
            self.known[key] = float(ndimage.distance_transform_edt(~np.isin(region, a.ids))[in_b].min())
        return self.known[key]
