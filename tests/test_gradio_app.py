"""The Gradio front end: reading Sketchpad values, the real server through its API, a real browser."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import gradio as gr
import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

import gradio_app
from digitrec.data.canvases import pen_digit, to_png
from digitrec.imageio import MAX_PIXELS
from gradio_app import BLANK, CANVAS, predict
from tests.harness.gradio_page import draw, expect_answer, open_app, wait_for_brush
from tests.harness.servers import free_port, http_status, wait_for_http
from tests.harness.support import ROOT

DIGITS = range(10)
CORPUS = ROOT / "tests" / "corpus" / "files"


def layer(digit: int, seed: int = 0) -> np.ndarray:
    """The Sketchpad's drawing layer: black RGBA whose alpha is the pen's coverage."""
    return pen_digit(digit, np.random.default_rng(seed), "transparent")


def sketch(digit: int, seed: int = 0) -> dict:
    """A Sketchpad value as Gradio hands it over after a user drew ``digit``."""
    ink = layer(digit, seed)
    alpha = ink[..., 3:].astype(np.float32) / 255
    grey = np.round(255 * (1 - alpha)).astype(np.uint8)
    composite = np.concatenate([grey, grey, grey, np.full_like(grey, 255)], axis=-1)
    return {"background": np.full((CANVAS, CANVAS, 4), 255, np.uint8), "layers": [ink], "composite": composite}


def top_digit(answer: dict | str) -> int | None:
    return None if answer == BLANK else int(next(iter(answer)))


# --- the predict function, called directly --------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        None,
        {"background": None, "layers": [], "composite": None},
        {
            "background": np.full((CANVAS, CANVAS, 4), 255, np.uint8),  # an untouched canvas
            "layers": [np.zeros((CANVAS, CANVAS, 4), np.uint8)],
            "composite": np.full((CANVAS, CANVAS, 4), 255, np.uint8),
        },
    ],
    ids=["none", "empty-layers", "untouched"],
)
def test_blank_canvas_asks_for_a_digit(value):
    assert predict(value) == (BLANK, None)


@pytest.mark.parametrize("digit", DIGITS)
def test_drawn_digit_is_read(digit):
    answer, seen = predict(sketch(digit))
    assert top_digit(answer) == digit
    assert len(answer) == 3 and all(isinstance(k, str) for k in answer)
    probs = list(answer.values())
    assert probs == sorted(probs, reverse=True) and 0.5 < probs[0] <= 1.0 and sum(probs) <= 1.0 + 1e-6
    # What the model sees: 28x28, white ink on black, each pixel an even 8x8 block.
    assert seen.shape == (224, 224) and seen.dtype == np.uint8 and seen.max() == 255
    assert (seen == seen[::8, ::8].repeat(8, axis=0).repeat(8, axis=1)).all()
    assert seen[:8, :8].max() == 0


def test_ink_only_in_the_alpha_channel_of_a_transparent_layer():
    assert top_digit(predict({"background": None, "layers": [layer(4)], "composite": None})[0]) == 4


def test_dark_theme_grey_background():
    composite = pen_digit(5, np.random.default_rng(1), "grey_background")
    assert top_digit(predict({"background": None, "layers": [], "composite": composite})[0]) == 5


def test_missing_composite_is_painted_from_the_layers():
    value = sketch(2)
    answer, seen = predict({**value, "composite": None})
    assert top_digit(answer) == 2
    assert np.abs(seen.astype(int) - predict(value)[1]).max() <= 2  # the same picture as Gradio's composite


def test_layers_of_other_sizes_and_pil_images_are_painted_too():
    small = Image.fromarray(layer(7)).resize((200, 200))
    value = {"background": np.full((CANVAS, CANVAS, 3), 255, np.uint8), "layers": [small], "composite": None}
    assert top_digit(predict(value)[0]) == 7


@pytest.mark.parametrize(
    "composite", [np.zeros((0, 0, 4), np.uint8), np.zeros((3, 3, 2), np.uint8), "not an image", 12]
)
def test_bad_images_are_a_clear_gradio_error(composite):
    with pytest.raises(gr.Error, match="image|drawing|array"):
        predict({"background": None, "layers": [], "composite": composite})


def test_an_upload_that_is_not_an_image_is_a_clear_gradio_error(tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"this is not a PNG")
    payload = {"background": None, "layers": [], "composite": {"path": str(broken)}}
    with pytest.raises(gr.Error, match="Could not read the drawing: not an image"):
        gradio_app.predict_upload(payload)


def test_uploads_are_read_like_gradio_reads_them(tmp_path, make_drawing_png):
    path = tmp_path / "nine.png"
    path.write_bytes(make_drawing_png(9))
    payload = {"background": None, "layers": [], "composite": {"path": str(path)}}
    assert top_digit(gradio_app.predict_upload(payload)[0]) == 9
    assert gradio_app.predict_upload(None) == (BLANK, None)


NOT_SKETCHPAD_VALUES = [5, "a string", [1, 2], {"foo": 1}, {"composite": 5}, {"layers": 5}, {"composite": {"path": 3}}]
BOMBS = ["bomb_30000x30000.png", "bomb_declared_30000.png"]  # a real one, and a header declaring 30000x30000
TOO_LARGE = f"Could not read the drawing: image is too large \\(30000x30000\\); the limit is {MAX_PIXELS:,} pixels"


@pytest.mark.parametrize("payload", NOT_SKETCHPAD_VALUES, ids=repr)
def test_a_payload_that_is_not_a_sketchpad_value_is_a_clear_gradio_error(payload):
    for handler in (gradio_app.predict_upload, gradio_app.read_number_upload):
        with pytest.raises(gr.Error, match="Not a drawing: send the pad's value"):
            handler(payload)


@pytest.mark.parametrize("bomb", BOMBS)
def test_an_image_bomb_upload_gets_the_documented_limit(bomb):
    payload = {"background": None, "layers": [], "composite": {"path": str(CORPUS / bomb)}}
    for handler in (gradio_app.predict_upload, gradio_app.read_number_upload):
        with pytest.raises(gr.Error, match=TOO_LARGE):
            handler(payload)
    with pytest.raises(gr.Error, match=TOO_LARGE):
        gradio_app.save({**payload, "composite": None, "layers": [payload["composite"]]}, "ana")


@pytest.fixture
def no_model(monkeypatch, tmp_path):
    monkeypatch.setenv("DIGITREC_MODEL", str(tmp_path / "missing.keras"))
    gradio_app.predictor.cache_clear()
    yield
    gradio_app.predictor.cache_clear()


def test_missing_model_is_explained_not_a_traceback(no_model, monkeypatch):
    with pytest.raises(gr.Error, match="python -m digitrec train"):
        predict(sketch(3))
    monkeypatch.setattr(gradio_app.demo, "launch", lambda **kw: pytest.fail("launched without a model"))
    with pytest.raises(SystemExit, match="python -m digitrec train"):
        gradio_app.main([])


@pytest.fixture
def launches(monkeypatch):
    calls: list[dict] = []
    monkeypatch.setattr(gradio_app.demo, "launch", lambda **kw: calls.append(kw))
    monkeypatch.setattr(gradio_app.demo, "block_thread", lambda: None)  # main() serves until Ctrl+C
    return calls


def test_cli_serves_localhost_by_default(launches, capsys):
    gradio_app.main([])
    assert launches[0]["server_name"] == "127.0.0.1" and launches[0]["share"] is False
    assert "public" not in capsys.readouterr().err


def test_cli_share_warns_that_the_link_is_public(launches, capsys):
    gradio_app.main(["--share", "--port", "8123", "--host", "0.0.0.0"])
    assert launches[0]["share"] is True and launches[0]["server_port"] == 8123
    assert launches[0]["server_name"] == "0.0.0.0"
    assert "WARNING" in capsys.readouterr().err


def test_cli_says_how_to_share_with_its_own_flag_not_gradios(launches, capsys):
    gradio_app.main([])
    assert launches[0]["quiet"] is True  # Gradio's own start-up lines say "set `share=True` in `launch()`"
    out = capsys.readouterr().out
    assert "python gradio_app.py --share" in out and "share=True" not in out
    gradio_app.main(["--share"])
    assert "python gradio_app.py --share" not in capsys.readouterr().out  # it is shared already


def test_uploads_and_the_cache_are_bounded(launches):
    """A shared link faces the internet: uploads are capped, and Gradio's cache folder, where it keeps
    every upload, is emptied of files older than 10 minutes every 10 minutes (README's limits)."""
    gradio_app.main([])
    assert launches[0]["max_file_size"] == "5mb"
    assert gradio_app.demo.delete_cache == (600, 600)


@pytest.mark.slow
def test_script_start_up_names_the_share_flag_not_gradios_launch_argument(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    log = tmp_path / "out.txt"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "gradio_app.py", "--port", str(port)],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            wait_for_http(url, 90)
            deadline = time.monotonic() + 30  # the server answers a moment before main() prints
            while "--share" not in log.read_text() and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    text = log.read_text()
    assert f"Running on local URL:  {url}" in text, text
    assert "python gradio_app.py --share" in text and "share=True" not in text, text


@pytest.mark.slow
def test_script_without_a_model_exits_with_the_reason(tmp_path):
    env = {"DIGITREC_MODEL": str(tmp_path / "missing.keras")}
    proc = subprocess.run(
        [sys.executable, "gradio_app.py"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "python -m digitrec train" in proc.stderr and "Traceback" not in proc.stderr


# --- the real app on a free port ------------------------------------------------------------------


@pytest.fixture(scope="module")
def gradio_api(gradio_url):
    from gradio_client import Client

    return Client(gradio_url, verbose=False)


def api_digit(gradio_api, value: dict | None) -> str:
    answer, _seen = gradio_api.predict(value, api_name="/predict")
    return answer["label"]


@pytest.mark.slow
def test_api_reads_drawings(gradio_api, tmp_path, make_drawing_png):
    from gradio_client import handle_file

    for digit in DIGITS:
        path = tmp_path / f"{digit}.png"
        path.write_bytes(make_drawing_png(digit))
        assert api_digit(gradio_api, {"background": None, "layers": [], "composite": handle_file(path)}) == str(digit)
    path = tmp_path / "layer.png"
    path.write_bytes(to_png(layer(6)))
    assert api_digit(gradio_api, {"background": None, "layers": [handle_file(path)], "composite": None}) == "6"
    assert api_digit(gradio_api, None) == BLANK


@pytest.mark.slow
def test_api_bad_images_are_errors_and_the_server_keeps_serving(gradio_api, tmp_path, make_drawing_png):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n but then nothing useful")
    strip = tmp_path / "strip.png"  # a readable image, but 20000 pixels long: digitrec refuses it
    strip.write_bytes(to_png(np.zeros((1, 20000), np.uint8)))
    good = tmp_path / "good.png"
    good.write_bytes(make_drawing_png(8))
    for bad, message in [(broken, "Could not read the drawing"), (strip, "20000x1")]:
        with pytest.raises(AppError, match=message):
            gradio_api.predict({"background": None, "layers": [], "composite": handle_file(bad)}, api_name="/predict")
        assert api_digit(gradio_api, {"background": None, "layers": [], "composite": handle_file(good)}) == "8"


@pytest.mark.slow
def test_api_answers_a_value_that_is_not_a_drawing_with_a_clear_error(gradio_api, gradio_url):
    """Raw HTTP as any client may send it, and gradio_client: Gradio's error event carries the message
    (not ``"error": null``), no request gets a 500, and the server keeps serving."""
    from gradio_client.exceptions import AppError

    for api_name in ("predict", "read_number", "save_right", "save_number_right"):
        for value in NOT_SKETCHPAD_VALUES:
            # predict and read_number take the name too (its saved drawings help): raw HTTP sends every input
            extra = {"save_right": ["ana"], "save_number_right": [0, "ana"]}.get(api_name, ["ana"])
            body = json.dumps({"data": [value, *extra]}).encode()
            call = f"{gradio_url}gradio_api/call/{api_name}"
            status, answer = http_status(call, "POST", body, {"Content-Type": "application/json"})
            assert status == 200, (api_name, value, status, answer)
            status, events = http_status(f"{call}/{json.loads(answer)['event_id']}", timeout=60)
            assert status == 200, (api_name, value, status, events)
            error = events.decode().split("event: error\ndata: ", 1)[1].split("\n", 1)[0]
            assert json.loads(error)["error"].startswith("Not a drawing: send the pad's value"), (api_name, value)
    with pytest.raises(AppError, match="Not a drawing"):
        gradio_api.predict(5, api_name="/predict")
    assert api_digit(gradio_api, None) == BLANK


@pytest.mark.slow
def test_api_image_bomb_uploads_get_the_documented_limit(gradio_api, tmp_path, make_drawing_png):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    good = tmp_path / "good.png"
    good.write_bytes(make_drawing_png(8))
    for bomb in BOMBS:
        value = {"background": None, "layers": [], "composite": handle_file(CORPUS / bomb)}
        for api_name in ("/predict", "/read_number"):
            with pytest.raises(AppError, match=TOO_LARGE):
                gradio_api.predict(value, api_name=api_name)
        assert api_digit(gradio_api, {"background": None, "layers": [], "composite": handle_file(good)}) == "8"


# --- a real browser -----------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.browser
def test_drawing_works_from_the_first_stroke_and_after_clear(page, gradio_url):
    open_app(page, gradio_url)
    expect_answer(page, BLANK)
    draw(page, 3)
    expect_answer(page, "3")
    expect(page.locator("#model-input img")).to_be_visible()
    page.locator("#sketchpad button[aria-label='Clear canvas']").click()
    expect_answer(page, BLANK)
    wait_for_brush(page)  # Gradio itself drops the brush on clear
    draw(page, 7)
    expect_answer(page, "7")


@pytest.mark.slow
@pytest.mark.browser
def test_dark_theme_phone_sized_window_and_examples(page, gradio_url):
    page.set_viewport_size({"width": 480, "height": 900})
    open_app(page, gradio_url + "?__theme=dark")
    draw(page, 2)
    expect_answer(page, "2")
    page.locator("button.gallery-item").nth(3).click()  # the examples are 2, 5, 7, 8
    expect_answer(page, "8")


@pytest.mark.slow
def test_api_forget_deletes_the_names_drawings(gradio_api, tmp_path, make_drawing_png):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    path = tmp_path / "4.png"
    path.write_bytes(make_drawing_png(4))
    drawing = {"background": None, "layers": [], "composite": handle_file(path)}
    for api_name in ("/save_right", "/save_7"):
        assert "by api-forget" in gradio_api.predict(drawing, "api-forget", api_name=api_name)
    assert gradio_api.predict("api-forget", api_name="/forget") == "Forgot api-forget: 2 drawings deleted."
    assert gradio_api.predict("api-forget", api_name="/forget") == "Forgot api-forget: 0 drawings deleted."
    with pytest.raises(AppError, match="user name"):
        gradio_api.predict("x" * 65, api_name="/forget")
