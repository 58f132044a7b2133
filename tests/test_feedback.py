"""Saving corrections from the front ends: the policy (loopback, --share, --allow-saving), the
Gradio buttons, the Pygame digit keys, the Flask page's buttons in a real browser, and --model."""

from __future__ import annotations

import io
import re

import numpy as np
import pygame
import pytest
from PIL import Image

import gradio_app
import pygame_frontend as front
from digitrec.data.canvases import pen_digit, pen_paths
from digitrec.feedback import (
    SAVING_OFF,
    Feedback,
    NothingDrawn,
    SavingOff,
    count_line,
    env_allows,
    forgot_line,
    is_loopback,
    is_remote,
    saving_allowed,
)
from digitrec.present import saved_line
from digitrec.store import InvalidDrawing, Store
from tests.harness.flask_page import draw_with_mouse, open_page
from tests.harness.support import draw_digit, gradio_ids_and_api_names, press, serve_flask

# --- the policy ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host, share, allow, expected",
    [
        ("127.0.0.1", False, None, True),
        ("localhost", False, None, True),
        ("::1", False, None, True),
        ("127.0.0.1", True, None, False),  # a public share link: strangers
        ("0.0.0.0", False, None, False),
        ("192.168.1.20", False, None, False),
        ("0.0.0.0", False, True, True),  # --allow-saving
        ("127.0.0.1", True, True, True),
        ("127.0.0.1", False, False, False),  # --no-saving: behind a reverse proxy, say
    ],
)
def test_saving_is_on_for_this_machine_only_unless_allowed(host, share, allow, expected):
    assert saving_allowed(host, share, allow) is expected


def test_the_environment_may_allow_saving(monkeypatch):
    monkeypatch.setenv("DIGITREC_ALLOW_SAVING", "1")
    assert saving_allowed("0.0.0.0", share=True)
    assert not is_loopback(None) and not is_loopback("example.org")


@pytest.mark.parametrize("value", ["0", "false", "no", " OFF "])
def test_the_environment_may_turn_saving_off_even_on_loopback(monkeypatch, value):
    monkeypatch.setenv("DIGITREC_ALLOW_SAVING", value)
    assert env_allows() is False
    assert not saving_allowed("127.0.0.1") and not saving_allowed("localhost")
    assert saving_allowed("127.0.0.1", allow=True)  # the command line's --allow-saving still wins


def test_an_unknown_word_in_the_environment_leaves_the_default(monkeypatch):
    monkeypatch.setenv("DIGITREC_ALLOW_SAVING", "maybe")
    assert env_allows() is None and saving_allowed("127.0.0.1") and not saving_allowed("0.0.0.0")


def test_a_request_through_a_reverse_proxy_is_remote():
    assert not is_remote("127.0.0.1", {}) and not is_remote("::1")
    assert is_remote("203.0.113.9", {})
    for header in ("X-Forwarded-For", "x-forwarded-for", "Forwarded", "X-Real-IP"):
        assert is_remote("127.0.0.1", {header: "203.0.113.9"}), header


def test_count_line():
    assert count_line(1, "/x/drawings.sqlite3") == "1 drawing saved, kept in /x/drawings.sqlite3."
    assert count_line(3, "on the server", "ana") == "3 drawings saved by ana, kept on the server."


def test_feedback_saves_rights_and_corrections(predictor, tmp_path, make_drawing_png):
    fb = Feedback(predictor, "cli", db=tmp_path / "d.sqlite3")
    assert fb.status() == f"0 drawings saved, kept in {tmp_path / 'd.sqlite3'}."
    saved = fb.right(make_drawing_png(3), "ana")
    assert (saved.label, saved.predicted, saved.count, saved.user, saved.correction) == (3, 3, 1, "ana", False)
    assert saved_line(saved).startswith("Saved as a 3 (right). 1 drawing saved by ana")
    assert saved_line(fb.save(make_drawing_png(3), 8, "ana")).startswith("Saved as a 8 (a correction). 2 drawings")
    with pytest.raises(NothingDrawn, match="Draw a digit first."):
        fb.right(np.full((50, 50), 255, np.uint8))
    remote = Feedback(predictor, "flask", db=tmp_path / "d.sqlite3", remote=True)
    assert remote.status() == "2 drawings saved, kept on the server."
    off = Feedback(predictor, "gradio", db=tmp_path / "off.sqlite3", allowed=False)
    with pytest.raises(SavingOff, match="Saving is off"):
        off.save(make_drawing_png(3), 3)
    assert off.status() == SAVING_OFF
    assert not (tmp_path / "off.sqlite3").exists()


def test_feedback_forgets_one_user(predictor, tmp_path, make_drawing_png):
    assert forgot_line("ana", 1) == "Forgot ana: 1 drawing deleted."
    fb = Feedback(predictor, "cli", db=tmp_path / "d.sqlite3")
    for user in ("ana", "bo", "ana"):
        fb.right(make_drawing_png(3), user)
    assert fb.forget(" ana ") == "Forgot ana: 2 drawings deleted."
    assert fb.forget("ana") == "Forgot ana: 0 drawings deleted." and fb.store.count("bo") == 1
    for bad in (None, "", "x" * 65):
        with pytest.raises(InvalidDrawing, match="user name"):
            fb.forget(bad)
    off = Feedback(predictor, "gradio", db=tmp_path / "d.sqlite3", allowed=False)
    with pytest.raises(SavingOff):
        off.forget("bo")
    assert fb.store.count("bo") == 1


def test_number_mode_can_save_one_digits_crop(predictor, tmp_path):
    """A crop of one digit out of a wider drawing is saved like a whole canvas."""
    wide = np.full((200, 600, 3), 255, np.uint8)
    wide[:, :200] = pen_digit(2, np.random.default_rng(0), "dark_on_light", canvas=200)
    wide[:, 200:400] = pen_digit(7, np.random.default_rng(1), "dark_on_light", canvas=200)
    fb = Feedback(predictor, "gradio", db=tmp_path / "d.sqlite3")
    fb.save(wide[:, 200:400], 7, "ana")
    (drawing,) = Store.open(tmp_path / "d.sqlite3").drawings()
    assert drawing.label == 7 and Image.open(io.BytesIO(drawing.png)).size == (200, 200)


# --- Gradio ------------------------------------------------------------------------------------------


@pytest.fixture
def gradio_store(tmp_path, monkeypatch):
    monkeypatch.setitem(gradio_app.settings, "db", str(tmp_path / "g.sqlite3"))
    gradio_app.feedback.cache_clear()
    yield Store.open(tmp_path / "g.sqlite3")
    gradio_app.feedback.cache_clear()


def upload(tmp_path, digit: int) -> dict:
    path = tmp_path / f"{digit}.png"
    Image.fromarray(pen_digit(digit, np.random.default_rng(digit), "transparent")).save(path)
    return {"background": None, "layers": [], "composite": {"path": str(path)}}


def test_gradio_right_and_wrong_buttons_save(gradio_store, tmp_path):
    assert gradio_app.save(upload(tmp_path, 6), "ana").startswith("Saved as a 6 (right).")
    assert "2 drawings saved by ana" in gradio_app.save(upload(tmp_path, 6), " ana ", label=5)
    assert gradio_app.save(None, "ana") == "Draw a digit first."
    assert [(d.label, d.predicted, d.source) for d in gradio_store.drawings()] == [(6, 6, "gradio"), (5, 6, "gradio")]


def test_gradio_bad_user_name_is_a_gradio_error(gradio_store, tmp_path):
    import gradio as gr

    with pytest.raises(gr.Error, match="user name"):
        gradio_app.save(upload(tmp_path, 6), "x" * 65)


def test_gradio_forget_me_deletes_the_names_drawings(gradio_store, tmp_path, monkeypatch):
    import gradio as gr

    for user in ("ana", "bo", "ana"):
        gradio_app.save(upload(tmp_path, 6), user)
    assert gradio_app.forget(" ana ") == "Forgot ana: 2 drawings deleted."
    assert gradio_store.stats()["by_user"] == {"bo": 1}
    with pytest.raises(gr.Error, match="user name"):
        gradio_app.forget("")
    monkeypatch.setitem(gradio_app.settings, "allow_saving", False)
    gradio_app.feedback.cache_clear()
    assert gradio_app.forget("bo") == SAVING_OFF and gradio_store.count("bo") == 1


def test_gradio_has_the_buttons_and_saving_endpoints():
    ids, api_names = gradio_ids_and_api_names()
    assert {"right", "user", "saved", "forget", *(f"it-was-{d}" for d in range(10))} <= ids
    assert {"predict", "save_right", "save_0", "save_9", "forget"} <= api_names


def test_gradio_model_flag_and_saving_policy(monkeypatch, predictor):
    launched = {}
    monkeypatch.setattr(gradio_app.demo, "launch", lambda **kw: launched.update(kw))
    monkeypatch.setattr(gradio_app.demo, "block_thread", lambda: None)
    monkeypatch.setattr(gradio_app, "settings", dict(gradio_app.settings))
    gradio_app.predictor.cache_clear()
    try:
        gradio_app.main(["--model", str(predictor.path), "--host", "0.0.0.0"])
        assert gradio_app.settings["model"] == str(predictor.path)
        assert gradio_app.settings["allow_saving"] is False and gradio_app.settings["remote"] is True
        gradio_app.main(["--model", str(predictor.path), "--host", "0.0.0.0", "--allow-saving"])
        assert gradio_app.settings["allow_saving"] is True
        gradio_app.main(["--model", str(predictor.path), "--no-saving"])  # on 127.0.0.1, behind a proxy
        assert gradio_app.settings["allow_saving"] is False and launched["server_name"] == "127.0.0.1"
        monkeypatch.setenv("DIGITREC_ALLOW_SAVING", "0")
        gradio_app.main(["--model", str(predictor.path)])
        assert gradio_app.settings["allow_saving"] is False
        monkeypatch.delenv("DIGITREC_ALLOW_SAVING")
        gradio_app.main(["--share"])
        assert gradio_app.settings["allow_saving"] is False and launched["share"] is True
    finally:
        gradio_app.predictor.cache_clear()
        gradio_app.feedback.cache_clear()


def test_gradio_with_a_missing_model_exits_with_its_name(monkeypatch, tmp_path):
    monkeypatch.setattr(gradio_app, "settings", dict(gradio_app.settings))
    gradio_app.predictor.cache_clear()
    try:
        with pytest.raises(SystemExit, match="no model at .*missing.keras"):
            gradio_app.main(["--model", str(tmp_path / "missing.keras")])
    finally:
        gradio_app.predictor.cache_clear()


# --- Pygame ------------------------------------------------------------------------------------------


def test_pygame_digit_keys_save_the_drawing(window, tmp_path):
    assert window.saved_line.startswith(front.SAVE_HINT) and "0 drawings saved by kim" in window.saved_line
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_3))
    window.step()
    assert window.saved_line.startswith("Draw a digit first")  # nothing to save yet
    draw_digit(window, 3)
    window.step()
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_3))  # "Right"
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_KP8))  # "Wrong, it was 8"
    window.step()
    assert window.saved_line.startswith("Saved as a 8 (a correction). 2 drawings saved by kim")
    drawings = list(Store.open(tmp_path / "p.sqlite3").drawings())
    assert [(d.label, d.predicted, d.source, d.user) for d in drawings] == [
        (3, 3, "pygame", "kim"),
        (8, 3, "pygame", "kim"),
    ]


def test_pygame_f_twice_forgets_the_windows_user(window, tmp_path, predictor):
    with Store.open(tmp_path / "p.sqlite3") as s:
        for user in ("kim", "lee", "kim"):
            s.save(pen_digit(5, np.random.default_rng(0), "dark_on_light"), 5, source="pygame", user=user)
    for _mode in ("digit", "number"):  # the help line says how, and fits the window
        assert "F F: forget me    Esc: quit" in window.help_line
        assert window.fonts["small"].size(window.help_line)[0] <= window.layout.help.width
        window.switch_mode()
    press(pygame.K_f)
    window.step()
    assert window.saved_line == "Press F again to delete every drawing saved by kim; any other key keeps them."
    press(pygame.K_RETURN)  # any other key: nothing deleted
    window.step()
    assert window.saved_line == front.KEPT and Store.open(tmp_path / "p.sqlite3").count("kim") == 2
    press(pygame.K_f)
    press(pygame.K_f)
    window.step()
    assert window.saved_line == "Forgot kim: 2 drawings deleted."
    assert Store.open(tmp_path / "p.sqlite3").stats()["by_user"] == {"lee": 1}


def test_pygame_without_a_store_ignores_digit_keys(predictor):
    app = front.open_window(predictor)
    try:
        draw_digit(app, 3)
        app.step()
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_3))
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_f))
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_f))
        assert app.step() and app.saved_line == "" and "forget" not in app.help_line
    finally:
        pygame.quit()


# --- the Flask page in a real browser ------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.slow
def test_the_page_saves_right_and_wrong(page, tmp_path):
    from playwright.sync_api import expect

    db = tmp_path / "web.sqlite3"
    with serve_flask("--db", str(db)) as url:
        page.goto(url)
        box = page.locator("#canvas").bounding_box()
        for stroke in pen_paths(1, canvas=int(box["width"])):
            page.mouse.move(box["x"] + stroke[0][0], box["y"] + stroke[0][1])
            page.mouse.down()
            for x, y in stroke[1:]:
                page.mouse.move(box["x"] + x, box["y"] + y)
            page.mouse.up()
        page.locator("#predict").click()
        page.wait_for_selector("#result[data-state=done]")
        page.wait_for_selector("#feedback:not([hidden])")
        page.fill("#user", "lee")
        page.locator("#feedback .it-was[data-label='7']").click()
        expect(page.locator("#saved")).to_contain_text("Saved as a 7. 1 drawing saved, kept in")
        assert page.locator("#right").is_disabled()  # one save per answer
    (drawing,) = Store.open(db).drawings()
    assert (drawing.label, drawing.user, drawing.source) == (7, "lee", "flask")


@pytest.mark.browser
@pytest.mark.slow
def test_the_page_forgets_me_after_asking(page, tmp_path, make_drawing_png, problems):
    from playwright.sync_api import expect

    db = tmp_path / "web.sqlite3"
    with Store.open(db) as s:
        for digit, user in ((4, "lee"), (2, "kim"), (9, "lee")):
            s.save(make_drawing_png(digit), digit, source="flask", user=user)
    asked = []

    def answer(accept: bool):
        def handle(dialog):
            asked.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        return handle

    with serve_flask("--db", str(db)) as url:
        open_page(page, url)
        page.uncheck("#live")
        draw_with_mouse(page, 1)
        page.click("#predict")
        page.wait_for_selector("#feedback:not([hidden])")
        page.fill("#user", "")
        page.click("#forget")  # no name: nothing asked, nothing deleted
        expect(page.locator("#saved")).to_have_text(re.compile("^Nothing deleted: Type your name first"))
        page.fill("#user", "lee")
        page.once("dialog", answer(False))
        page.click("#forget")  # "Cancel": nothing deleted
        assert page.request.get(f"{url}/api/drawings/stats?user=lee").json()["count"] == 2
        page.once("dialog", answer(True))
        page.click("#forget")
        expect(page.locator("#saved")).to_have_text("Forgot lee: 2 drawings deleted.")
        assert not page.locator("#right").is_disabled()  # the answer may still be saved
    assert asked == ["Delete every drawing saved by lee? This cannot be undone."] * 2
    assert Store.open(db).stats()["by_user"] == {"kim": 1}
    assert problems == []
