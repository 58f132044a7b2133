"""Who is who (``digitrec.identity``): the typed name on 127.0.0.1, a server-issued cookie id for a visitor
from elsewhere, who can save under, read with, count and forget only their own id's drawings; in Flask and
in Gradio, each also as the real server with two "remote" visitors (through a proxy's X-Forwarded-For)."""

from __future__ import annotations

import http.client
import json
import urllib.parse
from http.cookies import SimpleCookie
from types import SimpleNamespace

import pytest

from digitrec import identity
from digitrec.feedback import Feedback
from digitrec.imageio import encode_data_url
from digitrec.store import Store
from flask_app import create_app
from tests.harness.support import serve_flask, serve_gradio

REMOTE = {"REMOTE_ADDR": "203.0.113.9"}


# --- the shared helper ------------------------------------------------------------------------------


def test_ids_are_random_unguessable_and_valid_user_names():
    ids = {identity.new_id() for _ in range(1000)}
    assert len(ids) == 1000 and all(identity.is_id(i) for i in ids)
    one = next(iter(ids))
    assert one.startswith("visitor-") and len(one) == len("visitor-") + 24 and one.isprintable()
    for other in ("ana", "visitor-", one + "x", one[:-1], "visitor-" + "é" * 24, None, 7, one.replace("-", " ", 1)):
        assert not identity.is_id(other)


def test_visitor_is_the_typed_name_here_and_an_id_from_elsewhere():
    assert identity.visitor("ana", None, remote=False) == identity.Visitor("ana")
    held = identity.new_id()
    assert identity.visitor("ana", held, remote=False).user == "ana"  # here, the cookie means nothing
    assert identity.visitor("ana", held, remote=True) == identity.Visitor(held, None, remote=True)
    fresh = identity.visitor("ana", "ana", remote=True)  # a cookie that is no id: a new one, never the name
    assert identity.is_id(fresh.user) and fresh.issued == fresh.user and fresh.shown == identity.YOU
    assert identity.visitor("ana", None, remote=True).user != fresh.user


# --- Flask, through the test client ------------------------------------------------------------------


@pytest.fixture
def db(tmp_path) -> str:
    return str(tmp_path / "drawings.sqlite3")


@pytest.fixture
def app(predictor, db):
    return create_app({"TESTING": True, "DRAWINGS_DB": db, "ALLOW_SAVING": True}, predictor=predictor)


def save(client, make_drawing_png, digit: int, user: str | None = "ana", **environ):
    body = {"image": encode_data_url(make_drawing_png(digit, seed=digit)), "label": digit, "user": user}
    return client.post("/api/drawings", json=body, environ_base={**REMOTE, **environ})


def cookie_of(response) -> SimpleCookie:
    jar = SimpleCookie()
    for header in response.headers.getlist("Set-Cookie"):
        jar.load(header)
    return jar


def test_remote_visitors_get_their_own_id_and_the_typed_name_is_ignored(app, db, make_drawing_png):
    a, b = app.test_client(), app.test_client()  # two browsers: a cookie jar each
    first = save(a, make_drawing_png, 3)
    assert first.status_code == 201
    sent = cookie_of(first)[identity.COOKIE]
    assert identity.is_id(sent.value) and sent["httponly"] and sent["samesite"] == "Lax" and sent["path"] == "/"
    assert not sent["secure"] and int(sent["max-age"]) == identity.MAX_AGE_S
    assert identity.COOKIE not in cookie_of(save(a, make_drawing_png, 5))  # the browser keeps it: not sent again
    assert save(b, make_drawing_png, 7).status_code == 201
    by_user = Store.open(db).stats()["by_user"]
    assert "ana" not in by_user and sorted(by_user.values()) == [1, 2]
    id_a = sent.value
    (id_b,) = set(by_user) - {id_a}
    assert identity.is_id(id_b) and by_user[id_a] == 2

    # b cannot forget a's drawings, neither by a's id nor by the name a typed: b forgets b's own
    for name in (id_a, "ana"):
        gone = b.delete("/api/drawings", query_string={"user": name}, environ_base=REMOTE)
        assert gone.status_code == 200 and gone.get_json()["user"] == identity.YOU  # the id is never echoed
    assert Store.open(db).stats()["by_user"] == {id_a: 2}
    # nor count them: stats?user= answers for the visitor's own id
    assert b.get("/api/drawings/stats", query_string={"user": id_a}, environ_base=REMOTE).get_json()["count"] == 0
    assert a.get("/api/drawings/stats", query_string={"user": "x"}, environ_base=REMOTE).get_json()["count"] == 2
    # a forgets a's own, with no name at all
    assert a.delete("/api/drawings", environ_base=REMOTE).get_json() == {"user": identity.YOU, "deleted": 2}
    assert Store.open(db).count() == 0


def test_remote_visitors_read_with_their_own_memory_only(app, make_drawing_png, monkeypatch):
    asked: list = []
    real = Feedback.answering
    monkeypatch.setattr(Feedback, "answering", lambda self, user: asked.append(user) or real(self, user))
    a, b = app.test_client(), app.test_client()
    save(a, make_drawing_png, 3)
    id_a = a.get_cookie(identity.COOKIE).value
    image = encode_data_url(make_drawing_png(3, seed=9))
    asked.clear()
    for path in ("/api/predict", "/api/read_number"):
        assert b.post(path, json={"image": image, "user": id_a}, environ_base=REMOTE).status_code == 200
        assert a.post(path, json={"image": image, "user": "bo"}, environ_base=REMOTE).status_code == 200
    id_b = b.get_cookie(identity.COOKIE).value
    assert id_b != id_a and asked == [id_b, id_a, id_b, id_a]
    # nor learn from a's drawings: Learn acts for b's own id (and never echoes it)
    refused = b.post("/api/learn", json={"user": id_a}, environ_base=REMOTE)
    assert refused.status_code == 409 and "this browser has 0" in refused.get_json()["error"]
    assert id_b not in refused.get_data(as_text=True)
    assert b.get("/api/learn", query_string={"user": id_a}, environ_base=REMOTE).status_code == 404


def test_the_page_hands_a_remote_visitor_an_id_before_its_first_request(app, predictor, db):
    page = app.test_client().get("/", environ_base=REMOTE)
    assert identity.is_id(cookie_of(page)[identity.COOKIE].value)
    assert identity.COOKIE not in cookie_of(app.test_client().get("/"))  # 127.0.0.1: no id
    off = create_app({"TESTING": True, "DRAWINGS_DB": db}, predictor=predictor).test_client()
    assert identity.COOKIE not in cookie_of(off.get("/", environ_base=REMOTE))  # saving off: nothing to own


def test_over_https_the_cookie_is_secure(app, make_drawing_png):
    response = save(app.test_client(), make_drawing_png, 2, HTTP_X_FORWARDED_PROTO="https")
    assert cookie_of(response)[identity.COOKIE]["secure"]


def test_loopback_still_uses_the_typed_name(client, db, make_drawing_png):
    body = {"image": encode_data_url(make_drawing_png(4)), "label": 4, "user": "ana"}
    response = client.post("/api/drawings", json=body)
    assert response.status_code == 201 and identity.COOKIE not in cookie_of(response)
    assert Store.open(db).stats()["by_user"] == {"ana": 1}
    assert client.delete("/api/drawings?user=ana").get_json() == {"user": "ana", "deleted": 1}


# --- the real server: two visitors behind a proxy, one at the machine ---------------------------------


class Browser:
    """A client of the real server that keeps the cookies it is given, as a browser would."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.headers = headers or {}
        self.cookies: dict[str, str] = {}
        self.set_cookies: list[str] = []

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        headers = {"Content-Type": "application/json", **self.headers}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            self.set_cookies.append(header)
            jar = SimpleCookie(header)
            self.cookies.update({k: m.value for k, m in jar.items()})
        return response.status, json.loads(data)


def test_the_real_server_keeps_two_remote_visitors_apart(tmp_path, make_drawing_png):
    db = tmp_path / "drawings.sqlite3"
    with serve_flask("--db", str(db), "--allow-saving") as url:
        a = Browser(url, {"X-Forwarded-For": "203.0.113.9"})  # what nginx adds for the visitor it passes on
        b = Browser(url, {"X-Forwarded-For": "198.51.100.7"})
        here = Browser(url)

        def drawing(digit: int, user: str) -> dict:
            return {"image": encode_data_url(make_drawing_png(digit, seed=digit)), "label": digit, "user": user}

        assert [a.call("POST", "/api/drawings", drawing(d, "ana"))[0] for d in (1, 2)] == [201, 201]
        assert b.call("POST", "/api/drawings", drawing(3, "ana"))[0] == 201
        assert here.call("POST", "/api/drawings", drawing(4, "ana"))[0] == 201
        id_a, id_b = a.cookies[identity.COOKIE], b.cookies[identity.COOKIE]
        assert identity.is_id(id_a) and identity.is_id(id_b) and id_a != id_b and not here.cookies
        assert len(a.set_cookies) == 1 and "HttpOnly" in a.set_cookies[0] and "SameSite=Lax" in a.set_cookies[0]

        # b tries a's id, then a's typed name: only b's own drawing goes
        assert b.call("DELETE", f"/api/drawings?user={id_a}") == (200, {"user": identity.YOU, "deleted": 1})
        assert b.call("DELETE", "/api/drawings?user=ana") == (200, {"user": identity.YOU, "deleted": 0})
        assert b.call("GET", f"/api/drawings/stats?user={id_a}")[1]["count"] == 0
        assert a.call("GET", "/api/drawings/stats?user=ana")[1]["count"] == 2
        with Store.open(db) as store:
            assert store.stats()["by_user"] == {id_a: 2, "ana": 1}
        # at the machine, the typed name still rules, and a's drawings stay a's
        assert here.call("DELETE", "/api/drawings?user=ana") == (200, {"user": "ana", "deleted": 1})
        assert a.call("DELETE", "/api/drawings") == (200, {"user": identity.YOU, "deleted": 2})
        with Store.open(db) as store:
            assert store.count() == 0


# --- Gradio: the same rule, the id handed out by an ASGI middleware -------------------------------------


@pytest.fixture
def gradio_store(tmp_path, monkeypatch):
    import gradio_app

    monkeypatch.setitem(gradio_app.settings, "db", str(tmp_path / "g.sqlite3"))
    monkeypatch.setitem(gradio_app.settings, "allow_saving", True)
    gradio_app.feedback.cache_clear()
    yield tmp_path / "g.sqlite3"
    gradio_app.feedback.cache_clear()


def gradio_request(cookie: str | None = None, proxied: bool = True) -> SimpleNamespace:
    headers = {"x-forwarded-for": "203.0.113.9"} if proxied else {}
    if cookie:
        headers["cookie"] = f"theme=dark; {identity.COOKIE}={cookie}"
    return SimpleNamespace(client=SimpleNamespace(host="127.0.0.1"), headers=headers)


def test_gradio_visitors_from_elsewhere_act_for_their_cookie_id(gradio_store, tmp_path, make_drawing_png):
    import gradio_app

    path = tmp_path / "six.png"
    path.write_bytes(make_drawing_png(6))
    upload = {"background": None, "layers": [], "composite": {"path": str(path)}}
    id_a, id_b = identity.new_id(), identity.new_id()
    a, b = gradio_request(id_a), gradio_request(id_b)
    line = gradio_app.save(upload, "ana", request=a)
    assert line.endswith("1 drawing saved by this browser, kept on the server.") and id_a not in line
    assert gradio_app.save_as(5)(upload, "ana", a).startswith("Saved as a 5 (a correction)")
    assert gradio_app.save(upload, "ana", request=gradio_request()) == gradio_app.NO_ID  # no cookie: nothing kept
    assert gradio_app.save(upload, "ana", request=gradio_request("ana")) == gradio_app.NO_ID
    assert gradio_app.save(upload, "ana", request=gradio_request(proxied=False)).endswith(
        f"1 drawing saved by ana, kept in {gradio_store}."
    )
    assert Store.open(gradio_store).stats()["by_user"] == {id_a: 2, "ana": 1}
    assert gradio_app.status("ana", a) == ["2 drawings saved by this browser, kept on the server."] * 2
    assert gradio_app.status(id_a, b)[0].startswith("0 drawings saved by this browser")
    assert gradio_app.answering(id_a, b)[1] is None and gradio_app.answering("x", a)[1] is not None  # a's memory is a's
    refused = next(gradio_app.learn(id_a, b))  # nor learn from them: Learn acts for b's own id
    assert refused.startswith("Not learnt: Learning needs at least 10 saved drawings; this browser has 0")
    assert gradio_app.forget(id_a, b) == "Forgot this browser: 0 drawings deleted."
    assert gradio_app.forget("ana", b) == "Forgot this browser: 0 drawings deleted."
    assert gradio_app.forget("ana", gradio_request()) == gradio_app.NO_ID
    assert Store.open(gradio_store).stats()["by_user"] == {id_a: 2, "ana": 1}
    assert gradio_app.forget("", a) == "Forgot this browser: 2 drawings deleted."
    assert gradio_app.forget("ana", gradio_request(proxied=False)) == "Forgot ana: 1 drawing deleted."


def test_gradio_served_beyond_this_machine_uses_ids_for_everyone(gradio_store, monkeypatch, tmp_path, make_drawing_png):
    import gradio_app

    monkeypatch.setitem(gradio_app.settings, "remote", True)  # --host 0.0.0.0, or --share
    path = tmp_path / "six.png"
    path.write_bytes(make_drawing_png(6))
    upload = {"background": None, "layers": [], "composite": {"path": str(path)}}
    assert gradio_app.save(upload, "ana", request=gradio_request(proxied=False)) == gradio_app.NO_ID
    assert "by this browser" in gradio_app.save(upload, "ana", request=gradio_request(identity.new_id(), False))
    assert "ana" not in Store.open(gradio_store).stats()["by_user"]


def call_gradio(browser: Browser, api_name: str, data: list) -> str:
    """One event through Gradio's raw HTTP API, as ``browser`` (its cookies and headers): its output."""
    status, answer = browser.call("POST", f"/gradio_api/call/{api_name}", {"data": data})
    assert status == 200, answer
    conn = http.client.HTTPConnection(browser.host, browser.port, timeout=60)
    try:
        cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
        headers = {**browser.headers, **({"Cookie": cookie} if cookie else {})}
        conn.request("GET", f"/gradio_api/call/{api_name}/{answer['event_id']}", headers=headers)
        events = conn.getresponse().read().decode()
    finally:
        conn.close()
    return json.loads(events.split("event: complete\ndata: ", 1)[1].split("\n", 1)[0])[0]


@pytest.mark.slow
def test_the_real_gradio_server_keeps_two_remote_visitors_apart(tmp_path, make_drawing_png):
    db = tmp_path / "g.sqlite3"
    with serve_gradio("--db", str(db), "--allow-saving") as url:
        a = Browser(url, {"X-Forwarded-For": "203.0.113.9"})
        b = Browser(url, {"X-Forwarded-For": "198.51.100.7"})
        here = Browser(url)
        # the first event of a visitor from elsewhere already acts for the id it hands out
        assert call_gradio(a, "forget", ["ana"]) == "Forgot this browser: 0 drawings deleted."
        assert call_gradio(b, "forget", ["ana"]) == "Forgot this browser: 0 drawings deleted."
        id_a, id_b = a.cookies[identity.COOKIE], b.cookies[identity.COOKIE]
        assert identity.is_id(id_a) and identity.is_id(id_b) and id_a != id_b and not here.cookies
        assert "HttpOnly" in a.set_cookies[0] and "SameSite=Lax" in a.set_cookies[0] and len(a.set_cookies) == 1
        with Store.open(db) as store:
            for user in (id_a, id_a, "ana"):
                store.save(make_drawing_png(3), 3, source="gradio", user=user)
        assert call_gradio(b, "forget", [id_a]) == "Forgot this browser: 0 drawings deleted."
        assert Store.open(db).stats()["by_user"] == {id_a: 2, "ana": 1}
        assert call_gradio(a, "forget", ["bo"]) == "Forgot this browser: 2 drawings deleted."
        assert call_gradio(here, "forget", ["ana"]) == "Forgot ana: 1 drawing deleted."
        assert Store.open(db).count() == 0
