"""Whole numbers on the web: POST /api/read_number through the test client (the same input rules and
errors as /api/predict), and the page's number mode in headless Chromium."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from digitrec.data.canvases import to_png
from digitrec.data.composed import compose
from digitrec.data.synth import digit_strokes
from digitrec.imageio import encode_data_url
from tests.corpus.make_corpus import requests
from tests.harness.flask_page import ink_pixels, open_page, predicted, read_number, write_number
from tests.harness.support import ROOT

SCREENSHOT = ROOT / "docs" / "flask_number.png"
URL = "/api/read_number"


@pytest.fixture(scope="module")
def number_png() -> tuple[bytes, object]:
    rng = np.random.default_rng(0)
    truth = compose([digit_strokes(int(d), rng, style=0, join=False) for d in "2026"], rng, text="2026")
    return to_png(truth.image), truth


def test_a_number_as_a_data_url(client, predictor, number_png):
    png, truth = number_png
    response = client.post(URL, json={"image": encode_data_url(png)})
    assert response.status_code == 200 and response.is_json
    body = response.get_json()
    assert list(body) == ["text", "confidence", "digits"] and body["text"] == "2026"
    assert [list(d) for d in body["digits"]] == [["digit", "confidence", "probabilities", "box"]] * 4
    expected = predictor.read_number(png)
    assert [d["box"] for d in body["digits"]] == [list(d.box) for d in expected.digits]
    assert body["confidence"] == pytest.approx(expected.confidence, abs=1e-5)  # the whole text's, as read_number says
    for d, box in zip(body["digits"], truth.boxes, strict=True):
        assert abs(d["box"][0] - box[0]) <= 3 and abs(d["box"][2] - box[2]) <= 3
        assert abs(sum(d["probabilities"]) - 1) < 1e-4 and d["confidence"] == max(d["probabilities"])
    assert response.headers["Cache-Control"] == "no-store"


def test_a_number_as_an_upload_and_as_a_form_field(client, number_png):
    png, _truth = number_png
    upload = client.post(URL, data={"image": (io.BytesIO(png), "number.png", "image/png")})
    field = client.post(URL, data={"image": encode_data_url(png)}, content_type="multipart/form-data")
    assert upload.get_json()["text"] == field.get_json()["text"] == "2026"


def test_a_blank_canvas_and_one_digit(client, make_drawing_png):
    blank = to_png(np.zeros((280, 840, 4), np.uint8))  # an untouched transparent canvas
    assert client.post(URL, json={"image": encode_data_url(blank)}).get_json() == {
        "text": "",
        "confidence": 0.0,
        "digits": [],
    }
    png = make_drawing_png(7)
    one = client.post(URL, json={"image": encode_data_url(png)}).get_json()
    digit = client.post("/api/predict", json={"image": encode_data_url(png)}).get_json()
    assert one["text"] == "7" and one["digits"][0]["probabilities"] == digit["probabilities"]


@pytest.mark.parametrize("spec", requests(), ids=lambda r: r["name"])
def test_bad_requests_get_the_same_answer_as_predict(spec, client):
    def send(url: str):
        method = spec.get("method", "POST")
        if "json" in spec:
            return client.open(url, method=method, json=spec["json"])
        if "upload" in spec:
            data = {"image": (io.BytesIO(spec["upload"]), "x.png")}
            return client.open(url, method=method, content_type="multipart/form-data", data=data)
        if "form" in spec:
            return client.open(url, method=method, data=spec["form"], content_type="multipart/form-data")
        headers = {"Content-Type": spec["content_type"]} if spec.get("content_type") else {}
        return client.open(url, method=method, data=spec.get("body", ""), headers=headers)

    mine, theirs = send(URL), send("/api/predict")
    assert mine.status_code == theirs.status_code == spec["status"]
    assert mine.is_json and mine.get_json()["error"] == theirs.get_json()["error"].replace("/api/predict", URL)


def test_too_many_marks_is_a_clear_413(client):
    image = np.full((400, 400), 255, np.uint8)
    image[::4, ::4] = 0  # 10,000 dots, a pixel each, far apart: no number
    response = client.post(URL, data={"image": (io.BytesIO(to_png(image)), "dots.png")})
    assert response.status_code == 413 and "too many separate marks" in response.get_json()["error"]


def test_get_is_refused_with_the_method_to_use(client):
    response = client.get(URL)
    assert response.status_code == 405 and "use POST" in response.get_json()["error"]


# --- the page, in Chromium ----------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.browser
def test_number_mode_reads_a_number_and_draws_its_boxes(page, flask_url, problems, tmp_path):
    page.set_default_timeout(15_000)
    page.set_viewport_size({"width": 1100, "height": 900})
    open_page(page, flask_url)
    page.uncheck("#live")
    assert page.locator("#number-result").is_hidden()
    page.check("#number-mode")
    assert page.locator("#number-result").is_visible() and page.locator("#result").is_hidden()
    canvas = page.locator("#canvas").bounding_box()
    assert canvas["width"] > 2.5 * canvas["height"]  # the wide canvas

    write_number(page, "42")
    assert ink_pixels(page) > 1000
    assert read_number(page) == "42"
    assert page.locator("#number-digits > li").count() == 2
    assert page.locator("#number-digits > li").first.locator(".mini-bars li").count() == 10
    rects = page.locator(".number-boxes rect")
    assert rects.count() == 2
    first, second = (rects.nth(i).bounding_box() for i in range(2))
    assert canvas["x"] <= first["x"] < first["x"] + first["width"] <= second["x"] + 4  # left to right, on the ink
    assert "sure" in page.locator("#number-confidence").text_content()

    if os.environ.get("DIGITREC_SCREENSHOTS") == "1" or not SCREENSHOT.exists():
        shot = tmp_path / "flask_number.png"
        page.screenshot(path=str(shot), full_page=True, animations="disabled")
        SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT)
        assert Path(SCREENSHOT).stat().st_size > 20_000

    page.click("#clear")
    assert ink_pixels(page) == 0 and page.locator(".number-boxes rect").count() == 0
    assert page.locator("#number").text_content() == ""
    page.click("#predict")
    assert page.locator("#number-result").get_attribute("data-state") == "blank"

    page.uncheck("#number-mode")  # back to one digit: square canvas, the single answer
    canvas = page.locator("#canvas").bounding_box()
    assert abs(canvas["width"] - canvas["height"]) < 2
    write_number(page, "3")
    assert predicted(page) == "3"
    assert problems == []
