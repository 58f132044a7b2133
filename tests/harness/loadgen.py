"""A small, closed-loop HTTP load generator for 127.0.0.1, bounded in requests and in time.

    python -m tests.harness.loadgen --port 5000 --body req.json --concurrency 8 --requests 2000 --seconds 30

Why this design, on a 2-core machine that also runs the server:

- its own process, so the client's Python never competes with the server for one GIL;
- one thread per simulated client, each with one persistent HTTP/1.1 keep-alive connection (it
  reconnects when a server closes connections, as gunicorn's sync workers do after every answer):
  no connection set-up per request unless the server asks for it;
- the whole request is encoded once and sent with one ``sendall``; answers are read with a
  minimal parser (status line, Content-Length, Connection) instead of ``http.client``'s header
  objects, and checked by status, plus the JSON digit of each client's first answer. It reports
  its own CPU time per request, so a reader can check it was not the bottleneck.

Closed loop: each client sends its next request as soon as the previous answer arrives, so the
offered load is the server's own pace at that concurrency (no coordinated-omission correction is
needed because nothing is scheduled). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import sys
import threading
import time
from pathlib import Path


class Connection:
    """One persistent HTTP/1.1 connection that sends a prepared request and reads the answer.

    Lighter than ``http.client`` (no header objects): it needs only the status line,
    Content-Length and Connection headers of our own servers' answers. It reconnects when the
    server closed the connection, and refuses what it cannot read (chunked bodies) as an error.
    """

    def __init__(self, host: str, port: int, timeout: float = 30.0):
        self.address, self.timeout = (host, port), timeout
        self.sock: socket.socket | None = None
        self.connects = 0

    def _open(self) -> socket.socket:
        sock = socket.create_connection(self.address, timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.connects += 1
        return sock

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def exchange(self, request: bytes) -> tuple[int, bytes]:
        """Send ``request`` (a whole HTTP/1.1 request), return (status, body)."""
        if self.sock is None:
            self.sock = self._open()
        sock = self.sock
        try:
            sock.sendall(request)
            buf = b""
            while True:
                end = buf.find(b"\r\n\r\n")
                if end >= 0:
                    break
                chunk = sock.recv(65536)
                if not chunk:
                    raise ConnectionError("server closed the connection before answering")
                buf += chunk
            head = buf[:end].decode("latin-1").lower()
            body = buf[end + 4 :]
            status = int(head[9:12])
            length, close = None, head.startswith("http/1.0")
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                name, value = name.strip(), value.strip()
                if name == "content-length":
                    length = int(value)
                elif name == "connection":
                    close = value == "close" or (close and value != "keep-alive")
                elif name == "transfer-encoding" and value != "identity":
                    raise ConnectionError(f"cannot read transfer-encoding {value}")
            if length is None:  # the body runs to the end of the connection
                close = True
                while chunk := sock.recv(65536):
                    body += chunk
            else:
                while len(body) < length:
                    chunk = sock.recv(max(65536, length - len(body)))
                    if not chunk:
                        raise ConnectionError("server closed the connection mid-answer")
                    body += chunk
        except BaseException:
            self.close()
            raise
        if close:
            self.close()
        return status, body


def run(
    port: int,
    body: bytes,
    concurrency: int,
    requests: int,
    seconds: float,
    path: str = "/api/predict",
    expect_digit: int | None = None,
    warmup: int = 0,
    host: str = "127.0.0.1",
    stop: threading.Event | None = None,
) -> dict:
    """Send ``requests`` POSTs from ``concurrency`` clients (at most ``seconds``, or until ``stop`` is set);
    return the figures."""
    request = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Accept: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    lock = threading.Lock()
    issued = 0
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors: list[str] = []
    reconnects = [0] * concurrency
    stop_at = [0.0]
    start_gate = threading.Barrier(concurrency + 1)

    def take() -> bool:
        nonlocal issued
        with lock:
            if issued >= requests or time.perf_counter() >= stop_at[0] or (stop is not None and stop.is_set()):
                return False
            issued += 1
            return True

    def one(conn: Connection, check: bool) -> str | None:
        status, data = conn.exchange(request)
        if status != 200:
            return f"HTTP {status}: {data[:200]!r}"
        if check and expect_digit is not None:
            got = json.loads(data).get("digit")
            if got != expect_digit:
                return f"wrong digit {got} (expected {expect_digit})"
        return None

    def client(k: int) -> None:
        conn = Connection(host, port)
        for _ in range(warmup):  # not timed: connection set-up, first-request costs
            with contextlib.suppress(OSError):
                one(conn, check=False)
        start_gate.wait()
        connects0 = conn.connects
        first = True
        clock = time.perf_counter
        mine = latencies[k]
        while take():
            t0 = clock()
            try:
                problem = one(conn, check=first)
            except (OSError, ValueError) as exc:
                problem = f"{type(exc).__name__}: {exc}"
            elapsed = clock() - t0
            first = False
            if problem is None:
                mine.append(elapsed)
            else:
                with lock:
                    errors.append(problem)
        reconnects[k] = conn.connects - connects0
        conn.close()

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(concurrency)]
    for t in threads:
        t.start()
    cpu0 = time.process_time()
    stop_at[0] = time.perf_counter() + seconds + 3600  # placeholder until every client is warm
    start_gate.wait()
    t_start = time.perf_counter()
    stop_at[0] = t_start + seconds
    for t in threads:
        t.join(timeout=seconds + 60)
    wall = time.perf_counter() - t_start
    cpu = time.process_time() - cpu0
    lat = sorted(x for per in latencies for x in per)
    done = len(lat)

    def q(p: float) -> float:
        if not lat:
            return float("nan")
        return lat[min(len(lat) - 1, int(round(p / 100 * (len(lat) - 1))))]

    return {
        "concurrency": concurrency,
        "requests": done + len(errors),
        "ok": done,
        "errors": len(errors),
        "error_examples": sorted(set(errors))[:3],
        "seconds": wall,
        "rps": done / wall if wall > 0 else float("nan"),
        "p50": q(50),
        "p99": q(99),
        "max": lat[-1] if lat else float("nan"),
        "reconnects": sum(reconnects),
        "client_cpu_seconds": cpu,
        "client_cpu_per_request": cpu / max(done + len(errors), 1),
        "stopped_by": "time" if done + len(errors) < requests else "count",
    }


def run_child(
    port: int, body: Path, concurrency: int, requests: int, seconds: float, digit: int, timeout: float
) -> dict:
    """This load generator in a process of its own (never the server's, nor the caller's: see above),
    sending the request in the file ``body``; its figures, as ``run`` gives them."""
    from tests.harness.processes import PYTHON, run_json

    argv = [PYTHON, "-m", "tests.harness.loadgen", "--port", str(port), "--body", str(body)]
    argv += ["--concurrency", str(concurrency), "--requests", str(requests), "--seconds", str(seconds)]
    return run_json([*argv, "--digit", str(digit)], timeout=timeout)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.harness.loadgen", description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--body", type=Path, required=True, help="file with the JSON request body")
    ap.add_argument("--path", default="/api/predict")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--requests", type=int, default=1000, help="stop after this many requests")
    ap.add_argument("--seconds", type=float, default=30.0, help="...or after this many seconds")
    ap.add_argument("--warmup", type=int, default=2, help="untimed requests per client first")
    ap.add_argument("--digit", type=int, help="the digit each client's first answer must name")
    args = ap.parse_args(argv)
    if not 1 <= args.concurrency <= 256 or args.requests < 1 or args.seconds <= 0:
        ap.error("concurrency must be 1-256, requests and seconds positive")
    result = run(
        args.port,
        args.body.read_bytes(),
        args.concurrency,
        args.requests,
        args.seconds,
        path=args.path,
        expect_digit=args.digit,
        warmup=args.warmup,
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
