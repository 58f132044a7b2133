"""6. Memory: peak resident memory (VmHWM) of each app's process after 1,000 predictions.

Baseline: a bare Python process holding a ``Predictor`` (NumPy engine) that made the same number
of predictions: what every front end adds sits on top of it.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.canvases import canvases
from benchmarks.context import Context, log
from benchmarks.formats import fmt_mib
from benchmarks.report import Section
from tests.harness import loadgen
from tests.harness.apps import GRADIO_APP, GradioCaller, flask_args, gradio_args, gunicorn_args, predict_request
from tests.harness.processes import PYTHON, children, peak_rss, run_json
from tests.harness.servers import free_port, serve

NAME = "memory"
TITLE = "6. Memory: peak RSS after 1,000 predictions"


def child(kind: str, n: int) -> dict:
    """In-process predictions in a fresh process; returns its peak RSS."""
    import os

    cases = canvases(20)
    right = 0
    if kind in ("litert", "numpy", "keras"):
        from digitrec import Predictor

        p = Predictor.load(backend=kind)
        for i in range(n):
            digit, _how, png = cases[i % len(cases)]
            right += p.predict(png).digit == digit
    elif kind == "pygame":
        import pygame

        import pygame_frontend as front
        from digitrec import Predictor
        from digitrec.data.canvases import pen_paths

        app = front.open_window(Predictor.load())
        paths = {d: pen_paths(d, canvas=app.canvas.size) for d in range(10)}
        for i in range(n):
            digit = i % 10
            app.clear()
            for stroke in paths[digit]:  # as the mouse would: press, move, release
                app.canvas.begin(stroke[0])
                for point in stroke[1:]:
                    app.canvas.extend(point)
                app.canvas.end()
            app.predict()
            app.draw()
            pygame.display.flip()
            right += app.prediction.digit == digit
        pygame.quit()
    else:
        raise ValueError(kind)
    return {"peak_rss": peak_rss(os.getpid()), "predictions": n, "right": right}


def flask_peak(args: list[str], port: int, body_file: Path, digit: int, n: int) -> dict:
    with serve(args, f"http://127.0.0.1:{port}/healthz", timeout=120) as server:
        r = loadgen.run_child(port, body_file, 4, n, 300, digit, timeout=400)
        pid = server.pid
        workers = children(pid)
        return {
            "peak_rss": peak_rss(pid),
            "workers": [peak_rss(w) for w in workers],
            "predictions": r["ok"],
            "errors": r["errors"],
        }


def gradio_peak(port: int, png_path: Path, digit: int, n: int, limit_s: float = 300) -> dict:
    with serve(gradio_args(port), f"http://127.0.0.1:{port}/", timeout=240) as server:
        caller = GradioCaller(port, png_path)
        done = right = 0
        deadline = time.perf_counter() + limit_s
        try:
            while done < n and time.perf_counter() < deadline:
                right += caller.predict() == str(digit)
                done += 1
        finally:
            caller.close()
        return {"peak_rss": peak_rss(server.pid), "predictions": done, "right": right}


def run(ctx: Context) -> Section:
    n = ctx.n(1000, 10)
    digit, _how, png = next(c for c in canvases(20) if c[1] == "transparent")
    body, _headers = predict_request(png)
    s = Section(
        NAME,
        TITLE,
        intro=(
            f"Peak resident set size (Linux VmHWM) of each process after {n:,} predictions: in-process ones cycle "
            "through 20 canvas drawings; the servers answer the load generator (4 clients) or `gradio_client`."
        ),
        columns=["process", "peak RSS", "vs baseline", "predictions"],
    )
    res: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        body_file = Path(tmp) / "body.json"
        body_file.write_bytes(body)
        png_path = Path(tmp) / f"digit{digit}.png"
        png_path.write_bytes(png)
        for kind in ("numpy", "litert", "keras", "pygame"):
            log(f"memory: {kind} child, {n} predictions")
            res[kind] = run_json([PYTHON, "-m", "benchmarks.memory", kind, str(n)], timeout=900)
        log("memory: Flask (waitress)")
        port = free_port()
        res["flask"] = flask_peak(flask_args(port), port, body_file, digit, n)
        log("memory: Flask (gunicorn -w 2)")
        port = free_port()
        res["gunicorn"] = flask_peak(gunicorn_args(port), port, body_file, digit, n)
        gradio_error = None
        if GRADIO_APP.is_file():
            log("memory: Gradio")
            try:
                res["gradio"] = gradio_peak(free_port(), png_path, digit, n)
            except Exception as exc:
                gradio_error = f"{type(exc).__name__}: {str(exc)[:200]}"

    base = res["numpy"]["peak_rss"]

    def ratio(x: float) -> str:
        return f"{x / base:.2f}x"

    def count(r: dict) -> str:
        extra = f", {r['errors']} errors" if r.get("errors") else ""
        return f"{r['predictions']:,}{extra}"

    def measured(label: str, r: dict) -> None:
        s.add(label, fmt_mib(r["peak_rss"]), ratio(r["peak_rss"]), count(r))

    s.add(
        '**Baseline**: Python + `Predictor(backend="numpy")` (the NumPy engine), in-process predictions',
        fmt_mib(base),
        "1.00x (baseline)",
        count(res["numpy"]),
    )
    measured("Python + `Predictor` as shipped (LiteRT backend), in-process predictions", res["litert"])
    measured("Flask app, `python -m flask_app` (waitress, 1 thread): the server process", res["flask"])
    g = res["gunicorn"]
    if g["workers"]:
        s.add(
            f"Flask app, `gunicorn -w 2`: each worker (largest of {len(g['workers'])})",
            fmt_mib(max(g["workers"])),
            ratio(max(g["workers"])),
            count(g),
        )
    s.add("Flask app, `gunicorn -w 2`: the master (no model)", fmt_mib(g["peak_rss"]), ratio(g["peak_rss"]), "")
    if "gradio" in res:
        measured("Gradio app, `python gradio_app.py`", res["gradio"])
    else:
        why = gradio_error or "gradio_app.py is not on this branch yet (it lands on main later)"
        s.add("Gradio app, `python gradio_app.py`", "-", f"not measured: {why}", "")
    measured("Pygame app (`pygame_frontend.App`, SDL dummy video driver), drawing and predicting", res["pygame"])
    measured('reference: Python + `Predictor(backend="keras")` (TensorFlow loaded)', res["keras"])
    wrong = {k: r["predictions"] - r["right"] for k, r in res.items() if "right" in r and r["right"] < r["predictions"]}
    if wrong:
        s.notes.append(f"Wrong answers (should be none for these clear drawings): {wrong}.")
    s.notes.append(
        "Workers of a multi-process server each hold their own copy: N workers need about N times the "
        "per-worker figure."
    )
    return s


if __name__ == "__main__":
    if len(sys.argv) == 3:
        print(json.dumps(child(sys.argv[1], int(sys.argv[2]))))
        sys.exit(0)
    sys.exit("usage: python -m benchmarks.memory numpy|keras|pygame N")
