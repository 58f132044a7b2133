"""Number mode's feedback: each digit of a number confirmed or corrected on its own, in the package
(``Feedback.save_digit``, ``feedback.digit_image``), the Pygame window, the Gradio number pad (its
functions, its API through ``gradio_client`` and a real browser) and the web page (its API and a real
browser). Each test reads a number, corrects one digit and confirms another, then checks that the
store holds exactly those digits, and that each saved PNG is that digit's own ink: ``preprocess``
frames it as the network saw the digit in the number."""

from __future__ import annotations

import copy
import io

import numpy as np
import pygame
import pytest
from PIL import Image
from scipy import ndimage

import pygame_frontend as front
from digitrec import preprocess
from digitrec.data.canvases import to_png
from digitrec.data.composed import compose
from digitrec.data.synth import digit_strokes
from digitrec.feedback import SAVING_OFF, Feedback, SavingOff, check_position, digit_image
from digitrec.imageio import encode_data_url, sketchpad_image
from digitrec.predict import NumberReading
from digitrec.present import COLOURS, saved_line
from digitrec.store import InvalidDrawing, Store
from flask_app import create_app
from tests.harness import flask_page
from tests.harness.support import (
    gradio_ids_and_api_names,
    number_layer,
    painted,
    press,
    serve_flask,
    serve_gradio,
    sketch,
    uploaded,
    write_number,
)


def plain(text: str, seed: int = 0) -> list:
    """Each digit of ``text`` in its plainest synthetic strokes."""
    rng = np.random.default_rng(seed)
    return [digit_strokes(int(d), rng, style=0, join=False) for d in text]


def number_png(text: str, seed: int = 0, look: str = "dark_on_light") -> bytes:
    """A number written by one hand, as a canvas PNG."""
    rng = np.random.default_rng(seed)
    truth = compose([digit_strokes(int(d), rng, style=0, join=False) for d in text], rng, look=look)
    return to_png(truth.image)


def marks(image: np.ndarray) -> int:
    """How many separate blots of ink an RGB canvas holds."""
    return ndimage.label(image[..., 0] < 180, structure=np.ones((3, 3)))[1]


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
    assert saved_line(fb.save_digit(png, reading, 1, 8, "ana")).startswith(
        "Saved digit 2 as a 8 (a correction). 1 drawing"
    )
    saved = fb.save_digit(png, reading, 2, user="ana")
    assert (saved.position, saved.label, saved.count) == (2, 5, 2)
    assert saved_line(saved).startswith("Saved digit 3 as a 5 (right). 2 drawings saved by")
    assert_kept(fb.store, reading, [(1, 8), (2, 5)], predictor)


def touching_png() -> bytes:
    """ "450": a 4 apart, then a 5 and a 0 whose strokes cross (one blot of ink)."""
    four = compose(plain("4"), np.random.default_rng(0)).image
    crossing = compose(plain("50"), np.random.default_rng(0), touching=True).image
    assert marks(crossing) == 1
    height = max(four.shape[0], crossing.shape[0])
    padded = [np.pad(i, ((0, height - i.shape[0]), (0, 0), (0, 0)), constant_values=255) for i in (four, crossing)]
    return to_png(np.hstack(padded))


def test_a_digit_touching_its_neighbour_is_kept_flagged(predictor, tmp_path):
    """Read by the cutting reader, the 0 corrected is kept as its own ink, cut from the 5, and flagged
    ``touching``; the 4 confirmed is not."""
    cutter = copy.copy(predictor)
    cutter.line_reader = None  # the cutting reader (DIGITREC_NUMBER_READER=off), whichever reader ships
    png = touching_png()
    reading = cutter.read_number(png)
    assert reading.text == "450" and [p.touching for p in reading.segmentation.pieces] == [False, True, True]
    fb = Feedback(cutter, "cli", db=tmp_path / "d.sqlite3")
    fb.save_digit(png, reading, 2, 6, "ana")  # "Wrong, it was 6" on the 0 that touches the 5
    fb.save_digit(png, reading, 0, user="ana")  # "Right" on the 4
    assert [(d.label, d.touching) for d in fb.store.drawings()] == [(6, True), (4, False)]
    assert_kept(fb.store, reading, [(2, 6), (0, 4)], cutter)


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
    for bad in (-1, True, 1.5, "x", None, "١", "３", " ١ "):  # ASCII digits only, as a label
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
    with pytest.raises(SavingOff, match=SAVING_OFF[:20]):
        off.save_digit(png, predictor.read_number(png), 0, 4)
    assert not (tmp_path / "off.sqlite3").exists()


# --- Pygame ------------------------------------------------------------------------------------------------


def test_pygame_number_mode_confirms_and_corrects_each_digit(window, tmp_path, predictor):
    press(pygame.K_n)
    window.step()
    assert window.saved_line.startswith(front.NUMBER_SAVE_HINT) and "0 drawings saved by kim" in window.saved_line
    press(pygame.K_4)
    window.step()
    assert window.saved_line.startswith("Write a number first")
    write_number(window, "427")
    window.step()
    numbers = window.numbers
    reading = numbers.reading
    assert reading.text == "427" and numbers.selected == 0
    press(pygame.K_SPACE)  # the first digit was right: on to the second
    window.step()
    assert window.saved_line.startswith("Saved digit 1 as a 4 (right). 1 drawing saved by kim")
    assert numbers.selected == 1 and numbers.saved_digits == {0: 4}
    press(pygame.K_TAB)  # skip the second
    press(pygame.K_KP1)  # "Wrong, it was 1" for the third
    window.step()
    assert window.saved_line.startswith("Saved digit 3 as a 1 (a correction). 2 drawings saved by kim")
    assert numbers.saved_digits == {0: 4, 2: 1}
    window.draw()  # the picked digit's column, and only it, is framed in its colour

    def left_edge(k: int) -> int:
        col = window.layout.column(k)
        return painted(window, pygame.Rect(col.left - 4, col.top + 10, 2, col.height - 20), COLOURS[k])

    assert left_edge(2) > 100 and left_edge(1) == 0
    assert_kept(Store.open(tmp_path / "p.sqlite3"), reading, [(0, 4), (2, 1)], predictor)
    assert {d.source for d in Store.open(tmp_path / "p.sqlite3").drawings()} == {"pygame"}


def test_pygame_picks_a_digit_by_click_and_arrows(window):
    press(pygame.K_n)
    window.step()
    write_number(window, "42")
    window.step()
    numbers = window.numbers
    post = pygame.event.post
    post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=window.layout.column(1).center, button=1))
    window.step()
    assert numbers.selected == 1 and window.canvas.strokes  # a click on a column picks; it draws nothing
    press(pygame.K_RIGHT)  # past the last: back to the first
    window.step()
    assert numbers.selected == 0
    post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_TAB, mod=pygame.KMOD_SHIFT))
    window.step()
    assert numbers.selected == 1
    press(pygame.K_c)  # a new drawing starts at its first digit
    window.step()
    assert numbers.selected == 0 and numbers.reading is None


# --- the web API -------------------------------------------------------------------------------------------


@pytest.fixture
def web(predictor, tmp_path):
    """A test client of an app that saves into its own file, and that store."""
    db = tmp_path / "web.sqlite3"
    app = create_app({"TESTING": True, "ALLOW_SAVING": True, "DRAWINGS_DB": str(db)}, predictor=predictor)
    return app.test_client(), db


def test_api_saves_one_digit_of_a_number(web, predictor):
    client, db = web
    png = number_png("305")
    reading = predictor.read_number(png)
    url = encode_data_url(png)
    wrong = client.post("/api/drawings", json={"image": url, "label": 8, "position": 1, "number": "305"})
    assert wrong.status_code == 201
    assert wrong.get_json() == {"id": 1, "label": 8, "digit": 0, "position": 1, "count": 1, "kept": str(db)}
    form = {"image": (io.BytesIO(png), "n.png"), "label": "5", "position": "2", "user": "lee"}
    right = client.post("/api/drawings", data=form, content_type="multipart/form-data")
    assert right.status_code == 201 and right.get_json()["digit"] == 5 and right.get_json()["position"] == 2
    assert_kept(Store.open(db), reading, [(1, 8), (2, 5)], predictor)


def test_api_flags_a_digit_touching_its_neighbour(web, predictor):
    client, db = web
    png = touching_png()
    reading = predictor.read_number(png)
    for position, label in ((1, 5), (0, 4)):
        body = {"image": encode_data_url(png), "label": label, "position": position, "number": "450"}
        assert client.post("/api/drawings", json=body).status_code == 201
    assert [(d.label, d.touching) for d in Store.open(db).drawings()] == [(5, True), (4, False)]
    assert_kept(Store.open(db), reading, [(1, 5), (0, 4)], predictor)


@pytest.mark.parametrize(
    "fields, status, message",
    [
        ({"label": 12, "position": 0}, 400, "the label must be a digit from 0 to 9, not 12"),
        ({"label": "x", "position": 0}, 400, "the label must be a digit from 0 to 9"),
        ({"label": 3, "position": 3}, 400, "no digit at position 3: the number read has 3 (0 to 2)"),
        ({"label": 3, "position": -1}, 400, "no digit at position -1"),
        ({"label": 3, "position": [0]}, 400, "position must be a whole number"),
        ({"label": 3, "position": "١"}, 400, "position must be a whole number, not '١'"),  # Arabic-Indic one
        ({"label": 3, "position": "３"}, 400, "position must be a whole number, not '３'"),  # fullwidth three
        ({"label": 3, "position": 0, "number": 305}, 400, "number must be the text"),  # a JSON number
        ({"label": 3, "position": 0, "number": 42}, 400, "a string), not int"),
        ({"label": 3, "position": 0, "number": ["305"]}, 400, "a string), not list"),
        ({"label": 3, "position": 0, "number": {"text": "305"}}, 400, "a string), not dict"),
        ({"label": 3, "position": 0, "number": "306"}, 409, "the drawing now reads '305', not '306': read it again"),
    ],
)
def test_api_refuses_bad_digits_with_a_clear_message(web, fields, status, message):
    client, db = web
    response = client.post("/api/drawings", json={"image": encode_data_url(number_png("305")), **fields})
    assert response.status_code == status and message in response.get_json()["error"]
    assert not db.exists()  # nothing refused was written


def test_api_number_mode_is_off_beyond_loopback_without_allow_saving(predictor, tmp_path):
    app = create_app({"TESTING": True, "DRAWINGS_DB": str(tmp_path / "off.sqlite3")}, predictor=predictor)
    body = {"image": encode_data_url(number_png("42")), "label": 4, "position": 0}
    response = app.test_client().post("/api/drawings", json=body)
    assert response.status_code == 403 and "--allow-saving" in response.get_json()["error"]
    assert not (tmp_path / "off.sqlite3").exists()


# --- the web page, in Chromium --------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.browser
def test_the_page_saves_each_digit_of_a_number(page, problems, tmp_path, predictor):
    from playwright.sync_api import expect

    page.set_default_timeout(15_000)
    page.set_viewport_size({"width": 1100, "height": 1000})
    db = tmp_path / "web.sqlite3"
    with serve_flask("--db", str(db)) as url:
        flask_page.open_number_mode(page, url)
        flask_page.write_number(page, "42")
        assert flask_page.read_number(page) == "42"
        expect(page.locator("#number-feedback")).to_be_visible()
        expect(page.locator("#number-saved")).to_have_text(f"0 drawings saved, kept in {db}.")
        canvas = page.evaluate("() => document.querySelector('#canvas').toDataURL('image/png')")
        page.fill("#number-user", "lee")
        cards = page.locator("#number-digits > li")
        cards.nth(1).locator(".number-it-was").select_option("7")  # "Wrong, it was 7" for the 2
        expect(page.locator("#number-saved")).to_have_text(f"Saved digit 2 as a 7. 1 drawing saved, kept in {db}.")
        cards.nth(0).locator(".number-right").click()  # the 4 was right
        expect(page.locator("#number-saved")).to_contain_text("Saved digit 1 as a 4. 2 drawings saved")
        assert cards.nth(0).locator(".number-right").is_disabled()  # each digit once
        assert cards.nth(1).locator(".number-it-was").is_disabled()
    reading = predictor.read_number(canvas)  # what the server read: the canvas the page sent
    assert reading.text == "42"
    store = Store.open(db)
    assert_kept(store, reading, [(1, 7), (0, 4)], predictor)
    assert {(d.user, d.source) for d in store.drawings()} == {("lee", "flask")}
    assert problems == []


@pytest.mark.slow
@pytest.mark.browser
def test_the_page_offers_no_saving_beyond_loopback(page, tmp_path):
    """Served on every interface without --allow-saving: a number is read, no buttons are shown."""
    with serve_flask("--host", "0.0.0.0", "--db", str(tmp_path / "off.sqlite3")) as url:
        flask_page.open_number_mode(page, url)
        flask_page.write_number(page, "7")
        assert flask_page.read_number(page) == "7"
        assert page.locator("#number-feedback").is_hidden() and page.locator(".number-verdict").count() == 0
    assert not (tmp_path / "off.sqlite3").exists()


# --- the Gradio number pad -----------------------------------------------------------------------------------


@pytest.fixture
def gradio_feedback(tmp_path, monkeypatch):
    """The Gradio app's own Feedback, made on first use, saving into ``tmp_path / "g.sqlite3"``."""
    import gradio_app

    monkeypatch.setattr(gradio_app, "settings", {**gradio_app.settings, "db": str(tmp_path / "g.sqlite3")})
    gradio_app.feedback.cache_clear()
    yield gradio_app.feedback()
    gradio_app.feedback.cache_clear()


def test_gradio_number_pad_confirms_and_corrects_each_digit(predictor, gradio_feedback, tmp_path):
    import gradio_app

    value = sketch("305")
    reading = predictor.read_number(sketchpad_image(value))
    assert reading.text == "305"
    rows = gradio_app.read_number(value)[2]
    radio = gradio_app.choices(rows)
    assert radio.choices == [("digit 1: 3", 0), ("digit 2: 0", 1), ("digit 3: 5", 2)] and radio.value == 0
    payload = uploaded(value, tmp_path)  # the save buttons get the pad's upload, as from Gradio
    line, following = gradio_app.save_number(payload, 0, " ana ")  # "Right"
    assert line.startswith("Saved digit 1 as a 3 (right). 1 drawing saved by ana, kept in") and following == 1
    line, following = gradio_app.save_number(payload, 2, "ana", label=6)
    assert line.startswith("Saved digit 3 as a 6 (a correction). 2 drawings") and following == 2  # the last stays
    assert_kept(gradio_feedback.store, reading, [(0, 3), (2, 6)], predictor)


def test_gradio_number_pad_refuses_clearly(gradio_feedback, tmp_path, monkeypatch):
    import gradio as gr

    import gradio_app

    forty_two = uploaded(sketch("42"), tmp_path)
    assert gradio_app.save_number(None, 0, "ana") == ("Write a number first.", None)
    assert gradio_app.save_number(forty_two, None, "ana") == ("Pick a digit first.", None)
    with pytest.raises(gr.Error, match="no digit at position 5: the number read has 2"):
        gradio_app.save_number(forty_two, 5, "ana")
    with pytest.raises(gr.Error, match="the label must be a digit from 0 to 9"):
        gradio_app.save_number(forty_two, 0, "ana", label=11)
    with pytest.raises(gr.Error, match="user name"):
        gradio_app.save_number(forty_two, 0, "x" * 65)
    assert gradio_app.choices([]).choices == [] and gradio_app.choices([]).value is None
    monkeypatch.setitem(gradio_app.settings, "db", str(tmp_path / "off.sqlite3"))
    monkeypatch.setitem(gradio_app.settings, "allow_saving", False)  # served beyond this machine
    gradio_app.feedback.cache_clear()
    assert gradio_app.save_number(forty_two, 0, "ana") == (SAVING_OFF, 0)
    assert not (tmp_path / "g.sqlite3").exists() and not (tmp_path / "off.sqlite3").exists()


def test_gradio_app_has_the_number_pads_buttons():
    ids, api_names = gradio_ids_and_api_names()
    assert {"number-which", "number-right", "number-saved", *(f"number-it-was-{d}" for d in range(10))} <= ids
    assert {"read_number", "save_number_right", "save_number_0", "save_number_9"} <= api_names


@pytest.fixture(scope="module")
def gradio_server(tmp_path_factory):
    db = tmp_path_factory.mktemp("gradio") / "g.sqlite3"
    with serve_gradio("--db", str(db)) as url:
        yield url, db


@pytest.mark.slow
def test_gradio_api_saves_each_digit(gradio_server, tmp_path, predictor):
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    url, db = gradio_server
    client = Client(url, verbose=False)
    layer = tmp_path / "number.png"
    layer.write_bytes(to_png(number_layer("47")))
    value = {"background": None, "layers": [handle_file(layer)], "composite": None}
    assert client.predict(value, api_name="/read_number")[0]["label"].startswith("47 (")
    line, following = client.predict(value, 1, "kim", api_name="/save_number_1")  # "Wrong, it was 1" for the 7
    assert line.startswith("Saved digit 2 as a 1 (a correction). 1 drawing saved by kim, kept in") and following == 1
    line, _ = client.predict(value, 0, "kim", api_name="/save_number_right")
    assert line.startswith("Saved digit 1 as a 4 (right). 2 drawings saved by kim")
    with pytest.raises(AppError, match="no digit at position 2"):
        client.predict(value, 2, "kim", api_name="/save_number_right")
    reading = predictor.read_number(np.asarray(Image.open(layer)))
    assert reading.text == "47"
    assert_kept(Store.open(db), reading, [(1, 1), (0, 4)], predictor)


@pytest.mark.slow
@pytest.mark.browser
def test_gradio_page_saves_each_digit(page, gradio_server, predictor):
    from playwright.sync_api import expect

    from tests.harness.gradio_page import open_number_pad, write_number

    url, db = gradio_server
    before = Store.open(db).count()  # the API test may have saved into this server's store first
    page.set_viewport_size({"width": 1200, "height": 1600})
    open_number_pad(page, url)
    write_number(page, "42")
    expect(page.locator("#number [data-testid=label-output-value]")).to_contain_text("42 (", timeout=30_000)
    which = page.locator("#number-which")
    expect(which.locator("input[type=radio]")).to_have_count(2, timeout=30_000)
    expect(which.locator("input[type=radio]").first).to_be_checked()
    page.fill("#user textarea", "ana")
    which.get_by_label("digit 2: 2").check()
    page.locator("#number-it-was-7").click()  # "Wrong, it was 7" for the 2
    saved = page.locator("#number-saved")
    expect(saved).to_contain_text("Saved digit 2 as a 7 (a correction).", timeout=30_000)
    expect(saved).to_contain_text("saved by ana, kept in")
    which.get_by_label("digit 1: 4").check()
    page.locator("#number-right").click()  # the 4 was right
    expect(saved).to_contain_text("Saved digit 1 as a 4 (right).", timeout=30_000)
    expect(which.get_by_label("digit 2: 2")).to_be_checked()  # on to the next digit
    drawings = list(Store.open(db).drawings())[before:]
    assert [(d.label, d.predicted, d.user) for d in drawings] == [(7, 2, "ana"), (4, 4, "ana")]
    for d in drawings:  # each one digit's ink, read as it was in the number
        assert predictor.predict(d.png).digit == d.predicted
        width, height = Image.open(io.BytesIO(d.png)).size
        assert width < 1.5 * height
