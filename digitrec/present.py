"""Showing an answer: what every front end shares about presenting a ``Prediction``.

    format_percent(0.99996)    # ">99.9%": the network is never certain, so never "100.0%"
    to_dict(prediction)        # {"digit": 7, "confidence": 0.98, "probabilities": [...]}: the web API's JSON
    top_labels(prediction)     # {"7": 0.98, "1": 0.01, "9": 0.004}: what gr.Label shows

The picture of what the model saw is ``Prediction.model_image(scale)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only for annotations: predict.py must not depend on how answers are shown
    from digitrec.predict import Prediction


def format_percent(p: float) -> str:
    """A probability for people: float32 softmax saturates to exactly 1 and 0, but the network is
    never certain, so the ends read ">99.9%" and "<0.1%" instead of "100.0%" and "0.0%"."""
    if p < 0.0005:
        return "<0.1%"
    if p >= 0.9995:
        return ">99.9%"
    return f"{p:.1%}"


def to_dict(prediction: Prediction) -> dict[str, Any]:
    """The JSON shape the web API and ``digitrec predict --json`` answer with (``digit`` None if blank)."""
    return {
        "digit": prediction.digit,
        "confidence": round(prediction.confidence, 6),
        "probabilities": [round(p, 6) for p in prediction.probabilities],
    }


def top_labels(prediction: Prediction, k: int = 3) -> dict[str, float]:
    """The ``k`` likeliest digits as ``{"7": 0.98, ...}``, likeliest first (empty if blank)."""
    return {str(digit): p for digit, p in prediction.top(k)}
