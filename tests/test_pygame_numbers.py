"""The Pygame front end's number mode (N), headless: posted events through the loop step main() runs."""

from __future__ import annotations

import numpy as np
import pygame

import pygame_frontend as front
from digitrec.present import COLOURS
from tests.harness.support import draw_digit, painted, press, write_number


def test_n_switches_to_a_wide_canvas_and_back(pygame_app):
    square = pygame_app.screen.get_size()
    press(pygame.K_n)
    assert pygame_app.step()
    assert pygame_app.numbers is not None
    assert pygame_app.canvas.surface.get_size() == (front.NUMBER_WIDTH, front.NUMBER_HEIGHT)
    assert pygame_app.screen.get_size() == front.NumberLayout().window == pygame.display.get_surface().get_size()
    assert pygame_app.numbers.headline == front.NUMBER_BLANK
    press(pygame.K_n)
    assert pygame_app.step()
    assert pygame_app.numbers is None and pygame_app.screen.get_size() == square
    assert pygame_app.canvas.surface.get_size() == (front.CANVAS, front.CANVAS)


def test_a_written_number_is_read_with_a_box_per_digit(pygame_app):
    press(pygame.K_n)
    pygame_app.step()
    write_number(pygame_app, "42")
    assert pygame_app.step()
    numbers = pygame_app.numbers
    assert numbers.reading is not None and numbers.reading.text == "42" and pygame_app.prediction is None
    assert numbers.headline == "42"
    first, second = numbers.reading.digits
    assert first.box[2] <= second.box[0] + 4  # left to right
    # Each digit's box is drawn in its colour around its ink on the canvas.
    x0, y0, x1, y1 = first.box
    outline = pygame.Rect(pygame_app.layout.canvas.left + x0 - 3, pygame_app.layout.canvas.top + y0 - 3, x1 - x0 + 6, 3)
    assert painted(pygame_app, outline, COLOURS[0]) > 10
    assert painted(pygame_app, pygame_app.layout.digits, COLOURS[1]) > 50  # the second digit's column
    press(pygame.K_RETURN)  # Enter reads again: the same answer
    pygame_app.step()
    assert numbers.reading.text == "42"


def test_clear_empties_the_number(pygame_app):
    press(pygame.K_n)
    pygame_app.step()
    write_number(pygame_app, "7")
    pygame_app.step()
    numbers = pygame_app.numbers
    assert numbers.reading.text == "7"
    press(pygame.K_c)
    pygame_app.step()
    assert numbers.reading is None and pygame_app.canvas.empty
    press(pygame.K_RETURN)
    pygame_app.step()
    assert numbers.reading.blank and numbers.headline == front.NUMBER_BLANK


def test_a_long_number_fits_the_window(pygame_app):
    press(pygame.K_n)
    pygame_app.step()
    pygame_app.canvas = front.Canvas(front.NUMBER_HEIGHT, width=front.NUMBER_WIDTH)
    rng = np.random.default_rng(0)
    for i in range(12):  # twelve small dots in a row: each a "digit" for the network
        x = 30 + i * 65
        pygame_app.canvas.begin((x, 140))
        pygame_app.canvas.extend((x + 1, 200 + rng.integers(0, 5)))
        pygame_app.canvas.end()
    pygame_app.predict()
    pygame_app.draw()  # more digits than columns: "+N more", nothing drawn off the window
    assert len(pygame_app.numbers.reading.digits) >= 8


def test_single_digit_mode_is_unchanged(pygame_app):
    draw_digit(pygame_app, 3)
    assert pygame_app.step()
    assert pygame_app.prediction.digit == 3 and pygame_app.numbers is None
