"""Who is who: the name typed on this machine, a random id the server issued for a visitor from elsewhere.

    who = visitor(typed="ana", held=cookie_value, remote=is_remote(address, headers))
    who.user     # "ana" on this machine; from elsewhere the id the visitor holds, else a new one
    who.issued   # that new id, for the front end to hand to the browser (None: nothing to hand over)

On 127.0.0.1 the person at the keyboard may act for anyone, as the command line does, so the typed name
is the user. A visitor from elsewhere (``digitrec.feedback.is_remote``: another machine, or anyone a
reverse proxy passed on) cannot be trusted with a name: anyone could type "ana" and then read her memory
or forget her drawings. So the server gives each such visitor a random id (``new_id``: 144 random bits
from ``secrets``), kept by the browser (Flask: an HttpOnly, SameSite=Lax cookie; Gradio: the browser's
local storage), and that id is the visitor's user: a name they type, or send as ``user``, is ignored.
Knowing the id is being that visitor, so it is unguessable rather than signed: no secret key to share
between worker processes or servers. An id the visitor makes up themselves (in the id's shape) is a new
visitor of their own choosing, with nobody else's drawings.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

COOKIE = "digitrec_visitor"  # the Flask cookie's name, and Gradio's local-storage key
PREFIX = "visitor-"
TOKEN_BYTES = 18  # 144 bits, 24 URL-safe characters
MAX_AGE_S = 400 * 24 * 3600  # what browsers allow at most: the visitor's drawings stay theirs that long
ID = re.compile(rf"{PREFIX}[A-Za-z0-9_-]{{{4 * TOKEN_BYTES // 3}}}")
YOU = "this browser"  # how a front end names a visitor's id to them (it is never shown)


def new_id() -> str:
    """A fresh visitor id: ``visitor-`` and 24 URL-safe random characters (a valid store user name)."""
    return PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def is_id(value: Any) -> bool:
    """Whether ``value`` has a visitor id's shape (the only thing a browser's cookie may hold)."""
    return isinstance(value, str) and ID.fullmatch(value) is not None


@dataclass(frozen=True)
class Visitor:
    """Whom a request acts for."""

    user: Any  # the typed name (unchecked: the store checks it) on this machine; the id from elsewhere
    issued: str | None = None  # a new id the front end must hand to the browser
    remote: bool = False

    @property
    def shown(self) -> Any:
        """The user as a front end may name them: an id is never shown (an HttpOnly cookie hides it)."""
        return YOU if self.remote else self.user


def visitor(typed: Any, held: Any, remote: bool) -> Visitor:
    """The user a request acts for: ``typed`` on this machine; from elsewhere the id the browser ``held``
    (a cookie, local storage) when it is one, else a new one to hand over (``issued``)."""
    if not remote:
        return Visitor(typed)
    if is_id(held):
        return Visitor(held, remote=True)
    fresh = new_id()
    return Visitor(fresh, fresh, remote=True)
