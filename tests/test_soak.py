"""Load and soak: the real production server under 16 concurrent clients mixing good and bad requests.

Bounded in count (5,000 requests after a warm-up) and in time (a deadline), loopback only. Passes when
no request gets a 5xx or a broken connection, every good drawing is read right, every bad request
gets its 4xx, and the server's memory after the run is within 10% of its memory after warm-up.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from digitrec.data.canvases import pen_digit, to_png
from digitrec.imageio import encode_data_url
from tests.harness.servers import free_port, serve
from tests.harness.support import keep_alive_clients

pytestmark = pytest.mark.slow

CLIENTS = 16
REQUESTS = 5_000
DEADLINE_S = 600
CORPUS = Path(__file__).resolve().parent / "corpus"


def multipart(field: str, filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def build_mix() -> list[tuple[str, bytes, str, int, int | None]]:
    """(method, body, content type, expected status, expected digit) cycling good and bad."""
    good = []
    for digit in range(10):
        png = to_png(pen_digit(digit, np.random.default_rng(100 + digit), "dark_on_light"))
        good.append(("POST", json.dumps({"image": encode_data_url(png)}).encode(), "application/json", 200, digit))
        body, ctype = multipart("image", f"{digit}.png", png)
        good.append(("POST", body, ctype, 200, digit))
    manifest = json.loads((CORPUS / "manifest.json").read_text())["files"]
    status = {"malformed": 400, "too_large": 413, "unsupported": 415}
    bad = []
    for entry in manifest:
        if entry["expect"] in status and entry["file"] != "zero_bytes.png":
            body, ctype = multipart("image", entry["file"], (CORPUS / "files" / entry["file"]).read_bytes())
            bad.append(("POST", body, ctype, status[entry["expect"]], None))
    bad += [
        ("POST", b"{not json", "application/json", 400, None),
        ("POST", b"[1, 2]", "application/json", 400, None),
        ("POST", json.dumps({"image": 7}).encode(), "application/json", 400, None),
        ("POST", json.dumps({"image": "data:text/plain;base64,aGk="}).encode(), "application/json", 415, None),
        ("POST", b"hello", "text/plain", 415, None),
        ("POST", b"{" + b" " * (3 * 1024 * 1024) + b"}", "application/json", 413, None),
        ("GET", b"", "", 405, None),
    ]
    mix = []
    for i in range(max(len(good), len(bad)) * 2):  # 60% good, 40% bad
        mix.append(good[i % len(good)])
        if i % 3 != 2:
            mix.append(good[(i * 7) % len(good)])
        mix.append(bad[i % len(bad)])
    return mix


def blast(port: int, mix: list, count: int, deadline: float) -> dict:
    """Send ``count`` requests from CLIENTS threads over keep-alive connections; tally outcomes."""
    results = Counter()
    wrong: list[str] = []

    def request(i: int):
        method, body, ctype, _expect, _digit = mix[i % len(mix)]
        return method, "/api/predict", body or None, {"Content-Type": ctype} if ctype else {}

    def answer(i: int, response, data: bytes) -> None:
        method, _body, ctype, expect, digit = mix[i % len(mix)]
        results[f"{response.status // 100}xx"] += 1
        ok = response.status == expect
        if ok and digit is not None:
            ok = json.loads(data)["digit"] == digit
        results["good" if digit is not None else "bad"] += 1
        if not ok:
            results["unexpected"] += 1
            wrong.append(f"{method} {ctype[:30]} -> {response.status} {data[:120]!r} (wanted {expect}, {digit})")

    def broken(exc: Exception) -> None:
        results["connection_error"] += 1
        wrong.append(f"{type(exc).__name__}: {exc}")

    start = time.monotonic()
    keep_alive_clients(port, count, CLIENTS, deadline, request, answer, broken)
    results["seconds"] = round(time.monotonic() - start, 1)
    return {"counts": dict(results), "wrong": wrong[:10]}


def test_load_and_soak():
    psutil = pytest.importorskip("psutil")
    port = free_port()
    mix = build_mix()
    with serve(["-m", "flask_app", "--port", str(port), "--threads", "8"], f"http://127.0.0.1:{port}/healthz") as proc:
        server = psutil.Process(proc.pid)
        deadline = time.monotonic() + DEADLINE_S
        warm = blast(port, mix, 800, deadline)
        assert warm["counts"].get("unexpected", 0) == 0, warm
        rss_warm = server.memory_info().rss
        run = blast(port, mix, REQUESTS, deadline)
        rss_after = server.memory_info().rss
        counts = run["counts"]
        report = {
            **counts,
            "rss_after_warmup_mb": round(rss_warm / 2**20, 1),
            "rss_after_run_mb": round(rss_after / 2**20, 1),
        }
        print("\nsoak:", json.dumps(report))
        assert counts.get("good", 0) + counts.get("bad", 0) == REQUESTS, run
        assert counts.get("5xx", 0) == 0 and counts.get("connection_error", 0) == 0, run
        assert counts.get("unexpected", 0) == 0, run
        assert rss_after <= 1.10 * rss_warm, report
        # ...and it still answers a good request.
        final = blast(port, [m for m in mix if m[4] is not None], 10, time.monotonic() + 60)
        assert final["counts"].get("unexpected", 0) == 0 and final["counts"]["2xx"] == 10
