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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
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

    def hide(self, text: str) -> str:
        """``text`` as this visitor may see it: their id (kept from scripts by the cookie) never in it."""
        return text.replace(self.user, YOU) if self.remote and self.user else text


def visitor(typed: Any, held: Any, remote: bool) -> Visitor:
    """The user a request acts for: ``typed`` on this machine; from elsewhere the id the browser ``held``
    (a cookie, local storage) when it is one, else a new one to hand over (``issued``)."""
    if not remote:
        return Visitor(typed)
    if is_id(held):
        return Visitor(held, remote=True)
    fresh = new_id()
    return Visitor(fresh, fresh, remote=True)


def held_id(cookie_header: str | None) -> str | None:
    """The visitor id in a request's ``Cookie`` header, when it holds one."""
    jar = SimpleCookie()
    try:
        jar.load(cookie_header or "")
    except CookieError:
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel is not None and is_id(morsel.value) else None


def set_cookie(value: str, secure: bool) -> str:
    """The ``Set-Cookie`` header that hands ``value`` to the browser: HttpOnly (no script reads it), SameSite=Lax
    (no other site's form sends it), the whole site, ``MAX_AGE_S``; Secure when the page came over HTTPS."""
    return f"{COOKIE}={value}; Max-Age={MAX_AGE_S}; Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if secure else "")


class CookieMiddleware:
    """An ASGI middleware (Gradio's FastAPI app: ``launch(app_kwargs={"middleware": [...]})``) that gives every
    visitor ``remote(address, headers)`` calls remote, and who holds no id yet, a new one: set as their cookie
    on the answer, and put into the request's own ``Cookie`` header, so that the request it came with already
    acts for it (Gradio's event handlers cannot set a cookie themselves)."""

    def __init__(self, app: Any, remote: Callable[[str | None, Mapping[str, str]], bool]) -> None:
        self.app = app
        self.remote = remote

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        address = (scope.get("client") or (None,))[0]
        if held_id(headers.get("cookie")) is not None or not self.remote(address, headers):
            return await self.app(scope, receive, send)
        fresh = new_id()
        cookie = "; ".join(c for c in (headers.get("cookie"), f"{COOKIE}={fresh}") if c)
        kept = [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"cookie"]
        scope = {**scope, "headers": [*kept, (b"cookie", cookie.encode("latin-1"))]}
        secure = scope.get("scheme") == "https" or headers.get("x-forwarded-proto", "").lower() == "https"

        async def send_with_cookie(message: dict) -> None:
            if message["type"] == "http.response.start":
                extra = (b"set-cookie", set_cookie(fresh, secure).encode("latin-1"))
                message = {**message, "headers": [*message.get("headers", []), extra]}
            await send(message)

        await self.app(scope, receive, send_with_cookie)
