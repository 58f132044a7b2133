"""digitrec.present: how every front end shows an answer."""

from __future__ import annotations

import json

import numpy as np
import pytest

from digitrec.present import format_percent, to_dict, top_labels


@pytest.mark.parametrize(
    "p, text",
    [(1.0, ">99.9%"), (0.99951, ">99.9%"), (0.9994, "99.9%"), (0.5, "50.0%"), (0.0004, "<0.1%"), (0.0, "<0.1%")],
)
def test_percentages_never_claim_certainty(p, text):
    assert format_percent(p) == text


def test_the_json_shape_and_the_top_labels(predictor, make_drawing_png):
    result = predictor.predict(make_drawing_png(4))
    d = to_dict(result)
    assert set(d) == {"digit", "confidence", "probabilities"} and d["digit"] == 4 and json.dumps(d)
    assert d["confidence"] == round(result.confidence, 6) and len(d["probabilities"]) == 10
    labels = top_labels(result)
    assert list(labels) == [str(digit) for digit, _ in result.top(3)]
    assert labels["4"] == result.confidence and len(top_labels(result, 5)) == 5


def test_a_blank_canvas_shows_no_digit(predictor):
    blank = predictor.predict(np.full((280, 280), 255, np.uint8))
    assert to_dict(blank)["digit"] is None and top_labels(blank) == {}
