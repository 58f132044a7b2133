"""Shared fixtures: the committed model's predictor, MNIST, rendered drawings, the Flask app and its
test client, the Pygame window, a real browser."""

from __future__ import annotations

import os
import subprocess

import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient

from digitrec import Predictor, load_mnist
from digitrec.data.canvases import pen_digit, to_png
from flask_app import create_app
from tests.harness.browser import CHROMIUM, launch
from tests.harness.support import serve_flask, serve_gradio


@pytest.fixture(scope="session")
def predictor() -> Predictor:
    """What the apps load: the committed model, and the learned number reader when it ships."""
    return Predictor.load()


@pytest.fixture(scope="session")
def cutter() -> Predictor:
    """The committed model with the cutting number reader alone (``DIGITREC_NUMBER_READER=off``)."""
    return Predictor.load(number_reader=False)


@pytest.fixture(scope="session")
def mnist():
    return load_mnist()


@pytest.fixture(scope="session")
def handwriting():
    """The real handwriting split by writer: ``{"train": [...], "validation": [...], "test": [...]}``.

    Without the files the tests that need them skip, saying why, except under CI=true, where
    the data must be there and their absence fails the run."""
    from digitrec.data.handwriting import load_handwriting, split
    from digitrec.data.mnist import DataError

    try:
        return split(load_handwriting())
    except DataError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI needs the real handwriting: {exc}")
        pytest.skip(f"no real handwriting here: {exc}")


@pytest.fixture(scope="session")
def make_drawing_png():
    """A factory: ``make_drawing_png(digit, seed=0, how="dark_on_light")`` is the PNG bytes of a clear
    pen drawing of ``digit`` on a 280x280 canvas."""

    def make(digit: int, seed: int = 0, how: str = "dark_on_light") -> bytes:
        return to_png(pen_digit(digit, np.random.default_rng(seed), how))

    return make


@pytest.fixture
def app(predictor) -> Flask:
    """The Flask app in testing mode, on the session's predictor (no model load per test)."""
    return create_app({"TESTING": True}, predictor=predictor)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client for ``app``: requests without a server."""
    return app.test_client()


@pytest.fixture
def pygame_app(predictor):
    """The Pygame window, headless (SDL's dummy driver), on the session's predictor; it saves nothing."""
    import pygame

    import pygame_frontend as front

    app = front.open_window(predictor)
    pygame.event.clear()  # window events from set_mode: each test starts with an empty queue
    yield app
    pygame.quit()


@pytest.fixture
def window(predictor, tmp_path):
    """The Pygame window of user ``kim``, saving what they confirm into ``tmp_path / "p.sqlite3"``."""
    import pygame

    import pygame_frontend as front
    from digitrec.feedback import Feedback

    app = front.open_window(predictor, feedback=Feedback(predictor, "pygame", db=tmp_path / "p.sqlite3"), user="kim")
    pygame.event.clear()
    yield app
    pygame.quit()


@pytest.fixture(scope="session", autouse=True)
def _no_real_drawing_store(tmp_path_factory):
    """Servers started once for a module or the session (before any test's own folder below is set)
    save into a folder of this run's, never the user's real drawing store."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DIGITREC_DATA", str(tmp_path_factory.mktemp("session-data")))
        mp.delenv("DIGITREC_DB", raising=False)
        mp.delenv("DIGITREC_ALLOW_SAVING", raising=False)
        yield


@pytest.fixture(autouse=True)
def _own_drawing_store(tmp_path_factory, monkeypatch):
    """Every test saves into its own empty folder, never the user's real drawing store."""
    monkeypatch.setenv("DIGITREC_DATA", str(tmp_path_factory.mktemp("data")))
    monkeypatch.delenv("DIGITREC_DB", raising=False)
    monkeypatch.delenv("DIGITREC_ALLOW_SAVING", raising=False)


@pytest.fixture(scope="session")
def postgres():
    """A throw-away PostgreSQL server on 127.0.0.1 (tests/harness/postgres.py), for the whole session.

    Without one the tests that need it skip, saying why, except under CI=true, where PostgreSQL
    must be there (scripts/install-postgresql.sh) and its absence fails the run."""
    from tests.harness.postgres import PostgresUnavailable, TempPostgres

    try:
        server = TempPostgres()
        server.__enter__()
    except (PostgresUnavailable, OSError, subprocess.SubprocessError) as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI needs PostgreSQL for the drawing store's tests: {exc}")
        pytest.skip(f"no PostgreSQL server here: {exc}")
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path) -> str:
    """Where a test's drawing store lives: an SQLite file, then an empty PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "drawings.sqlite3")
    server = request.getfixturevalue("postgres")
    server.reset()
    return server.url


@pytest.fixture(scope="module")
def flask_url() -> str:
    """The production server (``python -m flask_app``) on a free port, one per test module: its URL."""
    with serve_flask() as url:
        yield url


@pytest.fixture(scope="module")
def gradio_url() -> str:
    """The Gradio demo (``python gradio_app.py``) on a free port, one per test module: its URL, ending in ``/``."""
    with serve_gradio() as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright (its own browser download is not used)."""
    from pathlib import Path

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install-chromium.sh (make test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = launch(pw)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def problems(page) -> list[str]:
    """What went wrong on ``page`` while a test used it: console errors, uncaught exceptions and failed
    requests (a CSP violation is a console error). A test asserts it is empty at the end."""
    found: list[str] = []
    page.on("console", lambda m: found.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: found.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: found.append(f"request failed: {r.url} {r.failure}"))
    return found
