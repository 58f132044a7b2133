"""Saving corrected drawings: ``POST /api/drawings`` and ``GET /api/drawings/stats``.

    POST /api/drawings  {"image": "data:image/png;base64,...", "label": 7, "user": "ana"}
                        (or multipart: file "image", fields "label" and "user")
        -> 201 {"id": 12, "label": 7, "digit": 1, "count": 12, "kept": "on the server"}
    POST /api/drawings  {"image": ..., "label": 7, "position": 1, "number": "2026"}
        number mode: the image is a whole number, read again here, and only its digit at ``position``
        (0-based, left to right, ASCII digits as ``label``) is kept, its own ink; ``number``, optional,
        is the text the page was shown, a string (else 400): a drawing that reads otherwise now is
        refused (409) rather than a wrong digit kept
        -> 201 {"id": 13, "label": 7, "digit": 0, "position": 1, "count": 13, "kept": "on the server"}
    GET /api/drawings/stats[?user=ana]
        -> {"saving": true, "count": 12, "by_label": {"0": 1, ...}, "kept": "on the server"}
    DELETE /api/drawings?user=ana
        "Forget me": every drawing saved by ana, and her personal model, deleted (``Store.forget``)
        -> 200 {"user": "ana", "deleted": 12}
        Who may forget whom is who may save: the name sent, as for saving; 400 for a name that
        cannot be saved (none included), 403 with saving off, 503 when the store cannot be written.
    From elsewhere (another machine, a reverse proxy) ``user`` is ignored in all three: a visitor acts for the
    random id in their ``digitrec_visitor`` cookie (``flask_app.identity``), named "this browser" in answers.

The image passes the same checks and limits as ``/api/predict``; the model's answer is the
server's own, never the client's. Saving is off unless the app's ``ALLOW_SAVING`` is true
(``python -m flask_app`` sets it for 127.0.0.1, or with ``--allow-saving``; ``--no-saving`` never): a 403 then.
Config: ``DRAWINGS_DB`` (a database URL or SQLite path; default ``$DIGITREC_DB``, else the file in
the user's data directory) and ``ALLOW_SAVING`` (default ``$DIGITREC_ALLOW_SAVING``: 1 on, 0 off, unset
None: off, or gunicorn.conf.py's choice from its binds). ``kept`` is the store's path only for a visitor at
this machine, never for one elsewhere or behind a reverse proxy (``digitrec.feedback.is_remote``).
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from flask import Blueprint, Flask, request

from digitrec.feedback import check_position, env_allows, is_remote
from digitrec.store import InvalidDrawing, StoreError, StoreFull, check_label, clean_user
from flask_app import identity
from flask_app.errors import ApiError
from flask_app.learn import forget_job, unavailable
from flask_app.views import drawing_from_request, feedback

bp = Blueprint("drawings", __name__)
log = logging.getLogger("flask_app")

EXAMPLE = '{"image": "data:image/png;base64,...", "label": 7}'


def init_app(app: Flask) -> None:
    """Register the routes and the store's settings (``DRAWINGS_DB``, ``ALLOW_SAVING``)."""
    app.config.setdefault("DRAWINGS_DB", None)
    app.config.setdefault("ALLOW_SAVING", env_allows())
    app.register_blueprint(bp)
    identity.init_app(app)  # a visitor from elsewhere saves under a cookie's id, not a name they send


def kept_where() -> str:
    """The path of the store for someone at this machine; "on the server" for anyone else, and for
    anyone a reverse proxy passed on (it connects from this machine, for everyone)."""
    return feedback().store.where(remote=is_remote(request.remote_addr, request.headers))


@bp.post("/api/drawings")
def save() -> tuple[dict[str, Any], int]:
    fb = feedback()
    if not fb.allowed:
        raise ApiError(403, "saving drawings is off on this server (its operator can start it with --allow-saving)")
    image = drawing_from_request()
    fields = _fields()
    try:
        label = check_label(fields.get("label"))
        typed = identity.user(fields.get("user"))
        user = clean_user(typed) if typed not in (None, "") else None
    except InvalidDrawing as exc:
        raise ApiError(400, str(exc)) from None
    shown = fields.get("number")
    if shown is not None and not isinstance(shown, str):
        raise ApiError(400, f"number must be the text the drawing was read as (a string), not {type(shown).__name__}")
    extra: dict[str, Any] = {}
    answerer, memory = fb.answering(user)  # their personal model after Learn, else the app's
    remote = is_remote(request.remote_addr, request.headers)
    if fields.get("position") in (None, ""):
        prediction = answerer.predict(image, memory=memory)  # InvalidImage -> 400/413/415
        keep = functools.partial(fb.save, image, label, user, prediction, remote=remote)
    else:  # one digit of a number: the server reads it again, as /api/read_number with this user
        reading = answerer.read_number(image, memory=memory)
        if shown and shown != reading.text:
            raise ApiError(409, f"the drawing now reads {reading.text or 'blank'!r}, not {shown[:40]!r}: read it again")
        try:
            k = check_position(fields["position"], reading)
        except InvalidDrawing as exc:
            raise ApiError(400, str(exc)) from None
        keep = functools.partial(fb.save_digit, image, reading, k, label, user, remote=remote)  # its own ink
        extra["position"] = k
    try:  # through Feedback: the store, and the user's memory, which reads the next similar drawing with it
        saved = keep()
        count = fb.store.count()  # everyone's, as documented (saved.count is this user's)
    except InvalidDrawing as exc:
        raise ApiError(400, str(exc)) from None
    except StoreFull as exc:
        raise ApiError(507, "the drawing store is full; no more drawings can be saved") from exc
    except StoreError as exc:
        raise unavailable(exc) from None
    body = {"id": saved.id, "label": label, "digit": saved.predicted, **extra, "count": count, "kept": saved.where}
    return body, 201


@bp.delete("/api/drawings")
def forget() -> dict[str, Any]:
    fb = feedback()
    if not fb.allowed:
        raise ApiError(403, "saving drawings is off on this server: it keeps none to delete")
    try:
        user, deleted = fb.erase(identity.user(request.args.get("user", "")))
    except InvalidDrawing as exc:
        raise ApiError(400, f"{exc} (?user=NAME: whose drawings to delete)") from None
    except StoreError as exc:
        raise unavailable(exc) from None
    forget_job(user)
    log.info("drawing store: forgot a user, %d drawings deleted", deleted)  # never the name: it is theirs
    return {"user": identity.shown(user), "deleted": deleted}


@bp.get("/api/drawings/stats")
def stats() -> dict[str, Any]:
    fb = feedback()
    if not fb.allowed:
        return {"saving": False, "count": 0, "by_label": {}, "kept": None}
    user = identity.user(request.args.get("user")) or None
    try:
        user = clean_user(user) if user else None
        found = fb.store.stats(user)
    except InvalidDrawing as exc:
        raise ApiError(400, str(exc)) from None
    except StoreError as exc:
        raise unavailable(exc) from None
    return {"saving": True, "count": found["count"], "by_label": found["by_label"], "kept": kept_where()}


FIELDS = ("label", "user", "position", "number")


def _fields() -> dict[str, Any]:
    """``label``, ``user`` (and in number mode ``position`` and ``number``) from the JSON body or the
    multipart form (the image is read already)."""
    if request.is_json:
        body = request.get_json(silent=True) or {}
        return {k: body.get(k) for k in FIELDS}
    return {k: request.form.get(k) for k in FIELDS}
