"""What the tests share that is theirs alone: where the repository is, the CLI run as a user runs it,
and many keep-alive HTTP clients at once.

Servers come from ``benchmarks.servers`` and the browser from ``scripts.browser``, which the
benchmarks and the screenshot scripts use too.
"""

from __future__ import annotations

import http.client
import io
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent

Request = tuple[str, str, bytes | None, dict[str, str]]  # method, path, body, headers


def run_module(module: str, *args: str, timeout: float = 600, **env: str) -> subprocess.CompletedProcess:
    """``python -m MODULE ARGS...`` in a real subprocess from the repository, with ``env`` added to the
    environment; its output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **env},
    )


def run_cli(*args: str, timeout: float = 600, **env: str) -> subprocess.CompletedProcess:
    """``python -m digitrec ARGS...``, as a user runs it (``run_module``)."""
    return run_module("digitrec", *args, timeout=timeout, **env)


def bench(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    """``python -m benchmarks ARGS...`` (``run_module``), without TensorFlow's log lines."""
    return run_module("benchmarks", *args, timeout=timeout, TF_CPP_MIN_LOG_LEVEL="2")


def tables(markdown: str) -> list[list[list[str]]]:
    """Every Markdown table in ``markdown`` as rows of cells (header row first, separator dropped)."""
    out, current = [], []
    for line in markdown.splitlines() + [""]:
        if line.startswith("|"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            if not all(set(c) <= {"-"} and c for c in cells):
                current.append(cells)
        elif current:
            out.append(current)
            current = []
    return out


def blank_canvas_png() -> bytes:
    """What a browser's untouched transparent canvas sends."""
    buffer = io.BytesIO()
    Image.new("RGBA", (280, 280), (0, 0, 0, 0)).save(buffer, format="PNG")
    return buffer.getvalue()


def keep_alive_clients(
    port: int,
    count: int,
    clients: int,
    deadline: float,
    request: Callable[[int], Request],
    answer: Callable[[int, http.client.HTTPResponse, bytes], None],
    broken: Callable[[Exception], None],
) -> None:
    """``count`` requests to 127.0.0.1:``port`` from ``clients`` threads, each over its own keep-alive
    connection, until all are sent or ``time.monotonic()`` passes ``deadline``. ``request(i)`` is the
    i-th request; ``answer(i, response, body)`` is told each answer and ``broken(exc)`` each broken
    connection (it is opened again). Both are called under one lock, so they may tally freely."""
    lock = threading.Lock()
    counter = iter(range(count))

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while time.monotonic() < deadline:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            method, path, body, headers = request(i)
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    broken(exc)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                continue
            with lock:
                answer(i, response, data)
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
