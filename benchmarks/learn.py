""" "Learn my handwriting" measured as the apps run it: the gain, and the time to a personal model.

    python -m benchmarks.learn gain               # 3 worst test writers x 3 and 10 per digit x 3 picks (~30 min)
    python -m benchmarks.learn latency            # 100 saved drawings -> Learn on the real Flask server (~2 min)
    python -m benchmarks.learn gain --sizes 3 --writers 1 --repeats 1 --out /tmp/l.md   # one point

**gain**: measured exactly where ``benchmarks/finetune.py`` and ``benchmarks/memory_gain.py`` measure
(the same worst-read test writers, chosen on their pool; the same halves, picks and canvases), but
through the app's path: the picked PNGs are saved in a fresh store under the writer's name, the worker
command the apps start (``python -m digitrec learn --json``) makes the personal model and keeps it in
the store, and the unseen half, in every canvas rendering, is read by whom ``Feedback.answering`` says
answers that user (the personal model with the user's memory on it), as ``predict`` reads one drawing.
Beside it, the memory alone (before pressing Learn) on the shipped model.

**latency**: the Flask app as shipped (``python -m flask_app --threads 4``, saving on), a store holding two
users' 100 drawings each; two other users send ``POST /api/predict`` back to back all along. First their
latency with nothing learning (the baseline, same run), then from ``POST /api/learn`` to that user's
first answer from their personal model, for the first user (the first Learn on the machine: an empty
``$DIGITREC_CACHE``) and then the second (what every later Learn costs), with the others' latency
meanwhile.

Writes a Markdown table (and its JSON beside it) and prints it.
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from benchmarks.finetune import canvas_renderings, cli, digits_misread, measure_runs, run_gain, worst_test_writers
from benchmarks.machine import load_average, machine, now
from benchmarks.memory_gain import UNSEEN_SEED, removed, saved
from digitrec.data.renderings import CANVAS_RENDERINGS
from tests.harness.processes import ROOT

SIZES = (3, 10)
REPEATS = 3
LATENCY_DRAWINGS = 10  # per digit: 100 saved drawings
DEFAULT_OUT = Path(__file__).resolve().parent / "learn.md"


def store_of(folder: Path, user: str, drawings) -> str:
    """A fresh store in ``folder`` holding ``drawings`` (``memory_gain.Saved``) under ``user``."""
    from digitrec.store import Store

    path = str(folder / "store.sqlite3")
    with Store.open(path) as store:
        for d in drawings:
            store.save(d.png, d.label, user=user, source="cli")
    return path


def errors_of(answerer, memory, framed: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return answerer.probabilities(framed, memory).argmax(axis=1) != labels


def one_run(
    writer: str, pool: list, unseen: tuple, size: int, repeat: int, base: Path, predictor, before: np.ndarray
) -> dict:
    """Save the pick, Learn through the worker command, read the unseen half as the app would.
    ``before``: which of the ``unseen`` images the shipped model misreads (``errors_of``)."""
    from digitrec.feedback import Feedback
    from digitrec.memory import Memory

    drawings = saved(pool, size, repeat)
    framed, labels = unseen
    n = len(CANVAS_RENDERINGS)
    memory_only = errors_of(predictor, Memory.from_drawings(predictor, drawings), framed, labels)
    with tempfile.TemporaryDirectory(prefix="digitrec-learn-gain-") as tmp:
        db = store_of(Path(tmp), "writer", drawings)
        start = time.perf_counter()
        lines = cli("learn", "--user", "writer", "--db", db, "--model", str(base), "--folds", "0", "--json")
        wall = time.perf_counter() - start
        report = json.loads(lines.strip().splitlines()[-1])
        answerer, memory = Feedback(predictor, "cli", db=db).answering("writer")
        assert answerer is not predictor, "Learn left no personal model"
        after = errors_of(answerer, memory, framed, labels)
    done = report.get("done", report)
    return {
        "writer": writer,
        "size": size,
        "repeat": repeat,
        "saved": len(drawings),
        "unseen_images": int(len(labels)),
        "errors_before": int(before.sum()),
        "errors_memory_only": int(memory_only.sum()),
        "errors_after": int(after.sum()),
        "digits_misread_before": digits_misread(before, n),
        "digits_misread_after": digits_misread(after, n),
        "mnist_before": (done.get("before") or {}).get("mnist_test"),
        "mnist_after": (done.get("after") or {}).get("mnist_test"),
        "validation_writers_before": (done.get("before") or {}).get("validation_writers"),
        "validation_writers_after": (done.get("after") or {}).get("validation_writers"),
        "learn_seconds": round(wall, 1),
    }


def summarise(runs: list[dict], writers: list[str]) -> list[dict]:
    rows = []
    for size in sorted({r["size"] for r in runs}):
        these = [r for r in runs if r["size"] == size]

        def share(key: str, mine: list[dict]) -> float:
            return round(float(np.mean([removed(r["errors_before"], r[key]) or 0.0 for r in mine])), 3)

        per_writer = {w: share("errors_after", [r for r in these if r["writer"] == w]) for w in writers}
        memory_per_writer = {w: share("errors_memory_only", [r for r in these if r["writer"] == w]) for w in writers}
        drops = [r["mnist_before"] - r["mnist_after"] for r in these if r["mnist_before"] is not None]
        val = [
            r["validation_writers_before"] - r["validation_writers_after"]
            for r in these
            if r["validation_writers_before"] is not None and r["validation_writers_after"] is not None
        ]
        rows.append(
            {
                "size": size,
                "runs": len(these),
                "errors_before": sum(r["errors_before"] for r in these),
                "errors_memory_only": sum(r["errors_memory_only"] for r in these),
                "errors_after": sum(r["errors_after"] for r in these),
                "removed_per_writer": per_writer,
                "removed_worst_read_writer": per_writer[writers[0]],
                "removed_least_helped_writer": min(per_writer.values()),
                "memory_only_least_helped_writer": min(memory_per_writer.values()),
                "mnist_drop_max_points": round(100 * max(drops), 2) if drops else None,
                "validation_drop_max_points": round(100 * max(val), 2) if val else None,
                "learn_seconds_mean": round(float(np.mean([r["learn_seconds"] for r in these])), 1),
            }
        )
    return rows


def measure(model: str | None, sizes, n_writers: int, repeats: int, log=print) -> dict:
    def prepare(writer, halves, predictor, base):
        unseen = canvas_renderings(halves["unseen"], seed=UNSEEN_SEED)
        before = errors_of(predictor, None, *unseen)  # once per writer: the same for every pick
        return lambda size, repeat: one_run(writer, halves["pool"], unseen, size, repeat, base, predictor, before)

    result = measure_runs(model, sizes, n_writers, repeats, prepare, log)
    return result | {"summary": summarise(result["runs"], [w for w, _ in result["writers"]])}


def render_gain(result: dict) -> str:
    m = result["machine"]
    worst = result["writers"][0][0]
    lines = [
        '# "Learn my handwriting": the gain through the app\'s path',
        "",
        f"Model: `{result['model']}` (SHA-256 {result['model_sha256'][:12]}...). Measured {result['when']} on "
        f"{m['cores']} cores, commit {m['commit']}. Command: `{result['command']}`.",
        "",
        "Writers (the test writers the model reads worst, chosen on drawings never measured): "
        + ", ".join(f"{w} ({100 * r:.1f}% wrong on its pool)" for w, r in result["writers"])
        + ".",
        "",
        "| saved per digit | runs | errors on unseen drawings: before / memory alone / after Learn "
        f"| removed, {worst} | removed, least helped writer | memory alone, least helped | MNIST drop, worst run "
        "| validation writers drop, worst run | seconds per Learn |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in result["summary"]:
        lines.append(
            f"| {r['size']} | {r['runs']} | {r['errors_before']} / {r['errors_memory_only']} / {r['errors_after']} "
            f"| **{100 * r['removed_worst_read_writer']:.0f}%** | {100 * r['removed_least_helped_writer']:.0f}% "
            f"| {100 * r['memory_only_least_helped_writer']:.0f}% | {r['mnist_drop_max_points']} points "
            f"| {r['validation_drop_max_points']} points | {r['learn_seconds_mean']} |"
        )
    return "\n".join(lines) + "\n"


# --- latency ---------------------------------------------------------------------------------------


def _json(port: int, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        data = None if body is None else json.dumps(body).encode()
        conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


def learn_once(port: int, user: str, image: str) -> dict:
    """``POST /api/learn`` for ``user``, polled every 0.25 s to its end, then ``user``'s first answer: the
    seconds to each, and when each phase the worker reports was first heard ended."""
    start = time.perf_counter()
    status, job = _json(port, "POST", "/api/learn", {"user": user})
    assert status == 202, (status, job)
    heard: dict[str, float] = {}
    while job.get("state") in ("queued", "running"):
        time.sleep(0.25)
        _status, job = _json(port, "GET", f"/api/learn?user={user}")
        heard.setdefault(job.get("phase") or job.get("state"), round(time.perf_counter() - start, 1))
    learnt = time.perf_counter() - start
    status, _answer = _json(port, "POST", "/api/predict", {"image": image, "user": user})
    return {
        "state": job.get("state"),
        "error": job.get("error"),
        "seconds_to_done": round(learnt, 1),
        "seconds_to_personal_answer": round(time.perf_counter() - start, 1),
        "predict_status": status,
        "phases_heard_at": heard,
    }


def latency(model: str | None, log=print) -> dict:
    """Learn with 100 saved drawings on the real Flask server while two other users keep predicting: the
    first Learn on a machine (nothing cached: ``$DIGITREC_CACHE`` empty), then another user's."""
    from benchmarks.canvases import canvases as bench_canvases
    from digitrec.store import Store
    from tests.harness import loadgen
    from tests.harness.apps import flask_args, predict_request
    from tests.harness.servers import free_port, serve

    base, predictor, halves, writers = worst_test_writers(model, 1, log)
    pool = halves[writers[0][0]]["pool"]
    _digit, _look, png = bench_canvases(1)[0]
    body, _ = predict_request(png)
    image = json.loads(body)["image"]
    with tempfile.TemporaryDirectory(prefix="digitrec-learn-latency-") as tmp:
        db = store_of(Path(tmp), "first", saved(pool, LATENCY_DRAWINGS, 0))
        with Store.open(db) as store:
            for d in saved(pool, LATENCY_DRAWINGS, 1):
                store.save(d.png, d.label, user="later", source="cli")
        env = {
            "DIGITREC_DB": db,
            "DIGITREC_ALLOW_SAVING": "1",
            "DIGITREC_PERSONAL_DIR": str(Path(tmp) / "personal"),
            "DIGITREC_CACHE": str(Path(tmp) / "cache"),  # the first Learn on this machine computes it all
        }
        if model:
            env["DIGITREC_MODEL"] = str(base)
        port = free_port()
        with serve(flask_args(port, threads=4), f"http://127.0.0.1:{port}/healthz", env=env):
            baseline = loadgen.run(port, body, concurrency=2, requests=100_000, seconds=20, warmup=20)
            during: dict = {}
            stop = threading.Event()
            load = threading.Thread(
                target=lambda: during.update(
                    loadgen.run(port, body, concurrency=2, requests=10**7, seconds=900, stop=stop)
                )
            )
            load.start()
            try:
                learns = {"first": learn_once(port, "first", image), "later": learn_once(port, "later", image)}
            finally:
                stop.set()
                load.join()
    return {
        "model": str(base.relative_to(ROOT) if base.is_relative_to(ROOT) else base),
        "saved": LATENCY_DRAWINGS * 10,
        "learns": learns,
        "others_baseline": {k: baseline[k] for k in ("ok", "errors", "p50", "p99", "rps")},
        "others_during": {k: during.get(k) for k in ("ok", "errors", "p50", "p99", "rps")},
    }


def render_latency(r: dict) -> str:
    b, d = r["others_baseline"], r["others_during"]
    first, later = r["learns"]["first"], r["learns"]["later"]

    def took(learn: dict) -> str:
        return f"**{learn['seconds_to_personal_answer']} s** ({learn['state']} after {learn['seconds_to_done']} s)"

    def phases(learn: dict) -> str:
        return ", ".join(f"{phase} {at}" for phase, at in learn["phases_heard_at"].items())

    return (
        "\n".join(
            [
                '# "Learn my handwriting": time to a personal model, on the real Flask server',
                "",
                f"Model: `{r['model']}`. Measured {r['when']} on {r['machine']['cores']} cores (load before "
                f"{r['load_before']}), commit {r['machine']['commit']}. Command: `{r['command']}`.",
                "",
                "| | goal | measured |",
                "| --- | --- | --- |",
                f"| POST /api/learn with {r['saved']} saved drawings -> that user's first answer from their model "
                f"| < 60 s | {took(later)} |",
                f"| ... the first Learn on this machine (nothing in `$DIGITREC_CACHE`: it computes what later ones "
                f"read) | | {took(first)} |",
                f"| other users' POST /api/predict p99 while the two learn (2 clients back to back) | < 100 ms "
                f"| **{1000 * d['p99']:.1f} ms** (p50 {1000 * d['p50']:.1f} ms, {d['ok']} answers, "
                f"{d['errors']} errors) |",
                f"| ... the same with nothing learning (baseline, same run) | | p99 {1000 * b['p99']:.1f} ms, p50 "
                f"{1000 * b['p50']:.1f} ms: while learning x{d['p99'] / b['p99']:.1f} at p99 |",
                "",
                "Seconds after the POST when each phase was first heard ended (`GET /api/learn` every 0.25 s; the "
                "first phase holds the worker's start and TensorFlow's import):",
                "",
                f"- later Learn: {phases(later)}",
                f"- first Learn: {phases(first)}",
            ]
        )
        + "\n"
    )


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    part = argv.pop(0) if argv and argv[0] in ("gain", "latency") else "gain"
    if part == "gain":
        return run_gain("learn gain", __doc__, measure, render_gain, DEFAULT_OUT, REPEATS, argv)
    import argparse

    ap = argparse.ArgumentParser(prog="python -m benchmarks.learn latency")
    ap.add_argument("--model", help="the model (default: $DIGITREC_MODEL or the shipped one)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT.with_name("learn_latency.md"))
    args = ap.parse_args(argv)
    load_before = load_average()
    result = latency(args.model, log=lambda s: print(s, file=sys.stderr))
    result.update(when=now(), machine=machine(), load_before=load_before, command="python -m benchmarks.learn latency")
    text = render_latency(result)
    args.out.write_text(text)
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
