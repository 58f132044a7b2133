"""The Pygame front end's number mode (N), headless: posted events through the loop step main() runs."""

from __future__ import annotations

import numpy as np
import pygame
import pytest

import pygame_frontend as front
import pygame_numbers as numbers
from digitrec.drawings import pen_paths
from tests.test_pygame_frontend import painted, press


@pytest.fixture
def app(predictor):
    app = front.open_window(predictor)
    pygame.event.clear()
    yield app
    pygame.quit()


def write_number(app: front.App, text: str) -> None:
    """``text`` written with the mouse, digit after digit across the wide canvas, each 60% of its height."""
    side = app.canvas.size
    for i, digit in enumerate(text):
        left = 40 + i * 0.62 * side
        for stroke in pen_paths(int(digit), canvas=side):
            points = [(x - 0.2 * side + left, y) for x, y in stroke]
            front.replay_stroke(points, app.layout.canvas.topleft)


def test_n_switches_to_a_wide_canvas_and_back(app):
    square = app.screen.get_size()
    press(pygame.K_n)
    assert app.step()
    assert app.number_mode and app.canvas.surface.get_size() == (numbers.WIDTH, numbers.HEIGHT)
    assert app.screen.get_size() == numbers.NumberLayout().window == pygame.display.get_surface().get_size()
    assert numbers.headline(app.reading) == numbers.BLANK
    press(pygame.K_n)
    assert app.step()
    assert not app.number_mode and app.screen.get_size() == square
    assert app.canvas.surface.get_size() == (front.CANVAS, front.CANVAS)


def test_a_written_number_is_read_with_a_box_per_digit(app):
    press(pygame.K_n)
    app.step()
    write_number(app, "42")
    assert app.step()
    assert app.reading is not None and app.reading.text == "42" and app.prediction is None
    assert numbers.headline(app.reading) == "42"
    first, second = app.reading.digits
    assert first.box[2] <= second.box[0] + 4  # left to right
    # Each digit's box is drawn in its colour around its ink on the canvas.
    x0, y0, x1, y1 = first.box
    outline = pygame.Rect(app.layout.canvas.left + x0 - 3, app.layout.canvas.top + y0 - 3, x1 - x0 + 6, 3)
    assert painted(app, outline, numbers.COLOURS[0]) > 10
    assert painted(app, app.layout.digits, numbers.COLOURS[1]) > 50  # the second digit's column
    press(pygame.K_RETURN)  # Enter reads again: the same answer
    app.step()
    assert app.reading.text == "42"


def test_clear_empties_the_number(app):
    press(pygame.K_n)
    app.step()
    write_number(app, "7")
    app.step()
    assert app.reading.text == "7"
    press(pygame.K_c)
    app.step()
    assert app.reading is None and app.canvas.empty
    press(pygame.K_RETURN)
    app.step()
    assert app.reading.blank and numbers.headline(app.reading) == numbers.BLANK


def test_a_long_number_fits_the_window(app):
    press(pygame.K_n)
    app.step()
    app.canvas = front.Canvas(numbers.HEIGHT, width=numbers.WIDTH)
    rng = np.random.default_rng(0)
    for i in range(12):  # twelve small dots in a row: each a "digit" for the network
        x = 30 + i * 65
        app.canvas.begin((x, 140))
        app.canvas.extend((x + 1, 200 + rng.integers(0, 5)))
        app.canvas.end()
    app.predict()
    app.draw()  # more digits than columns: "+N more", nothing drawn off the window
    assert len(app.reading.digits) >= 8


def test_single_digit_mode_is_unchanged(app):
    from tests.test_pygame_frontend import draw_digit

    draw_digit(app, 3)
    assert app.step()
    assert app.prediction.digit == 3 and app.reading is None and not app.number_mode
