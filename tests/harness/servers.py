"""Servers in child processes on 127.0.0.1, for the benchmarks and the tests alike.

``free_port`` picks a port, ``Server`` runs ``python ARGS...`` and stops it (with any worker
processes) afterwards, and ``serve`` is a ``Server`` that has answered a URL. A server's output goes
to a temporary file, never an unread pipe: a server logging every request would fill a pipe nobody
reads and stall. Its tail is in the error when it fails to start.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence

from tests.harness.processes import PYTHON, ROOT, child_env


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_status(
    url: str, method: str = "GET", body: bytes | None = None, headers: dict | None = None, timeout: float = 5.0
) -> tuple[int, bytes]:
    """One request on a fresh connection: (status, body). Raises OSError when nothing answers.

    ``http.client`` rather than ``urllib``: no proxy settings from the environment get in the way.
    """
    parts = urllib.parse.urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def answers(url: str, timeout: float = 2.0) -> bool:
    """Whether a server answers ``url`` without a server error (a 4xx is an answer: it is up)."""
    try:
        return http_status(url, timeout=timeout)[0] < 500
    except (OSError, http.client.HTTPException):
        return False


def wait_for_http(url: str, timeout: float = 60.0, interval: float = 0.2) -> None:
    """Poll ``url`` until it answers; TimeoutError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if answers(url):
            return
        time.sleep(interval)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


class Server:
    """``python ARGS...`` in a child process from the checkout, stopped (with its workers) on exit."""

    def __init__(self, args: Sequence[str], env: dict[str, str] | None = None):
        self.argv = [PYTHON, *args]
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.started = 0.0

    def __enter__(self) -> Server:
        self.started = time.perf_counter()
        self.log = tempfile.TemporaryFile(mode="w+")
        # Its own session, so that stop() can kill a master's workers along with it.
        self.proc = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            env=child_env(self.env),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        assert self.proc is not None, "the server is not running"
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> str:
        """Stop the server (SIGTERM, then SIGKILL to its process group after 15 s); return what it printed."""
        if self.proc is None:
            return ""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        # Read only now: the child shares the file's offset, so seeking while it runs would garble its log.
        self.log.seek(0)
        out = self.log.read()
        self.log.close()
        self.proc = None
        return out

    def wait_until(self, ready: Callable[[], bool], timeout: float, interval: float = 0.02) -> float:
        """Poll ``ready()`` until True; seconds since the process started.

        Stops the server and raises, with the tail of its output, when it exits or ``timeout`` passes.
        """
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if not self.alive():
                raise RuntimeError(f"{' '.join(self.argv)} exited before it was ready:\n{self.stop()[-3000:]}")
            try:
                if ready():
                    return time.perf_counter() - self.started
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(interval)
        raise TimeoutError(f"{' '.join(self.argv)} was not ready within {timeout:.0f} s:\n{self.stop()[-3000:]}")

    def wait_http(self, url: str, timeout: float = 90.0) -> float:
        """Wait until ``url`` answers (see ``answers``); seconds since the process started."""
        return self.wait_until(lambda: answers(url), timeout)


@contextlib.contextmanager
def serve(args: Sequence[str], url: str, timeout: float = 90.0, env: dict[str, str] | None = None) -> Iterator[Server]:
    """Run ``python args...`` from the checkout until ``url`` answers; yield the running ``Server``; stop it after."""
    with Server(args, env=env) as server:
        server.wait_http(url, timeout)
        yield server
