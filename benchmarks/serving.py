"""3. Serving: the Flask app under its production servers, ``POST /api/predict`` from N clients.

Every server runs in its own process on 127.0.0.1; the load generator (``tests.harness.loadgen``)
runs in another, so three processes share the machine's cores, as they would in production with
the clients elsewhere. Each run is bounded by a request count and a time limit.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.blas import BLAS_ENV, many_blas_threads
from benchmarks.canvases import canvases
from benchmarks.context import Context, log
from benchmarks.formats import fmt_ms, fmt_rate, rate_ratio
from benchmarks.report import Section, Target
from tests.harness import loadgen
from tests.harness.apps import flask_args, gunicorn_args, predict_request
from tests.harness.processes import tree_cpu_seconds
from tests.harness.servers import free_port, serve

NAME = "serving"
TITLE = "3. Serving: the Flask app over HTTP"
TARGET_RPS = 300.0
TARGET_P99 = 0.050
TARGET_CONCURRENCY = 8


@dataclass
class Config:
    key: str
    label: str
    kind: str  # "waitress" or "gunicorn"
    threads: int = 1
    workers: int = 2
    extra: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    concurrency: tuple[int, ...] = (TARGET_CONCURRENCY,)

    def args(self, port: int) -> list[str]:
        """``python`` arguments that start this server on ``port``."""
        if self.kind == "waitress":
            return flask_args(port, self.threads)
        return gunicorn_args(port, self.workers, self.extra)


def configs(ctx: Context) -> list[Config]:
    spread = many_blas_threads()  # BLAS's default threads: the engine before its one-thread limit
    if ctx.tiny:
        return [
            Config("waitress4", "`python -m flask_app --threads 4`", "waitress", threads=4),
            Config("waitress1", "`python -m flask_app` (1 thread: the default)", "waitress"),
            Config("gunicorn", "`gunicorn -w 2 'flask_app:create_app()'`", "gunicorn"),
        ]
    out = [
        Config(
            "waitress4",
            "`python -m flask_app --threads 4` (waitress's own default of 4 threads)",
            "waitress",
            threads=4,
        ),
        Config(
            "waitress1", "`python -m flask_app` (waitress, 1 thread: the default)", "waitress", concurrency=(1, 8, 16)
        ),
        Config("waitress2", "`python -m flask_app --threads 2`", "waitress", threads=2),
        Config(
            "gunicorn", "`gunicorn -w 2 'flask_app:create_app()'` (sync workers)", "gunicorn", concurrency=(1, 8, 16)
        ),
        Config(
            "gunicorn_gthread",
            "`gunicorn -w 2 -k gthread --threads 4 'flask_app:create_app()'`",
            "gunicorn",
            extra=("-k", "gthread", "--threads", "4"),
        ),
    ]
    if spread:
        out.append(
            Config(
                "waitress1_spread",
                f"`DIGITREC_BACKEND=numpy {BLAS_ENV}={spread[BLAS_ENV]} "
                "python -m flask_app` (BLAS's default threads: the engine before its one-thread limit)",
                "waitress",
                env=spread,
                concurrency=(1, 8),
            )
        )
    return out


def run(ctx: Context) -> Section:
    digit, _how, png = next(c for c in canvases(20) if c[1] == "transparent" and c[0] == 7)
    body, _headers = predict_request(png)
    requests, seconds = ctx.n(3000, 30), ctx.n(20.0, 10.0)
    s = Section(
        NAME,
        TITLE,
        intro=(
            f"`POST /api/predict` with a real drawing (a {len(png):,}-byte transparent-canvas PNG of a {digit} as a "
            f"data URL in JSON, {len(body):,} bytes: what the page sends), from N concurrent clients on "
            f"127.0.0.1, each run stopped after {requests:,} requests or {seconds:.0f} s. Load generator: "
            "`tests/harness/loadgen.py`, a separate process with one thread and one persistent keep-alive "
            "connection per client, the request pre-encoded and answers read with a minimal parser "
            "(see its docstring); its own CPU per request is the last column. "
            "Server CPU is the server's processes' user+system time per answered request."
        ),
        columns=[
            "server",
            "clients",
            "requests",
            "req/s",
            "p50",
            "p99",
            "errors",
            "vs baseline (req/s)",
            "server CPU/req",
            "client CPU/req",
        ],
    )
    results: dict[tuple[str, int], dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        body_file = Path(tmp) / "body.json"
        body_file.write_bytes(body)
        for cfg in configs(ctx):
            port = free_port()
            log(f"serving: {cfg.key} on port {port}")
            with serve(cfg.args(port), f"http://127.0.0.1:{port}/healthz", timeout=120, env=cfg.env) as server:
                for c in cfg.concurrency:
                    cpu0 = tree_cpu_seconds(server.pid)
                    r = loadgen.run_child(port, body_file, c, requests, seconds, digit, timeout=seconds + 120)
                    r["server_cpu_per_request"] = (tree_cpu_seconds(server.pid) - cpu0) / max(r["requests"], 1)
                    results[(cfg.key, c)] = {**r, "label": cfg.label}
                    log(
                        f"serving: {cfg.key} c={c}: {r['rps']:.0f} req/s, p99 {r['p99'] * 1e3:.1f} ms, "
                        f"{r['errors']} errors"
                    )

    base_key = ("waitress4", TARGET_CONCURRENCY)
    base = results[base_key]["rps"]
    for (key, c), r in results.items():
        s.add(
            ("**Baseline**: " if (key, c) == base_key else "") + r["label"],
            c,
            f"{r['requests']:,}",
            fmt_rate(r["rps"]),
            fmt_ms(r["p50"]),
            fmt_ms(r["p99"]),
            f"{r['errors']}" + (f" ({r['error_examples'][0][:60]})" if r["errors"] else ""),
            "1.00x (baseline)" if (key, c) == base_key else rate_ratio(base, r["rps"]),
            fmt_ms(r["server_cpu_per_request"]),
            f"{r['client_cpu_per_request'] * 1e6:.0f} µs",
        )

    def verdict(r: dict) -> bool:
        return r["rps"] >= TARGET_RPS and r["p99"] < TARGET_P99 and r["errors"] == 0

    def summary(r: dict) -> str:
        return f"{r['rps']:.0f} req/s, p99 {fmt_ms(r['p99'])}, {r['errors']} errors"

    at_target = {k: r for (k, c), r in results.items() if c == TARGET_CONCURRENCY}
    goal = f">= {TARGET_RPS:.0f} req/s, p99 < {fmt_ms(TARGET_P99)}, 0 errors"
    label = f"Serving at concurrency {TARGET_CONCURRENCY}"
    if "waitress1" in at_target:
        r = at_target["waitress1"]
        s.targets.append(Target(f"{label}: `python -m flask_app` as shipped", goal, summary(r), verdict(r)))
    if at_target:
        r = max(at_target.values(), key=lambda x: (verdict(x), x["rps"]))
        s.targets.append(Target(f"{label}: best configuration", goal, f"{summary(r)}: {r['label']}", verdict(r)))
    s.notes += [
        "Threads in one Python process share one interpreter lock, so more waitress threads add no compute: "
        "compare 1, 2 and 4 threads at the same concurrency; that is why 1 is the default. "
        "Worker processes (gunicorn -w N) can use N cores, but only cores that are free: on a machine busy "
        "with other work they gain little, so judge them from a run on a quiet machine.",
        "gunicorn's sync workers close the connection after each answer (no keep-alive), so each request "
        "there pays a TCP connect on loopback; the gthread worker keeps connections open.",
    ]
    share = max(
        (
            r["client_cpu_per_request"] / r["server_cpu_per_request"]
            for r in results.values()
            if r["server_cpu_per_request"] > 0
        ),
        default=float("nan"),
    )
    s.notes.append(
        f"The load generator's CPU per request was at most {share:.0%} of the server's in any run"
        + (
            ": it is not what limits these figures."
            if share < 0.2
            else ": a noticeable share of the machine, so these figures understate the server."
        )
    )
    return s
