"""Shared fixtures: the committed model's predictor, MNIST, rendered drawings, the Flask app and its
test client, a real browser."""

from __future__ import annotations

import os

import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient

from digitrec import Predictor, load_mnist
from digitrec.drawings import pen_digit, to_png
from flask_app import create_app
from scripts.browser import CHROMIUM, launch


@pytest.fixture(scope="session")
def predictor() -> Predictor:
    return Predictor.load()


@pytest.fixture(scope="session")
def mnist():
    return load_mnist()


@pytest.fixture(scope="session")
def handwriting():
    """The real handwriting split by writer: ``{"train": [...], "validation": [...], "test": [...]}``.

    Without the files the tests that need them skip, saying why, except under CI=true, where
    the data must be there and their absence fails the run."""
    from digitrec.data import DataError
    from digitrec.handwriting import load_handwriting, split

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


@pytest.fixture(scope="session")
def drawing_png(make_drawing_png):
    """The old name of ``make_drawing_png``, kept while tests/test_gradio_app.py (another change) uses it."""
    return make_drawing_png


@pytest.fixture
def app(predictor) -> Flask:
    """The Flask app in testing mode, on the session's predictor (no model load per test)."""
    return create_app({"TESTING": True}, predictor=predictor)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client for ``app``: requests without a server."""
    return app.test_client()


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
