"""Many users, many processes: the Flask app under gunicorn workers, and the benchmark's load generator.

Real servers on free ports of 127.0.0.1; every request count here is small and bounded.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from digitrec.imageio import encode_data_url
from tests.harness import loadgen
from tests.harness.apps import predict_request
from tests.harness.processes import children
from tests.harness.servers import free_port, serve, wait_for_http
from tests.harness.support import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def gunicorn_two_workers(tmp_path_factory):
    """``gunicorn -w 2 'flask_app:create_app()'`` with the repo's gunicorn.conf.py, logs to files."""
    logs = tmp_path_factory.mktemp("gunicorn")
    access, errors = logs / "access.log", logs / "error.log"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [
        "-m",
        "gunicorn",
        "-w",
        "2",
        "-b",
        f"127.0.0.1:{port}",
        "--access-logfile",
        str(access),
        "--error-logfile",
        str(errors),
        "flask_app:create_app()",
    ]
    with serve(args, f"{url}/healthz", timeout=180) as proc:
        yield {"url": url, "proc": proc, "access": access, "errors": errors}


def test_gunicorn_workers_each_load_the_model_once_and_all_answer(gunicorn_two_workers, make_drawing_png):
    import requests

    server = gunicorn_two_workers
    deadline = time.monotonic() + 60
    while len(children(server["proc"].pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    workers = set(children(server["proc"].pid))
    assert len(workers) == 2

    # Both workers must have booted (and loaded the model) before both can answer.
    def booted() -> set[int]:
        return {
            int(pid)
            for pid in re.findall(
                r"worker pid=(\d+) loaded model digit_recognizer\.keras \(litert engine\)", server["errors"].read_text()
            )
        }

    while booted() != workers and time.monotonic() < deadline:
        time.sleep(0.2)
    assert booted() == workers

    pngs = {d: make_drawing_png(d, how="transparent") for d in (1, 4, 7)}

    def ask(i: int) -> tuple[int, int]:
        digit = (1, 4, 7)[i % 3]
        response = requests.post(
            f"{server['url']}/api/predict", json={"image": encode_data_url(pngs[digit])}, timeout=30
        )
        assert response.status_code == 200, response.text
        return digit, response.json()["digit"]

    served: set[int] = set()
    answers = []
    with ThreadPoolExecutor(8) as pool:
        for batch in range(10):  # until both workers have answered: at most 240 requests
            answers += list(pool.map(ask, range(batch * 24, (batch + 1) * 24)))
            time.sleep(0.3)  # gunicorn's access log is written as requests finish
            served = {int(p) for p in re.findall(r"pid=<(\d+)> \"POST /api/predict", server["access"].read_text())}
            if served == workers:
                break
    assert all(digit == got for digit, got in answers)
    assert served == workers  # every worker answered: the kernel spreads connections over both
    log = server["errors"].read_text()
    for pid in workers:  # each worker loaded the model exactly once, at boot, not per request
        assert log.count(f"worker pid={pid} loaded model") == 1


def test_gunicorn_health_check_and_errors_match_waitress(gunicorn_two_workers):
    import requests

    url = gunicorn_two_workers["url"]
    health = requests.get(f"{url}/healthz", timeout=10)
    assert health.json() == {
        "status": "ok",
        "model": "digit_recognizer.keras",
        "backend": "litert",
        "number_reader": "learned",  # models/number_reader.tflite ships and matches its card
        "debug": False,
    }
    bad = requests.post(f"{url}/api/predict", data="{", headers={"Content-Type": "application/json"}, timeout=10)
    assert bad.status_code == 400 and "error" in bad.json()


def test_gunicorn_conf_runs_one_worker_per_core_unless_told():
    code = (
        "import os, runpy, json; os.environ.pop('WEB_CONCURRENCY', None); os.environ.pop('GUNICORN_BIND', None);"
        "c = runpy.run_path('gunicorn.conf.py'); os.environ['WEB_CONCURRENCY'] = '3';"
        "print(json.dumps([c['workers'], len(os.sched_getaffinity(0)), runpy.run_path('gunicorn.conf.py')['workers'],"
        " c['bind'], callable(c['post_worker_init'])]))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    workers, cores, told, bind, hook = json.loads(out.stdout)
    assert workers == cores and told == 3 and bind == "127.0.0.1:8000" and hook


# --- the load generator against a real server ----------------------------------------------------


@pytest.fixture(scope="module")
def waitress_port():
    port = free_port()
    with serve(["-m", "flask_app", "--port", str(port), "--threads", "2"], f"http://127.0.0.1:{port}/healthz"):
        yield port


def test_loadgen_counts_every_request_and_checks_the_answer(waitress_port, make_drawing_png):
    body, _ = predict_request(make_drawing_png(3, how="transparent"))
    result = loadgen.run(waitress_port, body, concurrency=3, requests=30, seconds=60, expect_digit=3, warmup=1)
    assert result["requests"] == result["ok"] == 30 and result["errors"] == 0
    assert result["stopped_by"] == "count" and result["reconnects"] == 0  # keep-alive: one connection each
    assert result["p50"] <= result["p99"] <= result["max"]
    wrong = loadgen.run(waitress_port, body, concurrency=1, requests=3, seconds=60, expect_digit=5)
    assert wrong["errors"] == 1 and "wrong digit 3" in wrong["error_examples"][0]  # a client's first answer


def test_loadgen_reports_http_errors_and_stops_on_time(waitress_port):
    bad = loadgen.run(waitress_port, b"{", concurrency=2, requests=10, seconds=60)
    assert bad["errors"] == 10 and bad["ok"] == 0 and "HTTP 400" in bad["error_examples"][0]
    timed = loadgen.run(
        waitress_port, b'{"image": "data:image/png;base64,"}', concurrency=1, requests=10**6, seconds=1.0
    )
    assert timed["stopped_by"] == "time" and timed["requests"] < 10**6


def test_loadgen_reconnects_when_the_server_closes_each_connection(gunicorn_two_workers, make_drawing_png):
    port = int(gunicorn_two_workers["url"].rsplit(":", 1)[1])
    body, _ = predict_request(make_drawing_png(2))
    result = loadgen.run(port, body, concurrency=2, requests=10, seconds=60, expect_digit=2)
    assert result["errors"] == 0 and result["ok"] == 10
    assert result["reconnects"] >= 8  # sync workers answer "Connection: close"


def test_loadgen_command_prints_json(waitress_port, tmp_path, make_drawing_png):
    body_file = tmp_path / "body.json"
    body_file.write_bytes(predict_request(make_drawing_png(6))[0])
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.harness.loadgen",
            "--port",
            str(waitress_port),
            "--body",
            str(body_file),
            "--concurrency",
            "2",
            "--requests",
            "6",
            "--digit",
            "6",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    result = json.loads(out.stdout)
    assert out.returncode == 0 and result["ok"] == 6 and result["errors"] == 0
    wait_for_http(f"http://127.0.0.1:{waitress_port}/healthz")  # the server is still fine
