"""The Flask app through its test client, and the production server (waitress) for real."""

from __future__ import annotations

import base64
import io
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest
from PIL import Image

from digitrec import ModelError
from digitrec.imageio import encode_data_url
from flask_app import MAX_BODY, create_app
from flask_app.errors import status_for
from tests.harness.servers import free_port
from tests.harness.support import ROOT, blank_canvas_png, serve_flask

DIGITS = range(10)


def assert_answer(body: dict, digit: int | None) -> None:
    assert list(body)[:3] == ["digit", "confidence", "probabilities"]
    assert body["digit"] == digit
    assert len(body["probabilities"]) == 10 and abs(sum(body["probabilities"]) - 1) < 1e-4
    if digit is not None:
        assert body["confidence"] == max(body["probabilities"]) == body["probabilities"][digit]


# --- predictions ---------------------------------------------------------------------------------


@pytest.mark.parametrize("digit", DIGITS)
def test_json_data_url_gets_the_right_digit(client, make_drawing_png, digit):
    response = client.post("/api/predict", json={"image": encode_data_url(make_drawing_png(digit))})
    assert response.status_code == 200 and response.is_json
    assert_answer(response.get_json(), digit)


@pytest.mark.parametrize("digit", DIGITS)
def test_multipart_upload_gets_the_right_digit(client, make_drawing_png, digit):
    upload = {"image": (io.BytesIO(make_drawing_png(digit, how="light_on_dark")), "digit.png", "image/png")}
    response = client.post("/api/predict", data=upload)
    assert response.status_code == 200
    assert_answer(response.get_json(), digit)


def test_transparent_canvas_and_a_data_url_form_field(client, make_drawing_png):
    url = encode_data_url(make_drawing_png(4, seed=1, how="transparent"))  # a browser canvas's toDataURL
    assert client.post("/api/predict", json={"image": url}).get_json()["digit"] == 4
    form = client.post("/api/predict", data={"image": url}, content_type="multipart/form-data")
    assert form.get_json()["digit"] == 4


def test_a_data_url_form_field_may_be_as_large_as_a_json_body(client):
    noise = np.random.default_rng(0).integers(0, 256, (560, 560, 3), dtype=np.uint8)  # ~1 MB as PNG
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, format="PNG")
    url = encode_data_url(buffer.getvalue())
    assert 600_000 < len(url) < MAX_BODY
    response = client.post("/api/predict", data={"image": url}, content_type="multipart/form-data")
    assert response.status_code == 200


def test_the_api_agrees_with_the_predictor(client, predictor, make_drawing_png):
    png = make_drawing_png(8, seed=3)
    expected = predictor.predict(png)
    body = client.post("/api/predict", json={"image": encode_data_url(png)}).get_json()
    assert body["digit"] == expected.digit
    assert body["probabilities"] == pytest.approx(list(expected.probabilities), abs=1e-6)


def test_model_input_is_the_28x28_image_the_network_saw(client, predictor, make_drawing_png):
    png = make_drawing_png(2)
    body = client.post("/api/predict", json={"image": encode_data_url(png)}).get_json()
    prefix = "data:image/png;base64,"
    assert body["model_input"].startswith(prefix)
    seen = np.asarray(Image.open(io.BytesIO(base64.b64decode(body["model_input"][len(prefix) :]))))
    assert seen.shape == (28, 28) and seen.dtype == np.uint8
    expected = np.round(predictor.predict(png).model_input * 255)
    assert np.abs(seen.astype(float) - expected).max() <= 1


@pytest.mark.parametrize("how", ["json", "multipart"])
def test_blank_canvas_answers_digit_null(client, how):
    png = blank_canvas_png()
    if how == "json":
        response = client.post("/api/predict", json={"image": encode_data_url(png)})
    else:
        response = client.post("/api/predict", data={"image": (io.BytesIO(png), "blank.png")})
    assert response.status_code == 200
    body = response.get_json()
    assert_answer(body, None)
    assert body["confidence"] == 0 and body["model_input"] is None


# --- errors --------------------------------------------------------------------------------------

PNG_HEADER = b"\x89PNG\r\n\x1a\n"


def _upload(data: bytes, name: str = "drawing.png") -> dict:
    return {"data": {"image": (io.BytesIO(data), name)}}


def _bomb_png() -> bytes:
    """A few bytes that claim 30000x30000 pixels: refused before decoding any."""
    ihdr = b"IHDR" + struct.pack(">IIBBBBB", 30000, 30000, 8, 0, 0, 0, 0)
    chunk = struct.pack(">I", 13) + ihdr + struct.pack(">I", zlib.crc32(ihdr))
    return PNG_HEADER + chunk + struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))


ERRORS = {
    "bad JSON": (dict(data="{not json", content_type="application/json"), 400, "not valid JSON"),
    "JSON array": (dict(json=[1, 2, 3]), 400, "JSON object"),
    "JSON string": (dict(json="data:image/png;base64,"), 400, "JSON object"),
    "missing field": (dict(json={"picture": "data:image/png;base64,"}), 400, 'missing field "image"'),
    "number instead of string": (dict(json={"image": 7}), 400, "must be a string"),
    "null instead of string": (dict(json={"image": None}), 400, "not null"),
    "plain string, not a data URL": (dict(json={"image": "drawing.png"}), 400, "data URL"),
    "not base64": (dict(json={"image": "data:image/png;base64,@@not base64@@"}), 400, "base64"),
    "data URL without ;base64": (dict(json={"image": "data:image/png,abc"}), 400, "base64"),
    "text/plain data URL": (dict(json={"image": "data:text/plain;base64,aGVsbG8="}), 415, "text/plain"),
    "data URL of text bytes": (dict(json={"image": "data:image/png;base64,aGVsbG8="}), 415, "not a readable image"),
    "not-an-image upload": (_upload(b"hello, I am text"), 415, "not a readable image"),
    "truncated PNG": (None, 415, "not a readable image"),  # built from a real drawing below
    "empty upload": (_upload(b""), 400, "empty"),
    "multipart without the field": (
        dict(data={"picture": "x"}, content_type="multipart/form-data"),
        400,
        'missing file field "image"',
    ),
    "decompression bomb": (None, 413, "too large"),
    # 100,000 levels: json.loads runs out of stack (RecursionError), which once escaped as a 500.
    "deeply nested JSON": (
        dict(data='{"image": ' + "[" * 100_000 + "]" * 100_000 + "}", content_type="application/json"),
        400,
        "nested too deeply",
    ),
    "deeply nested JSON objects": (
        dict(data='{"a": ' * 100_000 + "1" + "}" * 100_000, content_type="application/json"),
        400,
        "nested too deeply",
    ),
    "oversized body": (dict(data=b"x" * (MAX_BODY + 1), content_type="application/json"), 413, "larger than 2 MiB"),
    "oversized upload": (_upload(PNG_HEADER + b"\0" * MAX_BODY), 413, "larger than 2 MiB"),
    "too many form parts": (
        dict(data={f"f{i}": "x" for i in range(1001)}, content_type="multipart/form-data"),
        413,
        "exceeds",
    ),
    "text/plain body": (dict(data="data:image/png;base64,", content_type="text/plain"), 415, "text/plain"),
    "form-urlencoded body": (
        dict(data="image=x", content_type="application/x-www-form-urlencoded"),
        415,
        "unsupported content type",
    ),
    "no body": (dict(), 415, "unsupported content type"),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_bad_requests_get_a_json_error_with_the_right_status(client, make_drawing_png, case):
    kwargs, status, words = ERRORS[case]
    if case == "truncated PNG":
        kwargs = _upload(make_drawing_png(3)[:200])
    elif case == "decompression bomb":
        kwargs = dict(json={"image": encode_data_url(_bomb_png())})
    response = client.post("/api/predict", **kwargs)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json and list(response.get_json()) == ["error"]
    assert words in response.get_json()["error"]


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_wrong_method_is_405_json(client, method):
    response = client.open("/api/predict", method=method)
    assert response.status_code == 405 and response.is_json
    assert "use POST" in response.get_json()["error"]
    assert "POST" in response.headers["Allow"]


def test_unknown_api_path_is_404_json_and_the_page_keeps_html_errors(client):
    response = client.get("/api/nothing-here")
    assert response.status_code == 404 and response.get_json() == {"error": "no such endpoint: /api/nothing-here"}
    assert client.post("/healthz").status_code == 405 and client.post("/healthz").is_json
    page = client.get("/nothing-here")
    assert page.status_code == 404 and page.mimetype == "text/html"


def test_an_unexpected_failure_is_a_json_500_without_details(predictor):
    class Broken:
        path, backend = predictor.path, predictor.backend

        def predict(self, image):
            raise RuntimeError("secret internals")

    client = create_app(predictor=Broken()).test_client()  # not TESTING: errors become responses
    response = client.post("/api/predict", json={"image": "data:image/png;base64,"})
    assert response.status_code == 500 and response.get_json() == {"error": "internal server error"}


def test_invalid_image_kinds_map_to_statuses():
    from digitrec import InvalidImage

    assert status_for(InvalidImage("image is 9000x9000; the limit is ...", "too_large")) == 413
    assert status_for(InvalidImage("data URL is not valid base64: ...", "malformed")) == 400
    assert status_for(InvalidImage("unsupported image format EPS", "unsupported")) == 415
    assert status_for(InvalidImage("something new")) == 415


# --- page, health, headers, configuration --------------------------------------------------------


def test_page_has_the_drawing_ui_and_no_inline_script(client):
    response = client.get("/")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    for element_id in ("canvas", "predict", "clear", "digit", "live", "model-input", "bars"):
        assert f'id="{element_id}"' in html
    assert "<script src=" in html and "<script>" not in html and "style=" not in html
    assert "http://" not in html and "https://" not in html  # no CDN: works offline
    for asset in ("app.js", "style.css", "favicon.svg"):
        assert client.get(f"/static/{asset}").status_code == 200
    assert "touch-action: none" in client.get("/static/style.css").get_data(as_text=True)


def test_healthz(client, predictor):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "model": predictor.path.name,
        "backend": predictor.backend,
        "number_reader": predictor.number_reader,
        "debug": False,
    }


@pytest.mark.parametrize("path", ["/", "/api/predict", "/healthz", "/static/app.js", "/api/nope"])
def test_security_headers_on_every_response(client, path):
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "img-src 'self' data:" in csp and "unsafe" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"


def test_api_answers_are_not_cached(client, make_drawing_png):
    response = client.post("/api/predict", json={"image": encode_data_url(make_drawing_png(1))})
    assert response.headers["Cache-Control"] == "no-store"


def test_debug_is_off_and_flask_debug_cannot_turn_it_on_in_production(monkeypatch, predictor):
    from flask_app.__main__ import production_app

    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    assert create_app(predictor=predictor).debug is False
    monkeypatch.setenv("FLASK_DEBUG", "1")
    monkeypatch.setenv("DIGITREC_MODEL", str(predictor.path))
    app = production_app()
    assert app.debug is False and app.config["DEBUG"] is False and not app.testing


def test_model_comes_from_config_and_a_missing_one_names_the_file_and_the_fix(tmp_path, predictor):
    assert create_app({"MODEL": str(predictor.path)}).extensions["digitrec"].path == predictor.path
    missing = tmp_path / "missing.keras"
    with pytest.raises(ModelError) as error:
        create_app({"MODEL": str(missing)})
    assert str(missing) in str(error.value) and "python -m digitrec train" in str(error.value)


@pytest.mark.slow
@pytest.mark.parametrize("command", [["-m", "flask_app"], ["-m", "flask", "--app", "flask_app", "run"]])
def test_a_missing_model_stops_start_up_with_one_clear_line(tmp_path, command):
    missing = tmp_path / "missing.keras"
    env = {"DIGITREC_MODEL": str(missing), "PATH": "/usr/bin:/bin"}
    run = subprocess.run(
        [sys.executable, *command, "--port", str(free_port())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode != 0
    assert str(missing) in run.stderr and "python -m digitrec train" in run.stderr
    assert "Traceback" not in run.stderr + run.stdout


# --- the real production server ------------------------------------------------------------------


@pytest.fixture(scope="module")
def server_url():
    """``python -m flask_app`` on a free port, with FLASK_DEBUG set to show it is ignored."""
    with serve_flask("--threads", "2", env={"FLASK_DEBUG": "1"}) as url:
        yield url


@pytest.mark.slow
def test_production_server_predicts_over_http(server_url, make_drawing_png, predictor):
    import requests

    health = requests.get(f"{server_url}/healthz", timeout=10)
    assert health.status_code == 200
    assert health.json() == {
        "status": "ok",
        "model": predictor.path.name,
        "backend": predictor.backend,
        "number_reader": predictor.number_reader,
        "debug": False,
    }

    seven = {"image": encode_data_url(make_drawing_png(7))}
    response = requests.post(f"{server_url}/api/predict", json=seven, timeout=10)
    assert response.status_code == 200 and response.json()["digit"] == 7
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]

    files = {"image": ("five.png", make_drawing_png(5, how="transparent"), "image/png")}
    assert requests.post(f"{server_url}/api/predict", files=files, timeout=10).json()["digit"] == 5

    page = requests.get(server_url, timeout=10)
    assert page.status_code == 200 and 'id="canvas"' in page.text


@pytest.mark.slow
def test_production_server_errors_are_json(server_url):
    import requests

    too_big = requests.post(
        f"{server_url}/api/predict",
        data=b"x" * (MAX_BODY + 1),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert too_big.status_code == 413 and "error" in too_big.json()
    assert requests.get(f"{server_url}/api/predict", timeout=10).status_code == 405
    bad = requests.post(f"{server_url}/api/predict", data="{", headers={"Content-Type": "application/json"}, timeout=10)
    assert bad.status_code == 400 and "error" in bad.json()
