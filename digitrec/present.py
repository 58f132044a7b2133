"""Showing an answer: what every front end shares about presenting a ``Prediction``.

    format_percent(0.99996)    # ">99.9%": the network is never certain, so never "100.0%"
    to_dict(prediction)        # {"digit": 7, "confidence": 0.98, "probabilities": [...]}: the web API's JSON
    top_labels(prediction)     # {"7": 0.98, "1": 0.01, "9": 0.004}: what gr.Label shows
    to_dict(reading)           # {"text": "2026", "confidence": 0.93, "digits": [{..., "box": [x0, y0, x1, y1]}]}
    summary(reading)           # "2026 (93.1% sure)"; digit_label(d): "2: 98.1%, 7: 1.2%, 3: 0.3%"
    annotations(reading)       # each digit's box and label, for gr.AnnotatedImage
    overlay(image, reading)    # the drawing with each digit's ink in its own colour: how it was cut

The picture of what the model saw is ``Prediction.model_image(scale)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from digitrec.feedback import Saved, count_line
from digitrec.imageio import ImageLike, picture
from digitrec.predict import DigitReading, NumberReading, Prediction
from digitrec.segment import Box


def format_percent(p: float) -> str:
    """A probability for people: float32 softmax saturates to exactly 1 and 0, but the network is
    never certain, so the ends read ">99.9%" and "<0.1%" instead of "100.0%" and "0.0%"."""
    if p < 0.0005:
        return "<0.1%"
    if p >= 0.9995:
        return ">99.9%"
    return f"{p:.1%}"


def to_dict(answer: Prediction | NumberReading) -> dict[str, Any]:
    """The JSON shape the web API and ``digitrec predict [--number] --json`` answer with.

    A ``Prediction``: ``digit`` (None if blank), ``confidence`` and ten ``probabilities``; a
    ``NumberReading``: ``text``, ``confidence`` and each digit's own with its ``box``.
    """
    if isinstance(answer, NumberReading):
        return {
            "text": answer.text,
            "confidence": round(answer.confidence, 6),
            "digits": [{**to_dict(d.prediction), "box": list(d.box)} for d in answer.digits],
        }
    return {
        "digit": answer.digit,
        "confidence": round(answer.confidence, 6),
        "probabilities": [round(p, 6) for p in answer.probabilities],
    }


def saved_line(saved: Saved) -> str:
    """What a front end says after a save: "Saved digit 2 as a 7 (a correction). 3 drawings saved by ana, kept in
    ..."; "Saved as a 3 (right). ..." for a whole drawing."""
    what = "Saved" if saved.position is None else f"Saved digit {saved.position + 1}"
    verdict = "a correction" if saved.correction else "right"
    return f"{what} as a {saved.label} ({verdict}). " + count_line(saved.count, saved.where, saved.user)


def top_labels(prediction: Prediction, k: int = 3) -> dict[str, float]:
    """The ``k`` likeliest digits as ``{"7": 0.98, ...}``, likeliest first (empty if blank)."""
    return {str(digit): p for digit, p in prediction.top(k)}


# --- a whole number ---------------------------------------------------------------------------------


def summary(reading: NumberReading) -> str:
    """One line for people: '2026 (91.3% sure)', or 'blank (no digit drawn)'."""
    if reading.blank:
        return "blank (no digit drawn)"
    return f"{reading.text} ({format_percent(reading.confidence)} sure)"


def digit_label(d: DigitReading, k: int = 3) -> str:
    """'2: 98.1%, 7: 1.2%, 3: 0.3%': a digit's ``k`` likeliest readings."""
    return ", ".join(f"{digit}: {format_percent(p)}" for digit, p in d.prediction.top(k))


def annotations(reading: NumberReading) -> list[tuple[Box, str]]:
    """Each digit's box with its label ("2 (98.1%)"), for ``gr.AnnotatedImage``."""
    return [(d.box, f"{d.digit} ({format_percent(d.confidence)})") for d in reading.digits]


# Distinct colours for neighbouring pieces (Okabe-Ito, readable by colour-blind people).
COLOURS = ((0, 114, 178), (213, 94, 0), (0, 158, 115), (204, 121, 167), (230, 159, 0), (86, 180, 233))


def overlay(image: ImageLike, reading: NumberReading, scale: int = 1) -> np.ndarray:
    """The drawing with each digit's ink in its own colour, its box around it and its reading
    above: how the number was cut. RGB uint8, ``scale`` times the drawing's size."""
    base = picture(image)
    out = base.copy()
    if reading.segmentation is not None and reading.digits:
        pieces = reading.segmentation.label_map()  # the ink each piece took, whatever the canvas's colours
        for k in range(1, len(reading.digits) + 1):
            out[pieces == k] = COLOURS[(k - 1) % len(COLOURS)]
    img = Image.fromarray(out)
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    draw = ImageDraw.Draw(img)
    for k, d in enumerate(reading.digits):
        colour = COLOURS[k % len(COLOURS)]
        x0, y0, x1, y1 = (v * scale for v in d.box)
        draw.rectangle((x0 - 2, y0 - 2, x1 + 1, y1 + 1), outline=colour, width=max(1, scale))
        draw.text((x0, max(y0 - 14, 0)), str(d.digit), fill=colour)
    return np.asarray(img)


LEARNT_FIGURES = {"saved": "own drawings", "mnist_test": "MNIST test", "validation_writers": "other writers"}


def learnt_figures(state: dict) -> str:
    """A finished Learn's figures: "own drawings 80.0% → 95.0% (2-fold cross-validation), MNIST test ..."."""
    return ", ".join(learnt_parts(state))


def learnt_parts(state: dict) -> list[str]:
    """``learnt_figures``, one string a figure."""
    before, after = state.get("before") or {}, state.get("after") or {}

    def pc(value: float | None) -> str:
        return "n/a" if value is None else f"{100 * value:.1f}%"

    parts = []
    for key, name in LEARNT_FIGURES.items():
        if key in before:
            how = f" ({state['figure']})" if key == "saved" and state.get("figure") else ""
            parts.append(f"{name} {pc(before[key])} → {pc(after.get(key))}{how}")
    return parts


def learn_line(state: dict) -> str:
    """What a front end shows for a Learn (``Job.to_dict``, or ``GET /api/learn``'s answer): waiting, the
    percent, the figures before and after, or why it failed."""
    who = f"{state.get('user')}'s handwriting"
    if state.get("state") == "queued":
        return f"Learning {who}: waiting for its turn…"
    if state.get("state") == "running":
        return f"Learning {who}: {state.get('percent', 0)}%…"
    if state.get("state") == "done":
        return f"Learnt {who}: {learnt_figures(state)}. Answers for this name now come from its own model."
    return f"Not learnt: {state.get('error') or state.get('state')}"
