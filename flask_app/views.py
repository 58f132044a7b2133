"""The page, the health check and the prediction API: ``POST /api/predict`` for one digit,
``POST /api/read_number`` for a whole number.

Both take a drawing the same way (a JSON data URL or a multipart upload, the same limits, the same
errors). ``read_number`` answers ``digitrec.present.to_dict`` of a ``NumberReading``:

    {"text": "2026", "confidence": 0.93,
     "digits": [{"digit": 2, "confidence": 0.99, "probabilities": [...], "box": [x0, y0, x1, y1]}, ...]}

``box`` is in the pixels of the image sent, x1 and y1 exclusive; ``text`` is "" for a blank canvas.
Both take an optional ``user`` (a JSON field, or a multipart form field, as ``POST /api/drawings`` does):
that user's personal model answers once they pressed Learn (``flask_app/learn.py``), and their saved
drawings help read it (``Feedback.answering``); without one, or for a user who saved nothing, or with
saving off, the answer is the app's network alone.
The page's number mode lives in ``templates/number.html`` and ``static/number.js``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request
from werkzeug.exceptions import BadRequest

from digitrec import Prediction, Predictor
from digitrec.feedback import Feedback
from digitrec.imageio import decode_data_url, png_data_url
from digitrec.memory import Memory
from digitrec.present import to_dict
from digitrec.store import InvalidDrawing, clean_user
from flask_app import identity
from flask_app.errors import ApiError

bp = Blueprint("digitrec", __name__)

JSON_SHAPE = '{"image": "data:image/png;base64,..."}'


def predictor() -> Predictor:
    return current_app.extensions["digitrec"]


def feedback() -> Feedback:
    """The app's one ``Feedback`` (and so one store, its connection pool and the users' memories), made
    on first use from ``DRAWINGS_DB`` and ``ALLOW_SAVING`` (``flask_app.drawings.init_app``)."""
    ext = current_app.extensions
    if "digitrec_feedback" not in ext:
        ext["digitrec_feedback"] = Feedback(
            predictor(),
            "flask",
            db=current_app.config["DRAWINGS_DB"],
            allowed=bool(current_app.config["ALLOW_SAVING"]),
        )
    return ext["digitrec_feedback"]


def answering() -> tuple[Predictor, Memory | None]:
    """Who answers the request's ``user`` (a JSON or form field; the drawing is read first): their personal
    model after Learn, else the app's, with their saved drawings (``Feedback.answering``); the app's alone
    without one. A visitor from elsewhere is answered as their own id (``flask_app.identity``). 400 for a
    name that could not be saved (``clean_user``)."""
    if request.is_json:
        body = request.get_json(silent=True)
        user = body.get("user") if isinstance(body, dict) else None
    else:
        user = request.form.get("user")
    user = identity.user(user)  # from elsewhere: the visitor's own id, whatever they sent
    if user is None or user == "":
        return predictor(), None
    try:
        return feedback().answering(clean_user(user))
    except InvalidDrawing as exc:
        raise ApiError(400, str(exc)) from None


@bp.get("/")
def index() -> str:
    return render_template("index.html")


@bp.get("/healthz")
def healthz() -> dict[str, Any]:
    p = predictor()
    # The file name only: a health check has no business revealing the server's paths.
    return {
        "status": "ok",
        "model": p.path.name,
        "backend": p.backend,
        "number_reader": p.number_reader,  # "learned" or "segmentation"
        "debug": current_app.debug,
    }


@bp.post("/api/predict")
def predict() -> dict[str, Any]:
    """A drawing -> ``{"digit", "confidence", "probabilities", "model_input"}``.

    Raises ``ApiError`` for malformed requests; ``InvalidImage`` from digitrec for bad images.
    """
    image = drawing_from_request()
    answerer, memory = answering()
    return answer(answerer.predict(image, memory=memory))


@bp.post("/api/read_number")
def read_number() -> dict[str, Any]:
    """A drawing of a whole number -> its digits, left to right, with their boxes.

    Raises ``ApiError`` for malformed requests; ``InvalidImage`` from digitrec for bad images.
    """
    image = drawing_from_request()
    answerer, memory = answering()
    return to_dict(answerer.read_number(image, memory=memory))


def answer(prediction: Prediction) -> dict[str, Any]:
    """The three documented fields plus the 28x28 image the network saw (null when blank).

    The page enlarges the 28x28 PNG itself (CSS ``image-rendering: pixelated``): it stays ~300 bytes.
    """
    return {**to_dict(prediction), "model_input": None if prediction.blank else png_data_url(prediction.model_image())}


def drawing_from_request() -> bytes:
    """The drawing sent as JSON (a data URL) or as a multipart upload (a file, or a data URL field), as
    encoded bytes. A string is decoded here as a data URL, so a request can never name a file on the
    server (``Predictor.predict`` reads a plain string as a path). ``InvalidImage`` for a bad data URL."""
    if request.is_json:
        try:
            body = request.get_json()
        except BadRequest:
            raise ApiError(400, f"the body is not valid JSON; send {JSON_SHAPE}") from None
        except RecursionError:
            # json.loads recurses once per [ or {: a body nested thousands deep exhausts the stack.
            raise ApiError(400, f"the JSON body is nested too deeply; send {JSON_SHAPE}") from None
        if not isinstance(body, dict):
            raise ApiError(400, f"expected a JSON object like {JSON_SHAPE}")
        if "image" not in body:
            raise ApiError(400, f'missing field "image"; send {JSON_SHAPE}')
        image = body["image"]
        if not isinstance(image, str):
            raise ApiError(400, f'field "image" must be a string (a data URL), not {_json_type(image)}')
        return decode_data_url(image)
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("image")
        if upload is not None:
            data = upload.read()
            if not data:
                raise ApiError(400, 'the uploaded file "image" is empty')
            return data
        if "image" in request.form:  # curl -F 'image=data:image/png;base64,...'
            return decode_data_url(request.form["image"])
        raise ApiError(400, 'missing file field "image" in the multipart form')
    raise ApiError(
        415,
        f"unsupported content type {request.mimetype or 'none'!r}: send application/json "
        f'{JSON_SHAPE} or multipart/form-data with a file field "image"',
    )


def _json_type(value: Any) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", list: "an array", dict: "an object"}
    return "null" if value is None else names.get(type(value), type(value).__name__)
