"""Learn my handwriting: ``POST /api/learn`` and ``GET /api/learn?user=``.

    POST /api/learn  {"user": "ana"}   (or a form field "user")
        -> 202 {"user": "ana", "state": "queued", "percent": 0}
        a fine-tune on ana's saved drawings, in a worker process (digitrec.learning.queue); 400 for a missing
        or invalid name, 403 with saving off, 409 when ana has too few saved drawings or a fine-tune of
        hers is queued or running already, 503 when the queue is full (LEARN_QUEUE, default 4) or the
        store cannot be used
    GET /api/learn?user=ana
        -> {"user": "ana", "state": "queued" | "running" | "done" | "failed" | "outdated", ...}
        running: "percent" (0-100) and "phase"; done: "before" and "after" (fractions right: "saved", her
        drawings, on one held-out cross-validation fold when few, "figure" saying how; "mnist_test";
        "validation_writers");
        failed: "error" (why; her previous model, if any, still answers); outdated: "error" says the
        app's model changed since her model was learnt: press Learn again. 404 when this server ran no
        fine-tune for her and the store holds no model of hers.

After "done", ``/api/predict`` and ``/api/read_number`` with ``"user": "ana"`` answer with her model.
Who may learn for whom is who may save: the name sent, as for saving and forgetting.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, current_app, request

from digitrec.learning import OUTDATED, AlreadyLearning, Learner, QueueFull, TooFewDrawings
from digitrec.store import InvalidDrawing, StoreError, clean_user
from flask_app import identity
from flask_app.errors import ApiError
from flask_app.views import feedback, predictor

bp = Blueprint("learn", __name__)
log = logging.getLogger("flask_app")


def init_app(app: Flask) -> None:
    """Register the routes and ``LEARN_QUEUE`` (fine-tunes queued or running at once, default 4)."""
    app.config.setdefault("LEARN_QUEUE", 4)
    app.register_blueprint(bp)


def learner() -> Learner:
    """The app's one queue of fine-tunes, made on first use; a finished one makes the user's model answer."""
    ext = current_app.extensions
    if "digitrec_learner" not in ext:
        fb = feedback()
        ext["digitrec_learner"] = Learner(
            predictor().path, lambda: fb.store, limit=int(current_app.config["LEARN_QUEUE"]), on_done=fb.personal.drop
        )
    return ext["digitrec_learner"]


def forget_job(user: str) -> None:
    """ "Forget me" (``DELETE /api/drawings``): the user's finished fine-tune is forgotten here too."""
    if "digitrec_learner" in current_app.extensions:
        current_app.extensions["digitrec_learner"].forget(user)


def unavailable(exc: StoreError) -> ApiError:
    """The 503 for a store that cannot be used; the details stay in the operator's log."""
    log.error("drawing store: %s", exc)
    return ApiError(503, "the drawing store is unavailable; try again later")


def _user(value: Any) -> str:
    value = identity.user(value)  # from elsewhere: the visitor's own id, whatever they sent
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, 'whose handwriting? send {"user": "NAME"} (the name the drawings were saved under)')
    try:
        return clean_user(value)
    except InvalidDrawing as exc:
        raise ApiError(400, str(exc)) from None


def _shown(answer: dict[str, Any]) -> dict[str, Any]:
    """``answer`` as the visitor may see it: a visitor's id (their HttpOnly cookie) is never echoed."""
    who = identity.visitor()
    return {k: who.hide(v) if isinstance(v, str) else v for k, v in answer.items()}


def _check_saving() -> None:
    if not feedback().allowed:
        raise ApiError(403, "saving drawings is off on this server, so it learns no handwriting")


@bp.post("/api/learn")
def start() -> tuple[dict[str, Any], int]:
    _check_saving()
    if request.is_json:
        body = request.get_json(silent=True)
        user = _user(body.get("user") if isinstance(body, dict) else None)
    else:
        user = _user(request.form.get("user"))
    try:
        job = learner().submit(user)
    except (TooFewDrawings, AlreadyLearning) as exc:
        raise ApiError(409, identity.visitor().hide(str(exc))) from None
    except QueueFull as exc:
        raise ApiError(503, str(exc)) from None
    except StoreError as exc:
        raise unavailable(exc) from None
    return _shown(job.to_dict()), 202


@bp.get("/api/learn")
def state() -> dict[str, Any]:
    _check_saving()
    user = _user(request.args.get("user"))
    return _shown(_state(user))


def _state(user: str) -> dict[str, Any]:
    job = learner().status(user)
    if job is not None and job.state != "done":
        return job.to_dict()
    fb = feedback()
    try:
        info = fb.personal.info(user)
    except StoreError as exc:
        raise unavailable(exc) from None
    if info is None:
        if job is not None:  # done here, then forgotten (or the store changed): nothing of hers is left
            return {"user": user, "state": "failed", "error": "no personal model is kept for this name any more"}
        raise ApiError(
            404,
            identity.visitor().hide(f"no fine-tune for {user} here and no model of theirs: POST /api/learn starts one"),
        )
    if info.base_sha256 != fb.personal.base_sha256:
        return {"user": user, "state": "outdated", "error": OUTDATED}
    if job is not None:
        return job.to_dict()
    tuned = (info.card.get("training") or {}).get("finetune") or {}  # learnt earlier, or on another server
    return {
        "user": user,
        "state": "done",
        "percent": 100,
        "before": tuned.get("before"),
        "after": tuned.get("after"),
        "figure": tuned.get("saved_figure"),
    }
