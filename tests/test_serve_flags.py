"""Serving beyond this machine safely: ``--no-saving`` and ``DIGITREC_ALLOW_SAVING=0`` on every front end that
saves, a request through a reverse proxy never shown the store's path, and ``--host`` / ``--port`` that cannot
be listened on refused in one line. The Flask checks run the real ``python -m flask_app``."""

from __future__ import annotations

import json
import logging
import os
import runpy
import subprocess
import sys
import urllib.request
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

import gradio_app
import pygame_frontend as front
from digitrec import identity
from digitrec.data.canvases import pen_digit
from digitrec.imageio import encode_data_url
from flask_app import create_app
from tests.harness.processes import child_env
from tests.harness.support import ROOT, run_module, serve_flask

PROXIED = {"X-Forwarded-For": "203.0.113.9"}  # what nginx or Caddy adds for the visitor it passes on


def call(url: str, body: dict | None = None, headers: dict | None = None) -> tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data, {"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def page(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read().decode()


@pytest.fixture
def drawing(make_drawing_png) -> dict:
    return {"image": encode_data_url(make_drawing_png(4)), "label": 4}


# --- Flask: python -m flask_app ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, env",
    [(["--no-saving"], {}), ([], {"DIGITREC_ALLOW_SAVING": "0"}), ([], {"DIGITREC_ALLOW_SAVING": "false"})],
    ids=["--no-saving", "env-0", "env-false"],
)
def test_flask_on_loopback_told_not_to_save_saves_nothing_and_shows_no_path(args, env, drawing):
    data = os.environ["DIGITREC_DATA"]  # where the store would be (tests/conftest.py)
    with serve_flask(*args, env=env) as url:
        status, body = call(f"{url}/api/drawings", drawing)
        assert status == 403 and "saving drawings is off" in body["error"]
        assert call(f"{url}/api/drawings/stats") == (200, {"saving": False, "count": 0, "by_label": {}, "kept": None})
        assert data not in page(url) and data not in json.dumps(body)
    assert not any(os.scandir(data))  # no store was made


def test_flask_behind_a_proxy_tells_visitors_on_the_server_never_the_path(drawing):
    data = os.environ["DIGITREC_DATA"]
    with serve_flask() as url:  # 127.0.0.1: saving on, as a reverse proxy in front of it would leave it
        status, body = call(f"{url}/api/drawings", drawing, PROXIED)
        assert status == 201 and body["kept"] == "on the server", body
        for headers in (PROXIED, {"Forwarded": "for=203.0.113.9"}, {"X-Real-IP": "203.0.113.9"}):
            assert call(f"{url}/api/drawings/stats", headers=headers)[1]["kept"] == "on the server", headers
        assert call(f"{url}/api/drawings/stats")[1]["kept"].startswith(data)  # someone at this machine
        assert data not in page(url)


def test_gunicorn_honours_the_environment_on_a_loopback_bind(predictor, monkeypatch):
    """gunicorn.conf.py picks saving from the binds only when neither the config nor the environment said."""
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))

    def saving_after_boot(bind: str) -> bool:
        app = create_app({"TESTING": True}, predictor=predictor)
        worker = SimpleNamespace(wsgi=app, cfg=SimpleNamespace(bind=[bind]), log=logging.getLogger("test"))
        conf["post_worker_init"](worker)
        return app.config["ALLOW_SAVING"]

    assert saving_after_boot("127.0.0.1:8000") is True and saving_after_boot("0.0.0.0:8000") is False
    monkeypatch.setenv("DIGITREC_ALLOW_SAVING", "0")
    assert saving_after_boot("127.0.0.1:8000") is False
    monkeypatch.setenv("DIGITREC_ALLOW_SAVING", "1")
    assert saving_after_boot("0.0.0.0:8000") is True


# --- Gradio and Pygame ---------------------------------------------------------------------------------


@pytest.fixture
def gradio_store(tmp_path, monkeypatch):
    monkeypatch.setitem(gradio_app.settings, "db", str(tmp_path / "g.sqlite3"))
    gradio_app.feedback.cache_clear()
    yield tmp_path / "g.sqlite3"
    gradio_app.feedback.cache_clear()


def test_gradio_passes_each_event_its_request_and_a_proxied_visitor_sees_no_path(gradio_store, tmp_path):
    from gradio.helpers import special_args

    path = tmp_path / "six.png"
    Image.fromarray(pen_digit(6, np.random.default_rng(6), "transparent")).save(path)
    upload = {"background": None, "layers": [], "composite": {"path": str(path)}}
    # a visitor a proxy passed on, holding the id the server's cookie gave them (tests/test_identity.py)
    cookie = f"{identity.COOKIE}={identity.new_id()}"
    proxied = SimpleNamespace(
        client=SimpleNamespace(host="127.0.0.1"), headers={"x-forwarded-for": "203.0.113.9", "cookie": cookie}
    )
    here = SimpleNamespace(client=SimpleNamespace(host="127.0.0.1"), headers={})
    for api_name in ("save_right", "save_3", "save_number_right", "save_number_3"):
        (fn,) = [f.fn for f in gradio_app.demo.fns.values() if f.api_name == api_name]
        inputs = special_args(fn, ["payload", "who"], proxied)[0]
        assert proxied in inputs, api_name  # Gradio hands each saving event its request
    assert gradio_app.save(upload, "ana", request=proxied).endswith("kept on the server.")
    assert gradio_app.save_as(5)(upload, "ana", proxied).endswith("kept on the server.")
    assert gradio_app.status("ana", proxied) == ["2 drawings saved by this browser, kept on the server."] * 2
    assert str(gradio_store) in gradio_app.save(upload, "ana", request=here)  # at this machine: the path


def test_pygame_no_saving_keeps_the_digit_keys_from_saving(predictor, monkeypatch):
    opened = []
    monkeypatch.setattr(front, "open_window", lambda p, size, feedback, user: opened.append(feedback))
    monkeypatch.setattr(front, "run", lambda app: None)
    assert front.main(["--model", str(predictor.path)]) == 0 and opened.pop() is not None
    assert front.main(["--model", str(predictor.path), "--no-saving"]) == 0 and opened.pop() is None
    monkeypatch.setenv("DIGITREC_ALLOW_SAVING", "0")
    assert front.main(["--model", str(predictor.path)]) == 0 and opened.pop() is None


# --- --host and --port ----------------------------------------------------------------------------------


def gradio(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "gradio_app.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=120, env=child_env()
    )


@pytest.mark.parametrize(
    "start",
    [lambda *a: run_module("flask_app", *a, timeout=60), gradio],
    ids=["flask", "gradio"],
)
@pytest.mark.parametrize(
    "args, says",
    [
        (["--host", "no.such.host.invalid"], "argument --host: cannot listen on 'no.such.host.invalid'"),
        (["--port", "70000"], "argument --port: invalid port 70000: expected a number from 1 to 65535"),
        (["--port", "http"], "argument --port: invalid port 'http'"),
    ],
    ids=["unresolvable-host", "port-70000", "port-word"],
)
def test_a_host_or_port_that_cannot_be_listened_on_is_one_line_and_exit_2(start, args, says):
    done = start(*args)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr and says in done.stderr.strip().splitlines()[-1], done.stderr


def test_flask_on_an_address_this_machine_lacks_is_one_line_and_exit_2():
    done = run_module("flask_app", "--host", "192.0.2.1", "--port", "8000", timeout=60)  # TEST-NET-1: nobody's
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert done.stderr.strip().splitlines()[-1].startswith("error: cannot listen on 192.0.2.1:8000: ")
