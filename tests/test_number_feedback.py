"""Number mode's feedback: each digit of a number confirmed or corrected on its own, in the package
(``Feedback.save_digit``, ``reading.digit_image``), the Pygame window, the Gradio number pad (its
functions, its API through ``gradio_client`` and a real browser) and the web page (its API and a real
browser). Each test reads a number, corrects one digit and confirms another, then checks that the
store holds exactly those digits, and that each saved PNG is that digit's own ink: ``preprocess``
frames it as the network saw the digit in the number."""

from __future__ import annotations

import io

import numpy as np
import pygame
import pytest
from PIL import Image

import pygame_frontend as front
import pygame_numbers
from digitrec import preprocess
from digitrec.drawings import to_png
from digitrec.feedback import SAVING_OFF, Feedback, check_position
from digitrec.numbers import compose
from digitrec.reading import NumberReading, digit_image
from digitrec.store import InvalidDrawing, Store
from digitrec.synth import digit_strokes
from tests.test_pygame_frontend import press
from tests.test_pygame_numbers import write_number


def number_png(text: str, seed: int = 0, look: str = "dark_on_light") -> bytes:
    """A number written by one hand, as a canvas PNG."""
    rng = np.random.default_rng(seed)
    truth = compose([digit_strokes(int(d), rng, style=0, join=False) for d in text], rng, look=look)
    return to_png(truth.image)


def assert_kept(store: Store, reading: NumberReading, expected: list[tuple[int, int]], predictor) -> None:
    """The store holds exactly ``expected`` ((position, label) in the order saved), each PNG that digit's
    own ink: framed by ``preprocess`` as the network saw it, read as it was read in the number."""
    drawings = list(store.drawings())
    assert [(d.label, d.predicted) for d in drawings] == [(label, reading.digits[k].digit) for k, label in expected]
    for drawing, (k, _label) in zip(drawings, expected, strict=True):
        seen = reading.digits[k].prediction
        assert np.abs(preprocess(drawing.png) - seen.model_input).max() < 0.02
        assert predictor.predict(drawing.png).digit == seen.digit
        box = reading.digits[k].box
        width = Image.open(io.BytesIO(drawing.png)).width
        assert width < 2 * (box[2] - box[0])  # one digit, not the whole number


# --- the package ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("look", ["dark_on_light", "transparent"])
def test_each_digit_is_kept_as_its_own_ink(predictor, tmp_path, look):
    png = number_png("305", look=look)
    reading = predictor.read_number(png)
    assert reading.text == "305"
    fb = Feedback(predictor, "cli", db=tmp_path / "d.sqlite3")
    assert fb.save_digit(png, reading, 1, 8, "ana").startswith("Saved digit 2 as a 8 (a correction). 1 drawing")
    assert fb.save_digit(png, reading, 2, user="ana").startswith("Saved digit 3 as a 5 (right). 2 drawings saved by")
    assert_kept(fb.store, reading, [(1, 8), (2, 5)], predictor)


def test_a_wide_canvas_read_at_half_resolution(predictor):
    """An 840x280 canvas is read at half its size: each digit's picture still frames as it was read."""
    canvas = np.full((280, 840), 255, np.uint8)
    drawn = np.asarray(Image.open(io.BytesIO(number_png("47", seed=3))).convert("L"))
    canvas[: min(280, drawn.shape[0]), : drawn.shape[1]] = drawn[:280]
    reading = predictor.read_number(canvas)
    assert reading.text == "47" and reading.segmentation.scale == 2
    for k, d in enumerate(reading.digits):
        assert np.abs(preprocess(digit_image(canvas, reading, k)) - d.prediction.model_input).max() < 0.02


def test_one_digit_keeps_the_whole_drawing(predictor, make_drawing_png):
    png = make_drawing_png(7)
    reading = predictor.read_number(png)
    assert digit_image(png, reading, 0) is png  # read as predict reads it: kept as it is


def test_positions_and_labels_are_checked(predictor, tmp_path):
    png = number_png("42")
    reading = predictor.read_number(png)
    fb = Feedback(predictor, "cli", db=tmp_path / "d.sqlite3")
    assert check_position("1", reading) == 1
    with pytest.raises(InvalidDrawing, match="no digit at position 2: the number read has 2"):
        fb.save_digit(png, reading, 2, 4)
    for bad in (-1, True, 1.5, "x", None):
        with pytest.raises(InvalidDrawing, match="position"):
            fb.save_digit(png, reading, bad, 4)
    for bad in (10, "seven", -1):
        with pytest.raises(InvalidDrawing, match="the label must be a digit from 0 to 9"):
            fb.save_digit(png, reading, 0, bad)
    with pytest.raises(InvalidDrawing, match="blank"):
        fb.save_digit(png, predictor.read_number(np.full((50, 50), 255, np.uint8)), 0, 4)
    assert not (tmp_path / "d.sqlite3").exists()  # nothing refused was written


def test_saving_off_saves_no_digit(predictor, tmp_path):
    png = number_png("42")
    off = Feedback(predictor, "flask", db=tmp_path / "off.sqlite3", allowed=False)
    assert off.save_digit(png, predictor.read_number(png), 0, 4) == SAVING_OFF
    assert not (tmp_path / "off.sqlite3").exists()


# --- Pygame ------------------------------------------------------------------------------------------------


@pytest.fixture
def window(predictor, tmp_path):
    app = front.open_window(predictor, feedback=Feedback(predictor, "pygame", db=tmp_path / "p.sqlite3"), user="kim")
    pygame.event.clear()
    yield app
    pygame.quit()


def test_pygame_number_mode_confirms_and_corrects_each_digit(window, tmp_path, predictor):
    press(pygame.K_n)
    window.step()
    assert window.saved_line.startswith(pygame_numbers.SAVE_HINT) and "0 drawings saved by kim" in window.saved_line
    press(pygame.K_4)
    window.step()
    assert window.saved_line.startswith("Write a number first")
    write_number(window, "427")
    window.step()
    reading = window.reading
    assert reading.text == "427" and window.selected == 0
    press(pygame.K_SPACE)  # the first digit was right: on to the second
    window.step()
    assert window.saved_line.startswith("Saved digit 1 as a 4 (right). 1 drawing saved by kim")
    assert window.selected == 1 and window.saved_digits == {0: 4}
    press(pygame.K_TAB)  # skip the second
    press(pygame.K_KP1)  # "Wrong, it was 1" for the third
    window.step()
    assert window.saved_line.startswith("Saved digit 3 as a 1 (a correction). 2 drawings saved by kim")
    assert window.saved_digits == {0: 4, 2: 1}
    assert_kept(Store.open(tmp_path / "p.sqlite3"), reading, [(0, 4), (2, 1)], predictor)
    assert {d.source for d in Store.open(tmp_path / "p.sqlite3").drawings()} == {"pygame"}


def test_pygame_picks_a_digit_by_click_and_arrows(window):
    press(pygame.K_n)
    window.step()
    write_number(window, "42")
    window.step()
    post = pygame.event.post
    post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=pygame_numbers.column(window, 1).center, button=1))
    window.step()
    assert window.selected == 1 and window.canvas.strokes  # a click on a column picks; it draws nothing
    press(pygame.K_RIGHT)  # past the last: back to the first
    window.step()
    assert window.selected == 0
    post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_TAB, mod=pygame.KMOD_SHIFT))
    window.step()
    assert window.selected == 1
    press(pygame.K_c)  # a new drawing starts at its first digit
    window.step()
    assert window.selected == 0 and window.reading is None
