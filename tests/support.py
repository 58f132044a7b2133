"""Helpers for tests that start real servers and real browsers."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Iterator

from benchmarks.servers import free_port  # noqa: F401  (the tests' servers pick ports the same way)

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("DIGITREC_CHROMIUM", "/usr/bin/chromium")
# Flags for a sandboxed CI machine without network: no first-run, sync or background requests.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def wait_for_http(url: str, timeout: float = 60.0, proc: subprocess.Popen | None = None) -> None:
    """Poll ``url`` until it answers (any status), the process dies, or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering {url}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return  # it answered
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


@contextlib.contextmanager
def serve(args: list[str], url: str, timeout: float = 90.0, env: dict | None = None) -> Iterator[subprocess.Popen]:
    """Run ``python args...`` from the repo root until ``url`` answers; stop it afterwards.

    The server's output goes to a temporary file, never an unread pipe (a chatty server would
    block once the pipe filled); its tail is shown if the server fails to start.
    """
    with tempfile.TemporaryFile(mode="w+") as log:
        proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, env={**os.environ, **(env or {})},
                                stdout=log, stderr=subprocess.STDOUT, text=True)
        try:
            try:
                wait_for_http(url, timeout, proc)
            except (RuntimeError, TimeoutError) as exc:
                log.seek(0)
                raise RuntimeError(f"{exc}\n--- server output ---\n{log.read()[-3000:]}") from None
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
