"""The Pygame front end, headless (SDL's dummy driver): posted mouse and key events go through the
same loop step ``main()`` runs, on the committed model."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pygame
import pytest

import pygame_frontend as front
from digitrec.data.canvases import pen_paths
from digitrec.present import COLOURS
from scripts import pygame_screenshot
from tests.harness.support import ROOT, draw_digit, painted, post, press, replay_stroke

# --- drawing through events --------------------------------------------------------------------


@pytest.mark.parametrize("digit", range(10))
def test_drawn_digit_is_recognized_and_shown(pygame_app, digit):
    draw_digit(pygame_app, digit)
    assert pygame_app.step()

    assert len(pygame_app.canvas.strokes) == len(pen_paths(digit)) and not pygame_app.canvas.drawing
    assert pygame_app.prediction is not None and pygame_app.prediction.digit == digit
    assert front.headline(pygame_app.prediction) == str(digit)
    assert front.confidence_text(pygame_app.prediction).startswith("confidence ")
    # On screen: ink on the canvas, the big digit in the answer box, the top bar highlighted.
    assert painted(pygame_app, pygame_app.layout.canvas, front.INK) > 1000
    assert painted(pygame_app, pygame_app.layout.answer, front.TEXT) > 300
    top_bar = pygame.Rect(
        pygame_app.layout.bars.left,
        pygame_app.layout.bars.top + digit * front.BAR_ROW,
        pygame_app.layout.bars.width,
        front.BAR_ROW,
    )
    assert painted(pygame_app, top_bar, front.ACCENT) > 0.5 * pygame_app.prediction.confidence * top_bar.width * 4


def test_fast_stroke_has_no_gaps(pygame_app):
    """Two motion events far apart (a quick flick) still ink every pixel between them."""
    y = pygame_app.layout.canvas.top + 180
    post(pygame.MOUSEBUTTONDOWN, pos=(pygame_app.layout.canvas.left + 40, y), button=1)
    post(pygame.MOUSEMOTION, pos=(pygame_app.layout.canvas.left + 320, y), rel=(280, 0), buttons=(1, 0, 0))
    post(pygame.MOUSEBUTTONUP, pos=(pygame_app.layout.canvas.left + 320, y), button=1)
    pygame_app.step()

    row = pygame_app.canvas.as_array()[180, 40:321]
    assert (row.max(axis=1) < 60).all()  # dark ink the whole way
    band = pygame_app.canvas.as_array()[:, 180].max(axis=1) < 128
    assert 0.8 * pygame_app.canvas.pen <= band.sum() <= 1.3 * pygame_app.canvas.pen  # as thick as the pen


def test_stroke_leaving_the_canvas_keeps_drawing_when_it_returns(pygame_app):
    left, top = pygame_app.layout.canvas.topleft
    post(pygame.MOUSEBUTTONDOWN, pos=(left + 100, top + 100), button=1)
    post(pygame.MOUSEMOTION, pos=(left - 50, top + 100), rel=(-150, 0), buttons=(1, 0, 0))
    post(pygame.MOUSEMOTION, pos=(left + 100, top + 250), rel=(150, 150), buttons=(1, 0, 0))
    post(pygame.MOUSEBUTTONUP, pos=(left + 100, top + 250), button=1)
    pygame_app.step()
    assert pygame_app.canvas.strokes == [[(100.0, 100.0), (-50.0, 100.0), (100.0, 250.0)]]
    assert pygame_app.canvas.as_array()[250, 100].max() < 60


def test_enter_predicts(pygame_app):
    draw_digit(pygame_app, 7, release=False)  # the pen is still down: no answer yet
    pygame_app.step()
    assert pygame_app.canvas.drawing and pygame_app.prediction is None
    press(pygame.K_RETURN)
    pygame_app.step()
    assert pygame_app.prediction.digit == 7

    pygame_app.prediction = None
    press(pygame.K_KP_ENTER)
    pygame_app.step()
    assert pygame_app.prediction.digit == 7


@pytest.mark.parametrize("key", [pygame.K_c, pygame.K_BACKSPACE])
def test_clear_keys_empty_the_canvas_and_the_answer(pygame_app, key):
    draw_digit(pygame_app, 2)
    pygame_app.step()
    assert pygame_app.prediction.digit == 2

    press(key)
    pygame_app.step()
    assert pygame_app.canvas.empty and pygame_app.prediction is None
    assert front.headline(pygame_app.prediction) == "draw a digit"
    assert (pygame_app.canvas.as_array() == front.PAPER).all()
    assert painted(pygame_app, pygame_app.layout.canvas, front.INK) == 0
    assert painted(pygame_app, pygame_app.layout.bars, front.ACCENT) == 0


def test_blank_canvas_says_draw_a_digit(pygame_app):
    pygame_app.step()
    assert pygame_app.prediction is None and front.headline(pygame_app.prediction) == "draw a digit"
    assert painted(pygame_app, pygame_app.layout.answer, front.MUTED) > 100  # the invitation is on screen

    press(pygame.K_RETURN)  # asking about an empty canvas is an answer too: blank
    pygame_app.step()
    assert pygame_app.prediction.blank
    assert (
        front.headline(pygame_app.prediction) == "draw a digit" and front.confidence_text(pygame_app.prediction) == ""
    )
    assert painted(pygame_app, pygame_app.layout.bars, front.ACCENT) == 0


def test_click_without_moving_leaves_a_dot(pygame_app):
    pos = (pygame_app.layout.canvas.left + 150, pygame_app.layout.canvas.top + 150)
    post(pygame.MOUSEBUTTONDOWN, pos=pos, button=1)
    post(pygame.MOUSEBUTTONUP, pos=pos, button=1)
    assert pygame_app.step()
    assert pygame_app.canvas.strokes == [[(150.0, 150.0)]] and not pygame_app.canvas.drawing
    assert pygame_app.canvas.as_array()[150, 150].max() < 60
    assert pygame_app.prediction is not None  # whatever a dot looks like to the model, it answers


def test_other_buttons_and_clicks_outside_the_canvas_do_not_draw(pygame_app):
    inside = (pygame_app.layout.canvas.left + 100, pygame_app.layout.canvas.top + 100)
    post(pygame.MOUSEBUTTONDOWN, pos=inside, button=3)
    post(pygame.MOUSEMOTION, pos=(inside[0] + 50, inside[1]), rel=(50, 0), buttons=(0, 0, 1))
    post(pygame.MOUSEBUTTONUP, pos=inside, button=3)
    outside = pygame_app.layout.preview.center
    post(pygame.MOUSEBUTTONDOWN, pos=outside, button=1)
    post(pygame.MOUSEMOTION, pos=inside, rel=(0, 0), buttons=(1, 0, 0))
    post(pygame.MOUSEBUTTONUP, pos=inside, button=1)
    post(pygame.MOUSEMOTION, pos=inside, rel=(5, 5), buttons=(0, 0, 0))  # hovering
    pygame_app.step()
    assert pygame_app.canvas.empty and pygame_app.prediction is None


@pytest.mark.parametrize(
    "event",
    [
        pygame.event.Event(pygame.KEYDOWN, key=pygame.K_ESCAPE),
        pygame.event.Event(pygame.QUIT),
    ],
    ids=["escape", "close-window"],
)
def test_escape_or_closing_the_window_stops(pygame_app, event):
    assert pygame_app.step()
    pygame.event.post(event)
    assert pygame_app.step() is False and pygame_app.running is False


@pytest.mark.parametrize("size", [front.MIN_CANVAS, 280, 480])
def test_other_canvas_sizes(predictor, size):
    try:
        pygame_app = front.open_window(predictor, size)
        draw_digit(pygame_app, 5)
        pygame_app.step()
        assert pygame_app.prediction.digit == 5
        assert pygame_app.layout.help.bottom < pygame_app.layout.window[1]
    finally:
        pygame.quit()


# --- the real loop and main() ------------------------------------------------------------------


def test_run_loop_starts_draws_and_stops(pygame_app):
    draw_digit(pygame_app, 4)
    post(pygame.QUIT)
    front.run(pygame_app)  # returns only because of the QUIT
    assert pygame_app.prediction.digit == 4 and not pygame_app.running


def test_main_opens_the_window_and_quits(predictor):
    pygame.display.init()  # main() keeps what is already queued: a drawing, then closing the window
    for stroke in pen_paths(8):
        replay_stroke(stroke, front.Layout(front.CANVAS).canvas.topleft)
    post(pygame.QUIT)
    assert front.main(["--model", str(predictor.path)]) == 0
    assert not pygame.display.get_init()  # and it cleaned up after itself


def test_missing_model_exits_with_the_message_and_no_traceback(tmp_path):
    missing = tmp_path / "nothing.keras"
    done = subprocess.run(
        [sys.executable, "pygame_frontend.py", "--model", str(missing)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ},
    )
    assert done.returncode == 1
    assert str(missing) in done.stderr and "python -m digitrec train" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_too_small_canvas_is_refused():
    with pytest.raises(SystemExit):
        front.parse_args(["--canvas", "20"])


# --- the Canvas alone --------------------------------------------------------------------------


def test_canvas_state():
    canvas = front.Canvas(200)
    assert canvas.empty and canvas.as_array().shape == (200, 200, 3) and canvas.as_array().dtype == np.uint8
    canvas.extend((10, 10))  # moving without the pen down draws nothing
    assert canvas.empty and (canvas.as_array() == front.PAPER).all()

    canvas.begin((20, 30))
    canvas.extend((120, 30))
    canvas.end()
    canvas.extend((120, 150))  # pen lifted
    assert canvas.strokes == [[(20, 30), (120, 30)]]
    ink = canvas.as_array()
    assert ink[30, 20:121].max() < 60 and ink[150, 120].min() > 200
    assert abs(front.PEN_RATIO * 200 - canvas.pen) < 1e-9

    canvas.clear()
    assert canvas.empty and not canvas.drawing and (canvas.as_array() == front.PAPER).all()


# --- the screenshot ----------------------------------------------------------------------------


def test_screenshot_shows_the_window_with_the_drawing_and_the_answer(pygame_app, tmp_path):
    out = tmp_path / "pygame.png"
    pygame_screenshot.draw_and_save(pygame_app, 3, out)
    assert pygame_app.prediction.digit == 3

    shot = pygame.image.load(str(out))
    assert shot.get_size() == pygame_app.layout.window
    # Exactly what the window shows: PNG is lossless.
    np.testing.assert_array_equal(pygame.surfarray.array3d(shot), pygame.surfarray.array3d(pygame_app.screen))
    # The stroke in the canvas area, the digit in the answer box, its bar highlighted and no other.
    canvas = pygame.surfarray.array3d(shot.subsurface(pygame_app.layout.canvas)).transpose(1, 0, 2)
    np.testing.assert_array_equal(canvas, pygame_app.canvas.as_array())
    assert painted(pygame_app, pygame_app.layout.canvas, front.INK, on=shot) > 1000
    assert painted(pygame_app, pygame_app.layout.answer, front.TEXT, on=shot) > 300
    rows = [
        pygame.Rect(
            pygame_app.layout.bars.left,
            pygame_app.layout.bars.top + d * front.BAR_ROW,
            pygame_app.layout.bars.width,
            front.BAR_ROW,
        )
        for d in range(10)
    ]
    assert [painted(pygame_app, row, front.ACCENT, on=shot) > 0 for row in rows] == [d == 3 for d in range(10)]
    # The committed screenshot (scripts/pygame_screenshot.py) shows the current default layout.
    assert pygame.image.load(str(ROOT / "docs" / "pygame.png")).get_size() == pygame_app.layout.window


@pytest.mark.parametrize(
    "args, said, size",
    [
        (["--digit", "7"], "drew a 7, the app shows '7' (confidence ", front.Layout(front.CANVAS).window),
        (["--number", "42"], "wrote 42, the app reads '42', digit 2 picked", front.NumberLayout().window),
    ],
    ids=["digit", "number"],
)
def test_screenshot_script_saves_and_says_what_it_drew(predictor, tmp_path, capsys, args, said, size):
    out = tmp_path / "shots" / "pygame.png"
    store = tmp_path / "shot.sqlite3"
    assert pygame_screenshot.main([*args, "--out", str(out), "--model", str(predictor.path), "--db", str(store)]) == 0
    assert f"{out}: {said}" in capsys.readouterr().out
    assert pygame.image.load(str(out)).get_size() == size
    assert not pygame.display.get_init()  # the window is closed


def test_number_screenshot_shows_the_picked_digit_and_the_saving_hint(window, tmp_path):
    out = tmp_path / "pygame_number.png"
    pygame_screenshot.write_and_save(window, "305", out)
    assert (
        window.numbers is not None and window.numbers.reading.text == "305" and window.numbers.selected == 1
    )  # Tab: the second digit

    shot = pygame.image.load(str(out))
    np.testing.assert_array_equal(pygame.surfarray.array3d(shot), pygame.surfarray.array3d(window.screen))

    def left_edge(k: int) -> int:  # the frame round digit k's column, in its colour
        col = window.layout.column(k)
        return painted(window, pygame.Rect(col.left - 4, col.top + 10, 2, col.height - 20), COLOURS[k])

    assert left_edge(1) > 100 and left_edge(0) == 0
    assert window.saved_line.startswith(front.NUMBER_SAVE_HINT)  # nothing saved: the hint, under the help line
    hint = pygame.Rect(window.layout.help.left, window.layout.help.bottom, window.layout.help.width, 18)
    assert painted(window, hint, front.ACCENT, on=shot) > 300
    # The committed screenshot (scripts/pygame_screenshot.py --number) shows the current number layout.
    assert pygame.image.load(str(ROOT / "docs" / "pygame_number.png")).get_size() == window.layout.window


def test_the_saving_line_wraps_to_the_window(pygame_app):
    """A store's path can be longer than the window: the line wraps, a long word is cut, nothing is lost."""
    from pygame_frontend import wrap

    font, width = pygame_app.fonts["small"], pygame_app.layout.help.width
    text = "3 drawings saved by ana, kept in /home/ana/" + "very-long-folder-name/" * 12 + "drawings.sqlite3."
    lines = wrap(text, font, width)
    assert len(lines) > 1 and all(font.size(line)[0] <= width for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    assert wrap("", font, width) == [] and wrap("Saved as a 7.", font, width) == ["Saved as a 7."]
    assert pygame_app.layout.help.bottom + 2 * font.get_linesize() <= pygame_app.layout.window[1]
