"""Make the line reader's number confidence mean what it says, on the validation writers' numbers.

``read_number`` reports, for a learned reading, CTC's probability of exactly its text
(``segment.learned.text_probability``). One temperature T for the frames (each frame's
probabilities as softmax(log p / T), as ``digitrec.calibrate`` does for digits) is chosen to
minimise the log-loss of "read exactly" over the validation writers' numbers, then kept in the
reader's card, which ``LineReader`` reads. Frames come from the ``.tflite`` file the apps run, so
the fit sees exactly what they see. No TensorFlow.

    python -m digitrec.training.lines calibrate --model models/number_reader.tflite --validation runs/lines/validation
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from digitrec import card as model_card
from digitrec.calibrate import calibration_error, rescale
from digitrec.segment.learned import LineNet, greedy, text_probability
from digitrec.segment.line import ink_frames
from digitrec.training.lines.data import load_shards

GRID = np.exp(np.linspace(np.log(0.5), np.log(4.0), 43))  # temperatures tried


def read_all(flat: str | os.PathLike, strips: np.ndarray) -> list[np.ndarray]:
    """Each strip's frames over its ink, as ``LineReader.read`` takes them (before any temperature)."""
    net = LineNet(flat)
    return [net(strip)[: ink_frames(strip)] for strip in strips]


def decode(frames: list[np.ndarray]) -> list[list[int]]:
    """Each number's digits, greedy-decoded: a temperature keeps every frame's likeliest class, so
    these stay the same whatever ``T`` is tried."""
    return [[s.digit for s in greedy(f)] for f in frames]


def confidences(frames: list[np.ndarray], digits: list[list[int]], temperature: float) -> np.ndarray:
    """Each number's probability of its decoded ``digits`` at ``temperature``."""
    return np.array(
        [text_probability(rescale(f, temperature) if temperature != 1.0 else f, d) if d else 0.0
         for f, d in zip(frames, digits, strict=True)]
    )  # fmt: skip


def report(sure: np.ndarray, exact: np.ndarray) -> dict:
    """ECE, and how often a reading claiming more than 90% is exact."""
    confident = sure > 0.9
    return {
        "ece": round(calibration_error(sure, exact), 5),
        "claims_over_90": int(confident.sum()),
        "exact_among_them": round(float(exact[confident].mean()), 5) if confident.any() else None,
    }


def fit(frames: list[np.ndarray], truths: list[str]) -> tuple[float, dict]:
    """The temperature minimising the log-loss of "read exactly", and the figures before and after."""
    digits = decode(frames)
    exact = np.array(["".join(map(str, d)) == t for d, t in zip(digits, truths, strict=True)])

    def log_loss(sure: np.ndarray) -> float:
        sure = np.clip(sure, 1e-6, 1 - 1e-6)
        return float(-np.mean(np.where(exact, np.log(sure), np.log1p(-sure))))

    losses = [log_loss(confidences(frames, digits, t)) for t in GRID]
    best = float(GRID[int(np.argmin(losses))])
    after = confidences(frames, digits, best)
    figures = {
        "numbers": len(truths),
        "exact": round(float(exact.mean()), 5),
        "before": report(confidences(frames, digits, 1.0), exact),
        "after": report(after, exact),
    }
    return best, figures


def calibrate(flat: str | os.PathLike, validation: str | os.PathLike, limit: int | None = None) -> dict:
    """Fit the temperature of the reader ``flat`` on the shards in ``validation``; write it into the
    reader's card (beside the ``.tflite``) and return the card."""
    flat = Path(flat)
    card = model_card.read(flat)
    if not card:
        raise FileNotFoundError(f"no card beside {flat}")
    strips, _, truths = load_shards(validation, limit)
    temperature, figures = fit(read_all(flat, strips), truths)
    card["temperature"] = round(temperature, 4)
    card["calibration"] = {"data": str(Path(validation).name), **figures}
    model_card.write(flat, card)
    return card
