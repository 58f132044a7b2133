"""Reading a line of digits without cutting it first: a CRNN over the number's strip, decoded by CTC.

The network (trained by ``digitrec.training.lines``, shipped as ``models/number_reader.tflite`` with
its card ``models/number_reader.json``) reads the 32x256 strip of the number's ink (``segment.line``)
and answers, for each of its 64 frames (4 strip columns each), 11 probabilities: the ten digits and
CTC's blank. Greedy decoding keeps each frame's likeliest class, merges runs of the same class and
drops the blanks: "00" needs a blank between its two runs of 0. Each digit then gets

- its ten probabilities: the summed frames of its run, renormalized without the blank;
- its ink: between its borders with its neighbours, each border the column with the least ink
  between the two digits' runs (an empty column between digits apart, the thinnest
  stroke between touching ones); a connected blot of ink mostly on one side of the borders goes
  wholly to that digit, one across a border is parted there and marks both digits ``touching``
  (``parted_ink``). That ink alone is framed as one digit is (``preprocess.frame``), which front ends
  show and save.

The answer is a ``Segmentation`` like the cutting reader's, so ``Predictor.read_number``, the
front ends and the feedback store treat both alike. No TensorFlow here: LiteRT runs the file.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage

from digitrec import card as model_card
from digitrec.calibrate import rescale
from digitrec.engines.pick import Unavailable
from digitrec.ink import ink_box
from digitrec.paths import MODELS
from digitrec.preprocess import SIZE, frame
from digitrec.segment.line import FRAMES, LINE_HEIGHT, LINE_WIDTH, STRIDE, Line, ink_frames, line_of
from digitrec.segment.pieces import Piece, Segmentation

BLANK = 10  # CTC's blank: the last of the 11 classes, so class k is digit k
CLASSES = 11
KIND = "number_reader"  # what the card must say the file is
READER_NAME = "number_reader.tflite"
# Training's numbers (1-12 digits) fill 22-28 of the strip's 28 rows; a longer line, shrunk to fit its
# width, would be read at a size the network never saw (40 digits: about 7 rows).
MIN_HEIGHT = 20
OWN = 0.85  # a blot of ink with this share of its ink between one pair of borders is that digit's alone
READER_ENV = "DIGITREC_NUMBER_READER"  # another file, or "off" for the cutting reader alone


@dataclass(frozen=True)
class Span:
    """One decoded digit: its run of frames and its ten probabilities."""

    digit: int
    start: int  # first frame of the run
    end: int  # one past its last frame
    probabilities: np.ndarray  # (10,), summing to 1

    @property
    def centre(self) -> float:
        """The run's middle, in strip columns."""
        return (self.start + self.end) / 2 * STRIDE


def greedy(frames: np.ndarray) -> list[Span]:
    """(T, 11) per-frame probabilities -> the digits, left to right: best class per frame, runs
    merged, blanks dropped (a digit repeated needs a blank between its runs)."""
    frames = np.asarray(frames, np.float64)
    best = frames.argmax(axis=1)
    spans, t = [], 0
    while t < len(best):
        end = t + 1
        while end < len(best) and best[end] == best[t]:
            end += 1
        if best[t] != BLANK:
            p = frames[t:end, :BLANK].sum(axis=0)
            spans.append(Span(int(best[t]), t, end, p / max(float(p.sum()), 1e-12)))
        t = end
    return spans


def text_probability(frames: np.ndarray, digits: list[int]) -> float:
    """CTC's probability of exactly ``digits`` given the (T, 11) frames: summed over every alignment
    of them to the frames (the forward algorithm), so a digit the decoder might merge or miss lowers
    it, where the product of the digits' own confidences cannot see the number's length. Scaled at
    each frame: 64 frames of small probabilities do not underflow."""
    frames = np.asarray(frames, np.float64)
    labels = np.full(2 * len(digits) + 1, BLANK)
    labels[1::2] = digits
    # A path may skip the blank between two digits, not between two equal ones ("00" needs it).
    skip = np.zeros(len(labels), bool)
    skip[2:] = (labels[2:] != BLANK) & (labels[2:] != labels[:-2])
    alpha = np.zeros(len(labels))
    alpha[:2] = frames[0, labels[:2]]
    log_scale = 0.0
    for t in range(1, len(frames)):
        step = alpha.copy()
        step[1:] += alpha[:-1]
        step[2:] += np.where(skip[2:], alpha[:-2], 0.0)
        alpha = step * frames[t, labels]
        total = alpha.sum()
        if total <= 0.0:
            return 0.0
        alpha /= total
        log_scale += np.log(total)
    end = alpha[-2:].sum()  # the last digit, or the blank after it (alpha[-1] alone when no digit)
    return float(np.exp(np.log(end) + log_scale)) if end > 0 else 0.0


def border(ink: np.ndarray, line: Line, left: Span, right: Span) -> int:
    """The working column where ``left``'s ink ends and ``right``'s begins: between the last frame of
    ``left``'s run and the first of ``right``'s (the blank frames between them, where the network saw
    one digit end and the next begin), the column with the least ink (an empty one between digits
    apart; the thinnest stroke between touching ones), the nearest to halfway of equal ones."""
    x_lo, x_hi = line.box[0], line.box[2]
    a = int(round(min(max(line.to_working((left.end - 0.5) * STRIDE), x_lo), x_hi)))
    b = int(round(min(max(line.to_working((right.start + 0.5) * STRIDE), x_lo), x_hi)))
    if b - a < 2:
        return max(a, min(b, (a + b) // 2))
    profile = ink[:, a:b].sum(axis=0)
    middle = (b - a - 1) / 2
    # Ink decides; the distance from halfway only breaks ties (a 1e-3 of a full pixel per column).
    return a + int(np.argmin(profile + 1e-3 * np.abs(np.arange(b - a) - middle)))


def parted_ink(ink: np.ndarray, edges: list[int]) -> tuple[np.ndarray, set[int]]:
    """Which piece each inked pixel belongs to (-1: none), given the pieces' column edges, and the
    pieces whose ink was parted from a neighbour's. A connected blot of ink lying mostly between one
    pair of edges goes wholly to that piece, so digits apart keep their own strokes even where their
    x-extents overlap (a 1 tucked under a 7's bar); a blot across a border (digits that touch) is
    parted at the border's column, and both its pieces are flagged."""
    labels, _ = ndimage.label(ink > 0, structure=np.ones((3, 3)))
    inner = np.asarray(edges[1:-1])
    by_column = np.searchsorted(inner, np.arange(ink.shape[1]), side="right")  # a column's piece
    owner = np.where(labels > 0, by_column[None, :], -1)
    parted: set[int] = set()
    for k, found in enumerate(ndimage.find_objects(labels), start=1):
        blot = labels[found] == k
        pieces_of = owner[found][blot]
        share = np.bincount(pieces_of, weights=ink[found][blot], minlength=len(edges) - 1)
        best = int(np.argmax(share))
        if share[best] >= OWN * share.sum():
            owner[found][blot] = best
        else:
            parted.update(int(i) for i in np.flatnonzero(share))
    return owner, parted


def pieces(line: Line, spans: list[Span]) -> Segmentation:
    """The decoded digits as pieces of the canvas's ink: each takes the ink ``parted_ink`` gives it
    between its borders with its neighbours (``border``), framed as one digit is (module docstring)."""
    ink, f = line.ink, line.scale
    w, h = line.size
    x_lo, y_lo, x_hi, y_hi = line.box
    edges = [x_lo, *(border(ink, line, a, b) for a, b in zip(spans, spans[1:], strict=False)), x_hi]
    # All the ink lies in its box, a small part of a wide canvas: it is parted there.
    inked = ink[y_lo:y_hi, x_lo:x_hi]
    owner, parted = parted_ink(inked, [x - x_lo for x in edges])
    out = []
    for k, span in enumerate(spans):
        mine = owner == k
        box = ink_box(mine)
        if box is not None:
            x0, y0, x1, y1 = box
            own = np.where(mine[y0:y1, x0:x1], inked[y0:y1, x0:x1], 0.0)
            x0, y0, x1, y1 = x0 + x_lo, y0 + y_lo, x1 + x_lo, y1 + y_lo
        else:  # the network saw a digit where no ink is left to it: show its own run's columns
            a = min(max(int(line.to_working(span.start * STRIDE)), 0), ink.shape[1] - 1)
            b = max(int(np.ceil(line.to_working(span.end * STRIDE))), a + 1)
            mine = np.zeros(ink.shape, bool)
            mine[:, a:b] = ink[:, a:b] > 0
            x0, y0, x1, y1 = ink_box(mine) or (a, y_lo, b, y_hi)
            own = np.where(mine, ink, 0.0)[y0:y1, x0:x1]
        framed = frame(own)
        out.append(
            Piece(
                (x0 * f, y0 * f, min(x1 * f, w), min(y1 * f, h)),
                framed if framed is not None else np.zeros((SIZE, SIZE), np.float32),
                span.probabilities,
                (x0, y0, x1, y1),
                own > 0,
                own,
                k in parted,
            )
        )
    return Segmentation(out, line.size, f, float(line.box[3] - line.box[1]))


class LineNet:
    """A ``.tflite`` line reader: (32, 256) uint8 strip -> (64, 11) probabilities. One interpreter,
    used under a lock (an interpreter is not thread-safe; a pass takes a few milliseconds)."""

    def __init__(self, path: str | os.PathLike, threads: int = 1):
        from digitrec.engines.litert import open_interpreter

        self._interpreter, self._input, self._output = open_interpreter(
            path, threads, (1, LINE_HEIGHT, LINE_WIDTH, 1), (1, FRAMES, CLASSES)
        )
        self._lock = threading.Lock()

    def __call__(self, strip: np.ndarray) -> np.ndarray:
        x = (np.asarray(strip, np.float32) / 255.0).reshape(1, LINE_HEIGHT, LINE_WIDTH, 1)
        with self._lock:
            self._interpreter.set_tensor(self._input, x)
            self._interpreter.invoke()
            return self._interpreter.get_tensor(self._output)[0].copy()


def reader_path(path: str | os.PathLike | None = None) -> Path | None:
    """The line reader's file: ``path``, else ``$DIGITREC_NUMBER_READER``, else the shipped one;
    None when switched off (``DIGITREC_NUMBER_READER=off``)."""
    chosen = str(path) if path is not None else os.environ.get(READER_ENV, "")
    if chosen.lower() in ("off", "0", "none", "segmentation"):
        return None
    return Path(chosen).expanduser() if chosen else MODELS / READER_NAME


class LineReader:
    """The learned reader: a checked ``.tflite`` file and the decoding around it."""

    def __init__(self, net: Any, card: dict | None = None, path: Path | None = None):
        self.net, self.card, self.path = net, card, path
        # Fitted on the validation writers' numbers (``training.lines.calibrate``): frames ** (1 / T).
        self.temperature = float((card or {}).get("temperature") or 1.0)

    @classmethod
    def load(cls, path: str | os.PathLike | None = None) -> LineReader:
        """The reader at ``reader_path(path)``, its card checked: raises ``Unavailable`` (saying why)
        when it is switched off, missing, not what its card describes, or LiteRT is not installed."""
        from digitrec.engines import litert

        flat = reader_path(path)
        if flat is None:
            raise Unavailable(f"switched off (${READER_ENV})")
        if not flat.is_file():
            raise Unavailable(f"no {flat} (`python -m digitrec.training.lines train` makes one)")
        card = model_card.read(flat)
        info = (card or {}).get("tflite") or {}
        if (card or {}).get("kind") != KIND or not info.get("sha256"):
            raise Unavailable(f"{model_card.card_path(flat).name} is missing or is no {KIND} card")
        if model_card.sha256(flat) != info["sha256"]:
            raise Unavailable(f"{flat.name} does not match the SHA-256 in its card")
        if not litert.available():
            raise Unavailable("the ai-edge-litert package is not installed")
        try:
            net = LineNet(flat)
        except (ValueError, RuntimeError) as exc:
            raise Unavailable(f"{flat.name} cannot be loaded ({exc})") from None
        return cls(net, card, flat)

    def read(self, image: Any) -> tuple[Segmentation, np.ndarray] | None:
        """A drawing -> (its digits as a ``Segmentation``, the (T, 11) frames over its ink, T <= 64);
        None when blank, or when the number is too long for the strip (its ink fitted under
        MIN_HEIGHT rows: wider than any number the reader learned; ``read_number`` cuts it instead).
        Raises ``InvalidImage`` as ``preprocess`` does."""
        line = line_of(image)
        if line is None or (line.box[3] - line.box[1]) * line.zoom < MIN_HEIGHT:
            return None
        frames = self.net(line.image)[: ink_frames(line.image)]  # the frames over the ink, as in training
        if self.temperature != 1.0:
            frames = rescale(frames, self.temperature)
        return pieces(line, greedy(frames)), frames
