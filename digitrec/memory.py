"""A user's saved drawings beside the network: a correction changes the next similar answer at once.

    memory = Memory.from_drawings(predictor, Store.open(db).drawings(user="ana"))
    predictor.predict(image, memory=memory)          # predict_batch, read_number and probabilities too

Fine-tuning (``digitrec.training.finetune``) learns a user's hand in tens of seconds, on demand; the
memory helps at once. Each saved drawing is kept as the network's last hidden layer (the final Dense
layer's input, ``Predictor.features``) and its label. A new drawing's own hidden layer is compared
with them by cosine similarity; its ``k`` nearest at least ``threshold`` similar vote for their labels,
each with weight ``exp((similarity - 1) / temperature)`` (the nearest counts most), and the votes,
summing to 1, are blended with the network's probabilities:

    blended = (1 - weight) * network + weight * votes

With ``weight`` under 0.5 the network keeps its confident answers: a unanimous vote for digit c
overrides the network's top digit t only when p[t] - p[c] < weight / (1 - weight) (0.82 for 0.45).
A drawing unlike every saved one, and every drawing when the memory is empty, keeps the network's
answer exactly. The settings were chosen on the validation writers (docs/finetune.md, "Before
fine-tuning: the per-user memory"; ``python -m scripts.memory_trials``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from digitrec.preprocess import preprocess

if TYPE_CHECKING:
    from digitrec.predict import Predictor

K = 3  # how many saved drawings vote
WEIGHT = 0.45  # the votes' share of the answer
THRESHOLD = 0.6  # the cosine similarity below which a saved drawing does not vote
TEMPERATURE = 0.02  # how much more a nearer saved drawing's vote counts


@dataclass(frozen=True)
class Memory:
    """One user's saved drawings as (features, labels). Build it with ``from_drawings``."""

    features: np.ndarray = field(repr=False)  # (S, units) float32, each row of unit length
    labels: np.ndarray = field(repr=False)  # (S,) the digits the user said
    k: int = K
    weight: float = WEIGHT
    threshold: float = THRESHOLD
    temperature: float = TEMPERATURE

    @classmethod
    def from_features(cls, features: np.ndarray, labels: Iterable[int], **settings: Any) -> Memory:
        """From hidden layers (``Predictor.features``) and their labels; ``settings``: k, weight,
        threshold, temperature."""
        features = np.asarray(features, np.float32).reshape(len(features), -1) if len(features) else np.zeros((0, 0))
        labels = np.asarray(list(labels), np.int64)
        if len(labels) != len(features):
            raise ValueError(f"{len(features)} features but {len(labels)} labels")
        if len(labels) and (labels.min() < 0 or labels.max() > 9):
            raise ValueError("labels must be digits 0-9")
        return cls(_unit(features.astype(np.float32)), labels, **settings)

    @classmethod
    def from_drawings(cls, predictor: Predictor, drawings: Iterable[Any], **settings: Any) -> Memory:
        """From saved drawings (``Store.drawings(user=...)``: anything with ``png`` and ``label``), each
        framed by ``preprocess`` as ``predict`` frames a drawing; blank ones are left out."""
        framed, labels = [], []
        for drawing in drawings:
            image = preprocess(drawing.png)
            if image is not None:
                framed.append(image)
                labels.append(int(drawing.label))
        features = predictor.features(np.stack(framed)) if framed else np.zeros((0, 0), np.float32)
        return cls.from_features(features, labels, **settings)

    def __len__(self) -> int:
        return len(self.labels)

    def votes(self, features: np.ndarray) -> np.ndarray:
        """(N, units) hidden layers -> (N, 10): the labels of the ``k`` nearest saved drawings at least
        ``threshold`` similar, weighted by similarity, each row summing to 1, or all zero where none is."""
        votes = np.zeros((len(features), 10), np.float32)
        if not len(self) or not len(features):
            return votes
        sims = _unit(np.asarray(features, np.float32).reshape(len(features), -1)) @ self.features.T
        k = min(self.k, len(self))
        nearest = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        top = np.take_along_axis(sims, nearest, axis=1)
        weights = np.where(top >= self.threshold, np.exp((top - 1.0) / self.temperature), 0.0)
        np.add.at(votes, (np.arange(len(features))[:, None], self.labels[nearest]), weights)
        total = votes.sum(axis=1, keepdims=True)
        return np.divide(votes, total, out=votes, where=total > 0)

    def blend(self, probabilities: np.ndarray, features: np.ndarray) -> np.ndarray:
        """The network's (N, 10) ``probabilities`` with the votes for these (N, units) ``features``
        blended in; rows no saved drawing is similar enough to are returned exactly as they were."""
        probabilities = np.asarray(probabilities)
        if not len(self):
            return probabilities
        votes = self.votes(features)
        speaks = votes.sum(axis=1) > 0
        if not speaks.any():
            return probabilities
        out = probabilities.copy()
        out[speaks] = (1 - self.weight) * probabilities[speaks] + self.weight * votes[speaks]
        return out


@dataclass(frozen=True)
class _Drawing:
    png: bytes
    label: int


class Memories:
    """Each user's ``Memory``, built on first use from their saved drawings (``drawings(user)``) and kept
    for the ``size`` users asked for most recently; ``add`` puts a new saved drawing in at once, ``drop``
    forgets a user. What ``digitrec.feedback.Feedback.memory`` keeps; thread-safe.

    A memory built while a drawing was being saved or forgotten is answered but not kept (it may
    predate the change): the next call builds it again."""

    def __init__(self, predictor: Predictor, drawings: Callable[[str], Iterable[Any]], size: int = 64) -> None:
        self.predictor = predictor
        self.drawings = drawings
        self.size = size
        self._kept: OrderedDict[str, Memory] = OrderedDict()
        self._changes = 0  # saves and forgets so far: a build that saw one begin is not kept
        self._lock = threading.Lock()

    def get(self, user: str) -> Memory | None:
        """``user``'s memory, or None when they saved nothing. Raises what ``drawings`` raises."""
        with self._lock:
            memory = self._kept.get(user)
            if memory is not None:
                self._kept.move_to_end(user)
                return memory or None
            changes = self._changes
        memory = Memory.from_drawings(self.predictor, self.drawings(user))
        with self._lock:
            if changes == self._changes:
                self._keep(user, memory)
        return memory or None

    def add(self, user: str, png: bytes, label: int) -> None:
        """``user`` saved the drawing ``png`` as ``label``: their kept memory (if any) has it from now on."""
        new = Memory.from_drawings(self.predictor, [_Drawing(png, int(label))])
        with self._lock:
            self._changes += 1
            memory = self._kept.get(user)
            if memory is not None:
                if len(memory) and len(new):
                    new = replace(
                        memory,
                        features=np.concatenate([memory.features, new.features]),
                        labels=np.concatenate([memory.labels, new.labels]),
                    )
                self._keep(user, new if len(new) else memory)

    def drop(self, user: str) -> None:
        """``user``'s drawings are gone (or changed): forget their memory."""
        with self._lock:
            self._changes += 1
            self._kept.pop(user, None)

    def _keep(self, user: str, memory: Memory) -> None:
        self._kept[user] = memory
        self._kept.move_to_end(user)
        while len(self._kept) > self.size:
            self._kept.popitem(last=False)


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12) if len(x) else x
