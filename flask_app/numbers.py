"""Whole numbers: ``POST /api/read_number`` and the page's number mode.

The endpoint takes a drawing exactly as ``POST /api/predict`` does (a JSON data URL or a multipart
upload, the same limits, the same errors) and answers ``digitrec.reading.to_dict``:

    {"text": "2026", "confidence": 0.93,
     "digits": [{"digit": 2, "confidence": 0.99, "probabilities": [...], "box": [x0, y0, x1, y1]}, ...]}

``box`` is in the pixels of the image sent, x1 and y1 exclusive; ``text`` is "" for a blank canvas.
The page's number mode lives in ``templates/number.html`` and ``static/number.js``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from digitrec.reading import to_dict
from flask_app.views import drawing_from_request, predictor

bp = Blueprint("numbers", __name__)


@bp.post("/api/read_number")
def read_number() -> dict[str, Any]:
    """A drawing of a whole number -> its digits, left to right, with their boxes.

    Raises ``ApiError`` for malformed requests; ``InvalidImage`` from digitrec for bad images.
    """
    return to_dict(predictor().read_number(drawing_from_request()))
