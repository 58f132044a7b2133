"""Who a request acts for (``digitrec.identity``): the typed ``user`` from this machine, a cookie's id from elsewhere.

A visitor from elsewhere (another machine, or through a reverse proxy: ``digitrec.feedback.is_remote``)
gets a random id in the ``digitrec_visitor`` cookie (HttpOnly, SameSite=Lax, Secure over HTTPS, a
400-day life) on their first request to the page or the API while the server saves drawings; from then
on that id is their user when they save, read with their memory, ask for their stats or forget their
drawings. The ``user`` they send is ignored. Requests from 127.0.0.1 without a proxy's headers act for the
name sent, as before.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, g, request

from digitrec import identity
from digitrec.feedback import is_remote


def visitor() -> identity.Visitor:
    """Whom this request acts for, worked out once per request (a new id is then set as the cookie). With
    saving off (``ALLOW_SAVING``, what ``Feedback.allowed`` follows) nobody is given an id: nothing is kept."""
    if "digitrec_visitor" not in g:
        remote = bool(current_app.config.get("ALLOW_SAVING")) and is_remote(request.remote_addr, request.headers)
        g.digitrec_visitor = identity.visitor(None, request.cookies.get(identity.COOKIE), remote)
    return g.digitrec_visitor


def user(typed: Any) -> Any:
    """The user this request acts for: ``typed`` (unchecked) from this machine, the visitor's id from elsewhere."""
    who = visitor()
    return who.user if who.remote else typed


def shown(typed: Any) -> Any:
    """How to name that user in an answer: the visitor's id is never echoed (the cookie is HttpOnly)."""
    return identity.YOU if visitor().remote else typed


def _issue(response: Response) -> Response:
    if request.path == "/" and request.method == "GET":
        visitor()  # the page's first load: one id before its requests race each other for one
    who = g.get("digitrec_visitor")
    if who is not None and who.issued:
        secure = request.is_secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"
        response.set_cookie(
            identity.COOKIE,
            who.issued,
            max_age=identity.MAX_AGE_S,
            path="/",
            secure=secure,
            httponly=True,
            samesite="Lax",
        )
    return response


def init_app(app: Flask) -> None:
    app.after_request(_issue)
