"""digitrec's web front end: a drawing page and a JSON API around one shared ``Predictor``.

    python -m flask_app                  # production: waitress on 127.0.0.1:5000, debug always off
    flask --app flask_app run --debug    # development: reloader and debugger

The model is loaded once, when the app is created; every request thread shares it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click
from flask import Flask, Response, request

from digitrec import ModelError, Predictor

MAX_BODY = 2 * 1024 * 1024  # a 280x280 canvas PNG is ~10-40 KiB; a phone's 3x canvas stays well below

# default-src 'self': no inline script, no CDN. data: images are the 28x28 model-input previews.
CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
}


class StartupError(ModelError, click.ClickException):
    """The model cannot load. Still a ``ModelError``; as a ``ClickException`` too, ``flask run``
    prints its message as one line instead of a traceback."""

    def __init__(self, message: str) -> None:
        click.ClickException.__init__(self, message)


def create_app(test_config: Mapping[str, Any] | None = None, *, predictor: Predictor | None = None) -> Flask:
    """The app factory. ``test_config`` overrides the defaults; ``predictor`` skips loading one.

    Config: ``MODEL`` (model file; default ``$DIGITREC_MODEL``, else models/digit_recognizer.keras)
    and ``MAX_CONTENT_LENGTH`` (largest request body, default 2 MiB).
    Raises ``StartupError`` (a ``ModelError``) naming the file when the model cannot load.
    """
    app = Flask(__name__)
    # A data URL sent as a multipart text field may be as large as a JSON body (Flask's default
    # for form fields is 500 kB).
    app.config.from_mapping(MODEL=None, MAX_CONTENT_LENGTH=MAX_BODY, MAX_FORM_MEMORY_SIZE=MAX_BODY)
    if test_config is not None:
        app.config.from_mapping(test_config)
    app.json.sort_keys = False  # keep the documented order: digit, confidence, probabilities

    if predictor is None:
        try:
            predictor = Predictor.load(app.config["MODEL"])
        except ModelError as exc:
            raise StartupError(str(exc)) from None
    app.extensions["digitrec"] = predictor

    from flask_app import drawings, errors, learn, views

    app.register_blueprint(views.bp)
    drawings.init_app(app)  # saving corrections: DRAWINGS_DB, ALLOW_SAVING (flask_app/drawings.py)
    learn.init_app(app)  # Learn my handwriting: LEARN_QUEUE (flask_app/learn.py)
    errors.init_app(app)

    app.after_request(_secure)
    return app


def _secure(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.path.startswith("/api/"):
        response.headers.setdefault("Cache-Control", "no-store")  # answers are about one drawing
    return response
