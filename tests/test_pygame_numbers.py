"""The Pygame front end's number mode (N), headless: posted events through the loop step main() runs."""

from __future__ import annotations

import numpy as np
import pygame

import pygame_frontend as front
import pygame_numbers as numbers
from tests.harness.support import draw_digit, painted, press


def test_n_switches_to_a_wide_canvas_and_back(pygame_app):
    square = pygame_app.screen.get_size()
    press(pygame.K_n)
    assert pygame_app.step()
    assert pygame_app.number_mode and pygame_app.canvas.surface.get_size() == (numbers.WIDTH, numbers.HEIGHT)
    assert pygame_app.screen.get_size() == numbers.NumberLayout().window == pygame.display.get_surface().get_size()
    assert numbers.headline(pygame_app.reading) == numbers.BLANK
    press(pygame.K_n)
    assert pygame_app.step()
    assert not pygame_app.number_mode and pygame_app.screen.get_size() == square
    assert pygame_app.canvas.surface.get_size() == (front.CANVAS, front.CANVAS)


def test_a_written_number_is_read_with_a_box_per_digit(pygame_app):
    press(pygame.K_n)
    pygame_app.step()
    numbers.replay_number(pygame_app, "42")
    assert pygame_app.step()
    assert pygame_app.reading is not None and pygame_app.reading.text == "42" and pygame_app.prediction is None
    assert numbers.headline(pygame_app.reading) == "42"
    first, second = pygame_app.reading.digits
    assert first.box[2] <= second.box[0] + 4  # left to right
    # Each digit's box is drawn in its colour around its ink on the canvas.
    x0, y0, x1, y1 = first.box
    outline = pygame.Rect(pygame_app.layout.canvas.left + x0 - 3, pygame_app.layout.canvas.top + y0 - 3, x1 - x0 + 6, 3)
    assert painted(pygame_app, outline, numbers.COLOURS[0]) > 10
    assert painted(pygame_app, pygame_app.layout.digits, numbers.COLOURS[1]) > 50  # the second digit's column
    press(pygame.K_RETURN)  # Enter reads again: the same answer
    pygame_app.step()
    assert pygame_app.reading.text == "42"


def test_clear_empties_the_number(pygame_app):
    press(pygame.K_n)
    pygame_app.step()
    numbers.replay_number(pygame_app, "7")
    pygame_app.step()
    assert pygame_app.reading.text == "7"
    press(pygame.K_c)
    pygame_app.step()
    assert pygame_app.reading is None and pygame_app.canvas.empty
    press(pygame.K_RETURN)
    pygame_app.step()
    assert pygame_app.reading.blank and numbers.headline(pygame_app.reading) == numbers.BLANK


def test_a_long_number_fits_the_window(pygame_app):
    press(pygame.K_n)
    pygame_app.step()
    pygame_app.canvas = front.Canvas(numbers.HEIGHT, width=numbers.WIDTH)
    rng = np.random.default_rng(0)
    for i in range(12):  # twelve small dots in a row: each a "digit" for the network
        x = 30 + i * 65
        pygame_app.canvas.begin((x, 140))
        pygame_app.canvas.extend((x + 1, 200 + rng.integers(0, 5)))
        pygame_app.canvas.end()
    pygame_app.predict()
    pygame_app.draw()  # more digits than columns: "+N more", nothing drawn off the window
    assert len(pygame_app.reading.digits) >= 8


def test_single_digit_mode_is_unchanged(pygame_app):
    draw_digit(pygame_app, 3)
    assert pygame_app.step()
    assert pygame_app.prediction.digit == 3 and pygame_app.reading is None and not pygame_app.number_mode
