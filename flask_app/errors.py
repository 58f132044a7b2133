"""Every error the API answers, as JSON ``{"error": "..."}`` with the right status code.

The one place that decides status codes: our own request checks raise ``ApiError``; digitrec's
``InvalidImage`` is mapped by its ``kind``; Werkzeug's HTTP errors (404, 405, 413, 500) under
``/api/`` and ``/healthz`` are rewritten from HTML pages into JSON.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from digitrec import InvalidImage


class ApiError(Exception):
    """A request the API refuses, with the status code and a message a client can act on."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# digitrec sorts every unreadable drawing into one of three kinds; each has its status here.
_INVALID_IMAGE_STATUS = {"malformed": 400, "too_large": 413, "unsupported": 415}


def status_for(exc: InvalidImage) -> int:
    """The HTTP status for a drawing digitrec could not read."""
    return _INVALID_IMAGE_STATUS.get(exc.kind, 415)


def error_response(status: int, message: str) -> tuple[Response, int]:
    return jsonify(error=message), status


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def _http_error(exc: HTTPException) -> Response | HTTPException:
    """JSON instead of Werkzeug's HTML error pages for API paths; the page keeps the HTML ones."""
    if not _wants_json():
        return exc
    response = exc.get_response()  # keeps headers such as a 405's Allow
    code = exc.code or 500
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if code == 413 and limit and (request.content_length or 0) > limit:
        message = f"request body is larger than {_size(limit)}"
    elif code == 405:
        allowed = [m for m in getattr(exc, "valid_methods", None) or () if m not in ("HEAD", "OPTIONS")]
        message = f"method {request.method} is not allowed here; use {' or '.join(allowed) or 'another method'}"
    elif code == 404:
        message = f"no such endpoint: {request.path}"
    elif code >= 500:
        message = "internal server error"  # details go to the log, never to the client
    else:
        message = exc.description or exc.name
    response.data = jsonify(error=message).get_data()
    response.content_type = "application/json"
    return response


def _size(n: int) -> str:
    return f"{n / 2**20:g} MiB" if n >= 2**20 else f"{n / 2**10:g} KiB"


def init_app(app: Flask) -> None:
    app.register_error_handler(ApiError, lambda exc: error_response(exc.status, exc.message))
    app.register_error_handler(InvalidImage, lambda exc: error_response(status_for(exc), str(exc)))
    app.register_error_handler(HTTPException, _http_error)
