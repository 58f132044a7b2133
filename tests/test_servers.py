"""The server harness that the tests and the benchmarks share (``tests.harness.servers``).

Small real servers (``python -m http.server``) on free ports of 127.0.0.1: seconds each.
"""

from __future__ import annotations

import socket

import pytest

from tests.harness.servers import answers, free_port, serve, wait_for_http


def test_free_port_is_free():
    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


def test_serve_yields_an_answering_server_and_stops_it_with_its_log():
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    with serve(["-m", "http.server", "--bind", "127.0.0.1", str(port)], url, timeout=60) as server:
        assert server.alive() and server.pid > 0
        wait_for_http(url, timeout=5)
        out = server.stop()
    assert not server.alive() and not answers(url)
    assert '"GET / HTTP/1.1" 200' in out  # its output went to the log file, read back on stop


def test_serve_reports_a_server_that_exits_with_its_output():
    with (
        pytest.raises(RuntimeError, match=r"exited before it was ready:\s+no model here"),
        serve(
            ["-c", "import sys; print('no model here'); sys.exit(3)"], f"http://127.0.0.1:{free_port()}/", timeout=60
        ),
    ):
        pass


def test_serve_gives_up_after_its_timeout_and_stops_the_server():
    url = f"http://127.0.0.1:{free_port()}/"
    with (
        pytest.raises(TimeoutError, match="not ready within 1 s"),
        serve(["-c", "import time; time.sleep(60)"], url, timeout=1),
    ):
        pass


def test_wait_for_http_gives_up_when_nothing_answers():
    with pytest.raises(TimeoutError, match="did not answer"):
        wait_for_http(f"http://127.0.0.1:{free_port()}/", timeout=0.5)
