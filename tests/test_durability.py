"""Durability of the saves: 1,000 saves (POST /api/drawings) from 16 concurrent clients against gunicorn with
two workers (the README's multi-process server), on SQLite and on PostgreSQL, the whole server killed with
SIGKILL in the middle and started again. Every save that was acknowledged (201 with an id) is in the store
afterwards, as it was acknowledged; then "forget me" (DELETE /api/drawings?user=) leaves nothing of that user:
no row of any PostgreSQL table mentions them, and neither the SQLite file nor its WAL holds their name or the
bytes of their drawings."""

from __future__ import annotations

import http.client
import json
import os
import signal
import threading
import time

import pytest

from digitrec.imageio import encode_data_url
from digitrec.store import Store
from tests.harness.servers import Server, free_port, http_status
from tests.harness.stores import postgres_rows_holding, sqlite_bytes

pytestmark = pytest.mark.slow

SAVES = 1_000
CLIENTS = 16
KILL_AFTER = 400  # acknowledged saves before the SIGKILL
DEADLINE_S = 120
LEAVER = "leaver-q7z"  # the user who asks to be forgotten; a name found nowhere else


class Run:
    """The clients' shared tally: what was acknowledged, what broke."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.acked: dict[int, tuple[str, int]] = {}  # id -> (user, label), as acknowledged
        self.sent = 0
        self.statuses: dict[int, int] = {}
        self.broken = 0
        self.duplicates = 0

    def more(self) -> bool:
        with self.lock:
            return len(self.acked) < SAVES

    def done(self, status: int, data: bytes, user: str, label: int) -> None:
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status == 201:
                drawing_id = json.loads(data)["id"]
                self.duplicates += drawing_id in self.acked
                self.acked[drawing_id] = (user, label)


def client(port: int, bodies: list[tuple[bytes, str, int]], k: int, run: Run, deadline: float) -> None:
    """Save, over one keep-alive connection, until SAVES are acknowledged; through the kill, reconnect and
    go on (a request whose answer was lost may or may not have been kept: it was never acknowledged)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    i = k
    while run.more() and time.monotonic() < deadline:
        body, user, label = bodies[i % len(bodies)]
        i += CLIENTS
        try:
            conn.request("POST", "/api/drawings", body=body, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            with run.lock:
                run.broken += 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            time.sleep(0.05)  # the server is down: try again shortly
            continue
        run.done(response.status, data, user, label)
    conn.close()


def gunicorn(port: int, store_url: str) -> Server:
    args = ["-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "flask_app:create_app()"]
    return Server(args, env={"DIGITREC_DB": store_url})


def up(server: Server, port: int) -> Server:
    server.__enter__()
    server.wait_http(f"http://127.0.0.1:{port}/healthz", timeout=90)
    return server


def test_acknowledged_saves_survive_a_kill_and_forget_me_leaves_nothing(store_url, make_drawing_png):
    images = {(d, s): encode_data_url(make_drawing_png(d, seed=s)) for d in range(10) for s in range(3)}
    bodies = [
        (json.dumps({"image": url, "label": d, "user": f"c{s}"}).encode(), f"c{s}", d) for (d, s), url in images.items()
    ]
    bodies += [  # a sixth of the saves are the leaver's, in drawings of their own
        (
            json.dumps(
                {"image": encode_data_url(make_drawing_png(d, seed=100 + d)), "label": d, "user": LEAVER}
            ).encode(),
            LEAVER,
            d,
        )
        for d in range(6)
    ]
    port = free_port()
    run = Run()
    deadline = time.monotonic() + DEADLINE_S
    server = up(gunicorn(port, store_url), port)
    try:
        threads = [threading.Thread(target=client, args=(port, bodies, k, run, deadline)) for k in range(CLIENTS)]
        for t in threads:
            t.start()
        while len(run.acked) < KILL_AFTER and time.monotonic() < deadline:
            time.sleep(0.01)
        os.killpg(server.pid, signal.SIGKILL)  # the master and both workers, mid-write
        server.proc.wait(30)
        killed_at = len(run.acked)
        log = server.stop()
        server = up(gunicorn(port, store_url), port)
        for t in threads:
            t.join()
        report = {"acked": len(run.acked), "killed_at": killed_at, "broken": run.broken, "statuses": run.statuses}
        print("\ndurability:", json.dumps(report))
        assert len(run.acked) >= SAVES and run.duplicates == 0, (report, log[-2000:])
        assert KILL_AFTER <= killed_at < SAVES and run.broken > 0, report  # it was killed in the middle
        assert set(run.statuses) == {201}, report  # no 5xx, before or after

        with Store.open(store_url) as store:
            kept = {d.id: (d.user, d.label) for d in store.drawings()}
            theirs = [d.png for d in store.drawings(LEAVER)]
        lost = {i: what for i, what in run.acked.items() if kept.get(i) != what}
        assert not lost, f"{len(lost)} acknowledged saves lost or changed, e.g. {list(lost.items())[:5]}"
        assert len(theirs) > 50
        snippets = [p[len(p) // 2 : len(p) // 2 + 64] for p in theirs]  # compressed pixels, unlike anyone else's
        seen = {trace.split()[0] for trace in traces(store_url, snippets)}
        assert seen == {"name", "drawing"}, "the check cannot see the user's name and drawings before they go"

        status, data = http_status(f"http://127.0.0.1:{port}/api/drawings?user={LEAVER}", "DELETE", timeout=30)
        assert status == 200 and json.loads(data)["deleted"] == len(theirs), data
    finally:
        server.stop()

    with Store.open(store_url) as store:
        assert store.count(LEAVER) == 0 and store.count() == len(kept) - len(theirs)
        others = [d.png for d in store.drawings()]
    assert not any(snip in png for snip in set(snippets) for png in others)
    assert traces(store_url, snippets) == [], "something of the forgotten user is left in the store"
    if not store_url.startswith("postgresql"):
        assert b"c1" in sqlite_bytes(store_url)  # the check can see what is there


def traces(store_url: str, snippets: list[bytes]) -> list[str]:
    """What of LEAVER the store holds: their name or a piece of one of their drawings, in a row of any
    PostgreSQL table (the drawings as hex), or anywhere in the SQLite file and its WAL."""
    found = []
    if store_url.startswith("postgresql"):
        found += [f"name in {t}" for t in postgres_rows_holding(store_url, LEAVER)]
        found += [f"drawing in {t}" for snip in set(snippets) for t in postgres_rows_holding(store_url, snip.hex())]
    else:
        on_disk = sqlite_bytes(store_url)
        found += ["name on disk"] * (LEAVER.encode() in on_disk)
        found += ["drawing on disk" for snip in set(snippets) if snip in on_disk]
    return found
