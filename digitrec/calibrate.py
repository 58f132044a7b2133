"""Temperature scaling: make the softmax's confidence mean what it says.

Dropout and heavy augmentation leave a network under-confident on clean digits; drawings unlike
its training data make it over-confident. One scalar T, fitted on held-out images by minimising
the negative log-likelihood, fixes most of either (Guo et al., 2017). It is folded into the last
Dense layer (weights and bias divided by T), so the saved model itself is calibrated and every
engine that runs it gives the same calibrated answers.
"""

from __future__ import annotations

import numpy as np


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    """Mean gap between confidence and accuracy over equal-width confidence bins, weighted by count."""
    return calibration_error(probs.max(axis=1), probs.argmax(axis=1) == labels, bins)


def calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 15) -> float:
    """``expected_calibration_error`` of any claim: each answer's ``confidence`` in [0, 1] against
    whether it was ``correct`` (e.g. a whole number's reading against the exact number)."""
    confidence, correct = np.asarray(confidence, float), np.asarray(correct, bool)
    if confidence.shape != correct.shape:
        raise ValueError(f"{confidence.shape} confidences for {correct.shape} answers")
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=False):
        inside = (confidence > lo) & (confidence <= hi)
        if inside.any():
            ece += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(ece)


def rescale(probs: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(log p / T): what dividing the logits by T does to softmax outputs."""
    logits = np.log(np.clip(probs, 1e-12, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)


def fit_temperature(probs: np.ndarray, labels: np.ndarray) -> float:
    """The T in [0.25, 4] minimising the negative log-likelihood (a fine 1-D grid search)."""
    grid = np.exp(np.linspace(np.log(0.25), np.log(4.0), 241))
    rows = np.arange(len(labels))
    nll = [-np.log(np.clip(rescale(probs, t)[rows, labels], 1e-12, 1.0)).mean() for t in grid]
    return float(grid[int(np.argmin(nll))])


def fold_temperature(model, temperature: float) -> None:
    """Divide the final Dense layer's weights and bias by T, in place (softmax output models only)."""
    last = model.layers[-1]
    kernel, bias = last.get_weights()
    last.set_weights([kernel / temperature, bias / temperature])
