"""How ``digitrec.segment`` shows a piece to the network: its own ink (with its faint edges) cut out,
framed as one digit is, and read in batches, each piece once."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy import ndimage

from digitrec.ink import ink_box
from digitrec.preprocess import frame
from digitrec.segment.marks import Box, Distances, Group

Probabilities = Callable[[np.ndarray], np.ndarray]  # (N, 28, 28) framed images -> (N, 10)


def owners(ink: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The label map with the faint edge pixels (0 < ink <= INK) given to the mark within 2 pixels
    of them, as drop_specks keeps a stroke's halo: each piece then takes its antialiased edges along."""
    owned = labels.copy()
    box = ink_box(labels)
    if box is None:
        return owned
    # Only around the marks: most of a canvas is empty.
    x0, y0, x1, y1 = max(box[0] - 2, 0), max(box[1] - 2, 0), box[2] + 2, box[3] + 2
    box = labels[y0:y1, x0:x1]
    near = ndimage.maximum_filter(box, size=5)
    owned[y0:y1, x0:x1] = np.where(box > 0, box, np.where(ink[y0:y1, x0:x1] > 0, near, 0))
    return owned


def piece_ink(ink: np.ndarray, owned: np.ndarray, g: Group) -> tuple[np.ndarray, Box, np.ndarray]:
    """The piece's ink alone, in its box grown by 2 pixels: (ink, that box, the piece's pixels in it)."""
    h, w = ink.shape
    x0, y0, x1, y1 = max(g.x0 - 2, 0), max(g.y0 - 2, 0), min(g.x1 + 2, w), min(g.y1 + 2, h)
    sub = owned[y0:y1, x0:x1]
    own = sub == g.ids[0] if len(g.ids) == 1 else np.isin(sub, g.ids)
    if g.cols is not None:  # a cut piece: only its columns
        cols = np.arange(x0, x1)
        own &= (cols >= g.cols[0]) & (cols < g.cols[1])
    return np.where(own, ink[y0:y1, x0:x1], np.float32(0)), (x0, y0, x1, y1), own


class Reader:
    """Frames pieces and reads them in batches, remembering each piece's answer."""

    def __init__(self, ink: np.ndarray, labels: np.ndarray, probabilities: Probabilities):
        self.ink, self.labels, self.probabilities = ink, labels, probabilities
        self.owners = owners(ink, labels)
        self.distance = Distances(labels)
        self.framed: dict[tuple, np.ndarray | None] = {}
        self.read: dict[tuple, np.ndarray | None] = {}
        self.seen: dict[tuple, Group] = {}

    @staticmethod
    def key(g: Group) -> tuple:
        """What makes two pieces the same piece: their marks and, for a cut one, its columns."""
        return (tuple(sorted(g.ids)), g.cols)

    def __call__(self, groups: Sequence[Group]) -> list[np.ndarray | None]:
        todo = [g for g in groups if self.key(g) not in self.read]
        self.seen.update((self.key(g), g) for g in todo)
        for g in todo:
            self.framed.setdefault(self.key(g), self._frame(g))
        inked = [g for g in todo if self.framed[self.key(g)] is not None]
        if inked:
            probs = self.probabilities(np.stack([self.framed[self.key(g)] for g in inked]))
            for g, p in zip(inked, probs, strict=True):
                self.read[self.key(g)] = p
        for g in todo:
            self.read.setdefault(self.key(g), None)
        return [self.read[self.key(g)] for g in groups]

    def _frame(self, g: Group) -> np.ndarray | None:
        """The piece through ``preprocess.frame``, the very steps a drawing of one digit goes through
        after its ink is found: 28x28, or None if blank."""
        piece, _box, _own = piece_ink(self.ink, self.owners, g)
        return frame(piece)

    def groups(self) -> list[tuple[Group, np.ndarray | None]]:
        """Every piece read so far, in the order it was first asked for, with its probabilities."""
        return [(g, self.read[key]) for key, g in self.seen.items()]
