"""Saving corrections through the web API: POST /api/drawings, GET /api/drawings/stats, the page's
buttons, and 1,000 saves from 16 concurrent clients against real servers on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import logging
import time
from collections import Counter

import pytest

from digitrec.imageio import encode_data_url
from digitrec.store import Store
from flask_app import create_app
from tests.harness.servers import free_port, serve
from tests.harness.support import blank_canvas_png, keep_alive_clients


@pytest.fixture
def db(tmp_path) -> str:
    return str(tmp_path / "drawings.sqlite3")


@pytest.fixture
def app(predictor, db):
    return create_app({"TESTING": True, "DRAWINGS_DB": db, "ALLOW_SAVING": True}, predictor=predictor)


def post(client, image: bytes | str, label, **extra):
    url = image if isinstance(image, str) else encode_data_url(image)
    return client.post("/api/drawings", json={"image": url, "label": label, **extra})


def test_save_json_keeps_the_drawing_with_the_servers_own_answer(client, db, make_drawing_png, predictor):
    image = make_drawing_png(7, seed=2)
    response = post(client, image, 1, user="ana")
    assert response.status_code == 201
    body = response.get_json()
    assert body["label"] == 1 and body["digit"] == predictor.predict(image).digit == 7 and body["count"] == 1
    assert body["kept"] == str(Store.open(db).path)  # the test client is 127.0.0.1: the path is shown
    (drawing,) = Store.open(db).drawings()
    assert (drawing.label, drawing.predicted, drawing.user, drawing.source) == (1, 7, "ana", "flask")
    assert drawing.model_sha256 == predictor.card["sha256"]


def test_save_multipart_upload(client, db, make_drawing_png):
    upload = {"image": (io.BytesIO(make_drawing_png(4)), "four.png", "image/png"), "label": "4", "user": "bo"}
    response = client.post("/api/drawings", data=upload)
    assert response.status_code == 201 and response.get_json()["label"] == 4
    assert Store.open(db).stats()["by_user"] == {"bo": 1}


def test_remote_users_are_told_only_on_the_server(client, make_drawing_png):
    remote = {"REMOTE_ADDR": "203.0.113.9"}
    response = client.post(
        "/api/drawings", json={"image": encode_data_url(make_drawing_png(2)), "label": 2}, environ_base=remote
    )
    assert response.get_json()["kept"] == "on the server"
    stats = client.get("/api/drawings/stats", environ_base=remote).get_json()
    assert stats == {
        "saving": True,
        "count": 1,
        "by_label": {**{str(d): 0 for d in range(10)}, "2": 1},
        "kept": "on the server",
    }


@pytest.mark.parametrize(
    "label, status",
    [(None, 400), (10, 400), (-1, 400), ("x", 400), (7.5, 400), (True, 400), ([1], 400), ("7", 201), (0, 201)],
)
def test_labels_are_checked(client, make_drawing_png, label, status):
    body = {"image": encode_data_url(make_drawing_png(7))}
    if label is not None:
        body["label"] = label
    response = client.post("/api/drawings", json=body)
    assert response.status_code == status, response.get_json()
    if status == 400:
        assert "label must be a digit from 0 to 9" in response.get_json()["error"]


@pytest.mark.parametrize("user", ["x" * 65, "bell\a", 7])
def test_user_names_are_checked(client, make_drawing_png, user):
    response = post(client, make_drawing_png(3), 3, user=user)
    assert response.status_code == 400 and "user name" in response.get_json()["error"]


def test_images_get_the_same_checks_and_limits_as_predict(client, db):
    cases = [
        ({"label": 1}, 400, 'missing field "image"'),
        ({"image": "data:text/plain;base64,aGk=", "label": 1}, 415, "MIME type"),
        ({"image": "data:image/png;base64,%%%", "label": 1}, 400, "base64"),
        ({"image": encode_data_url(b"\x89PNG\r\n\x1a\n broken"), "label": 1}, 415, "not a readable image"),
        ({"image": encode_data_url(blank_canvas_png()), "label": 1}, 400, "blank"),
    ]
    for body, status, message in cases:
        response = client.post("/api/drawings", json=body)
        assert response.status_code == status and message in response.get_json()["error"], body
    assert client.post("/api/drawings", data=b"{" * 3_000_000, content_type="application/json").status_code == 413
    assert Store.open(db).count() == 0


def test_saving_is_off_unless_allowed(predictor, db, make_drawing_png):
    client = create_app({"TESTING": True, "DRAWINGS_DB": db}, predictor=predictor).test_client()
    response = post(client, make_drawing_png(5), 5)
    assert response.status_code == 403 and "--allow-saving" in response.get_json()["error"]
    assert client.get("/api/drawings/stats").get_json()["saving"] is False
    assert not Store.open(db).path.exists()


def test_the_allow_saving_variable_turns_it_on(predictor, db, make_drawing_png, monkeypatch):
    monkeypatch.setenv("DIGITREC_ALLOW_SAVING", "1")
    client = create_app({"TESTING": True, "DRAWINGS_DB": db}, predictor=predictor).test_client()
    assert post(client, make_drawing_png(5), 5).status_code == 201


def test_a_full_store_refuses_politely(predictor, db, make_drawing_png, monkeypatch):
    monkeypatch.setenv("DIGITREC_MAX_DRAWINGS", "1")
    client = create_app({"TESTING": True, "DRAWINGS_DB": db, "ALLOW_SAVING": True}, predictor=predictor).test_client()
    assert post(client, make_drawing_png(5), 5).status_code == 201
    response = post(client, make_drawing_png(6), 6)
    assert response.status_code == 507 and response.get_json() == {
        "error": "the drawing store is full; no more drawings can be saved"
    }


def test_a_broken_store_is_a_503_without_details(predictor, tmp_path, make_drawing_png):
    broken = tmp_path / "broken.sqlite3"
    broken.write_bytes(b"not a database at all" * 50)
    app = create_app({"TESTING": True, "DRAWINGS_DB": str(broken), "ALLOW_SAVING": True}, predictor=predictor)
    response = post(app.test_client(), make_drawing_png(5), 5)
    assert response.status_code == 503 and response.get_json() == {
        "error": "the drawing store is unavailable; try again later"
    }
    assert app.test_client().get("/api/drawings/stats").status_code == 503


def test_a_data_folder_that_cannot_be_made_is_a_503(predictor, tmp_path, make_drawing_png, monkeypatch, caplog):
    (tmp_path / "notes").write_text("a file, not a folder")
    monkeypatch.setenv("DIGITREC_DATA", str(tmp_path / "notes" / "data"))
    monkeypatch.delenv("DIGITREC_DB", raising=False)
    app = create_app({"TESTING": True, "ALLOW_SAVING": True}, predictor=predictor)
    response = post(app.test_client(), make_drawing_png(5), 5)
    assert response.status_code == 503 and response.get_json() == {
        "error": "the drawing store is unavailable; try again later"
    }
    assert f"folder {tmp_path / 'notes' / 'data'} cannot be made" in caplog.text  # the operator's log says why


def test_the_start_up_line_hides_a_password_with_an_at_sign(monkeypatch, caplog, capsys):
    import waitress

    from flask_app.__main__ import main

    class NotServing:  # the start-up lines are all this test needs: no socket, no serving loop
        def print_listen(self, *args):
            pass

        def run(self):
            pass

    monkeypatch.setattr(waitress, "create_server", lambda *args, **kwargs: NotServing())
    caplog.set_level(logging.INFO, logger="flask_app")
    assert main(["--db", "postgresql://ana:p@ss-w0rd@db.internal/digitrec"]) == 0
    assert "kept in postgresql+psycopg://ana:***@db.internal/digitrec" in caplog.text
    assert "ss-w0rd" not in caplog.text
    assert main(["--db", "postgresql://ana:p@ss-w0rd@db.internal:abc/digitrec"]) == 1
    err = capsys.readouterr().err
    assert (
        err == "error: the drawing store's database URL (DIGITREC_DB or --db) has a port that is not a number: 'abc'\n"
    )


def test_stats_count_per_digit_and_per_user(client, make_drawing_png):
    for digit, user in ((1, "ana"), (1, "bo"), (8, "ana")):
        assert post(client, make_drawing_png(digit), digit, user=user).status_code == 201
    everyone = client.get("/api/drawings/stats").get_json()
    assert everyone["count"] == 3 and everyone["by_label"]["1"] == 2 and everyone["by_label"]["8"] == 1
    assert client.get("/api/drawings/stats?user=ana").get_json()["count"] == 2


def test_delete_forgets_one_user(client, db, make_drawing_png):
    for digit, user in ((1, "ana"), (1, "bo"), (8, "ana")):
        assert post(client, make_drawing_png(digit), digit, user=user).status_code == 201
    response = client.delete("/api/drawings?user=ana")
    assert response.status_code == 200 and response.get_json() == {"user": "ana", "deleted": 2}
    assert response.headers["Cache-Control"] == "no-store"
    assert Store.open(db).stats()["by_user"] == {"bo": 1}
    assert client.delete("/api/drawings", query_string={"user": " ana "}).get_json() == {"user": "ana", "deleted": 0}
    assert client.get("/api/drawings/stats?user=bo").get_json()["count"] == 1


@pytest.mark.parametrize("query", ["", "?user=", "?user=%20", "?user=" + "x" * 65, "?user=bell%07"])
def test_delete_checks_the_name(client, make_drawing_png, query):
    assert post(client, make_drawing_png(1), 1, user="ana").status_code == 201
    response = client.delete(f"/api/drawings{query}")
    assert response.status_code == 400 and "user name" in response.get_json()["error"]
    assert client.get("/api/drawings/stats").get_json()["count"] == 1


def test_delete_with_saving_off_is_403(predictor, db, make_drawing_png):
    with Store.open(db) as s:
        s.save(make_drawing_png(1), 1, user="ana")
    client = create_app({"TESTING": True, "DRAWINGS_DB": db}, predictor=predictor).test_client()
    response = client.delete("/api/drawings?user=ana")
    assert response.status_code == 403 and "saving drawings is off" in response.get_json()["error"]
    assert Store.open(db).count("ana") == 1


def test_delete_on_a_broken_store_is_a_503_without_details(predictor, tmp_path, caplog):
    broken = tmp_path / "broken.sqlite3"
    broken.write_bytes(b"not a database at all" * 50)
    app = create_app({"TESTING": True, "DRAWINGS_DB": str(broken), "ALLOW_SAVING": True}, predictor=predictor)
    response = app.test_client().delete("/api/drawings?user=ana")
    assert response.status_code == 503 and response.get_json() == {
        "error": "the drawing store is unavailable; try again later"
    }
    assert "is damaged or not a drawing store" in caplog.text


def test_methods_and_the_page(client):
    assert client.get("/api/drawings").status_code == 405
    assert {"POST", "DELETE"} <= set(client.put("/api/drawings").get_json()["error"].split())
    assert client.post("/api/drawings/stats").status_code == 405
    page = client.get("/").get_data(as_text=True)
    assert 'id="feedback"' in page and "feedback.js" in page and 'id="right"' in page and 'id="forget"' in page
    assert page.count('class="it-was"') == 10
    assert client.get("/static/feedback.js").status_code == 200


# --- real servers, many clients -------------------------------------------------------------------

SAVES = 1_000
CLIENTS = 16
DEADLINE_S = 300


def blast(port: int, bodies: list[bytes]) -> Counter:
    """SAVES posts to /api/drawings from CLIENTS threads over keep-alive connections; tally outcomes."""
    tally: Counter = Counter()
    ids: list[int] = []
    headers = {"Content-Type": "application/json"}

    def answer(_i, response, data) -> None:
        tally[response.status] += 1
        if response.status == 201:
            ids.append(json.loads(data)["id"])

    def broken(_exc) -> None:
        tally["connection_error"] += 1

    keep_alive_clients(
        port,
        SAVES,
        CLIENTS,
        time.monotonic() + DEADLINE_S,
        lambda i: ("POST", "/api/drawings", bodies[i % len(bodies)], headers),
        answer,
        broken,
    )
    tally["unique_ids"] = len(set(ids))
    return tally


@pytest.mark.slow
def test_a_thousand_saves_from_sixteen_clients_against_two_workers(store_url, make_drawing_png):
    """Two gunicorn workers (two processes) write to one store at once: none lost, no 5xx."""
    bodies = [
        json.dumps({"image": encode_data_url(make_drawing_png(d, seed=s)), "label": d, "user": f"c{s}"}).encode()
        for d in range(10)
        for s in range(3)
    ]
    port = free_port()
    args = ["-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "flask_app:create_app()"]
    with serve(args, f"http://127.0.0.1:{port}/healthz", env={"DIGITREC_DB": store_url}) as server:
        tally = blast(port, bodies)
        log = server.stop()
    assert tally[201] == SAVES and tally["unique_ids"] == SAVES, (tally, log[-2000:])
    assert not [k for k in tally if isinstance(k, int) and k >= 500] and not tally["connection_error"]
    pids = {line.split("pid=")[1].split()[0] for line in log.splitlines() if "POST /api/drawings" in line}
    assert len(pids) == 2  # both workers saved
    with Store.open(store_url) as s:
        assert s.count() == SAVES
    from digitrec.training.finetune.data import saved_drawings  # what finetune reads: all of it

    x, y, info = saved_drawings(store_url, None)
    assert len(x) == SAVES and info["users"] == ["c0", "c1", "c2"]
