"""One drawing, three front ends: Pygame, Flask and Gradio give the same answer as the Predictor."""

from __future__ import annotations

import numpy as np
import pygame
import pytest

import gradio_app
import pygame_frontend
from digitrec.data.canvases import to_png
from digitrec.imageio import encode_data_url
from flask_app import create_app
from tests.harness.support import draw_digit


def pygame_drawing(predictor, digit: int):
    """Draw ``digit`` in the real Pygame app with posted mouse events; return the app after release."""
    app = pygame_frontend.open_window(predictor)
    pygame.event.clear()
    draw_digit(app, digit)
    app.step()
    return app


@pytest.mark.parametrize("digit", [4, 7])
def test_the_same_drawing_gets_the_same_answer_everywhere(predictor, digit):
    app = pygame_drawing(predictor, digit)
    try:
        image = app.canvas.as_array()
        from_pygame = app.prediction
    finally:
        pygame.quit()
    reference = predictor.predict(image)
    assert reference.digit == digit

    png = to_png(image)
    url = encode_data_url(png)
    from_flask = create_app(predictor=predictor).test_client().post("/api/predict", json={"image": url}).get_json()
    label, _ = gradio_app.predict({"background": None, "layers": [], "composite": image})

    assert from_pygame.digit == from_flask["digit"] == int(max(label, key=label.get)) == digit
    np.testing.assert_allclose(from_pygame.probabilities, reference.probabilities, atol=1e-6)
    # The PNG's way and the array's frame the same drawing to within float rounding; the LiteRT file's
    # int8 weights quantize each layer's input afresh, which can turn that into a few 1e-5.
    np.testing.assert_allclose(from_flask["probabilities"], reference.probabilities, atol=1e-4)
    top3 = reference.top(3)
    assert [(int(d), pytest.approx(p, abs=1e-6)) for d, p in label.items()] == [
        (d, pytest.approx(p, abs=1e-6)) for d, p in top3
    ]
