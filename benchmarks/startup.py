"""4. Start-up: from process start to the first prediction, for the CLI and the apps.

Baseline: the seed's way as a command (``python -m benchmarks.startup seed-cli FILE``): import
Keras and TensorFlow, load the model, squeeze the canvas to 28x28, ``model.predict``.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.canvases import canvases
from benchmarks.context import Context, log
from benchmarks.formats import fmt_s, speedup
from benchmarks.report import Section, Target
from benchmarks.stats import p50
from tests.harness.apps import GRADIO_APP, GradioCaller, flask_args, gradio_args, gunicorn_args, predict_request
from tests.harness.processes import PYTHON, ROOT, child_env
from tests.harness.servers import Server, free_port, http_status

NAME = "startup"
TITLE = "4. Start-up: process start to first prediction"
TARGET_CLI = 3.0
TARGET_APP = 8.0


def wall(argv: list[str], timeout: float = 300) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=timeout)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr[-1500:]}")
    return elapsed, proc.stdout


def flask_ready(args: list[str], port: int, png: bytes) -> float:
    """Seconds from starting ``python args...`` to its first 200 answer to ``POST /api/predict``."""
    body, headers = predict_request(png)
    url = f"http://127.0.0.1:{port}/api/predict"
    with Server(args) as server:
        return server.wait_until(lambda: http_status(url, "POST", body, headers, timeout=10)[0] == 200, timeout=180)


def gradio_ready(port: int, png_path: Path, digit: int) -> float:
    """Seconds from ``python gradio_app.py`` to its first right answer through the HTTP API."""
    import gradio_client  # noqa: F401  (imported before the clock starts: it is the client's cost)

    with Server(gradio_args(port)) as server:

        def ready() -> bool:
            if http_status(f"http://127.0.0.1:{port}/", timeout=5)[0] != 200:
                return False
            caller = GradioCaller(port, png_path)
            try:
                label = caller.predict()
            finally:
                caller.close()
            if label != str(digit):
                raise RuntimeError(f"gradio_app answered {label!r} for a {digit}")
            return True

        return server.wait_until(ready, timeout=240, interval=0.1)


def run(ctx: Context) -> Section:
    digit, _how, png = canvases(1)[0]
    reps, app_reps = ctx.n(5, 1), ctx.n(3, 1)
    s = Section(
        NAME,
        TITLE,
        intro=(
            f"Wall time from starting the process to the first prediction of a canvas PNG; the median and the "
            f"slowest of {reps} runs (commands) or {app_reps} runs (apps). Apps count as ready at their first "
            "successful prediction over HTTP (polled every 20 ms; Gradio's every 100 ms through `gradio_client`, "
            "whose own import is not counted)."
        ),
        columns=["what", "p50", "slowest", "runs", "vs baseline (p50)"],
    )
    times: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        png_path = Path(tmp) / f"digit{digit}.png"
        png_path.write_bytes(png)
        commands = {
            "seed": [PYTHON, "-m", "benchmarks.startup", "seed-cli", str(png_path)],
            "cli": [PYTHON, "-m", "digitrec", "predict", str(png_path)],
            "python": [PYTHON, "-c", "pass"],
            "tensorflow": [PYTHON, "-c", "import tensorflow"],
        }
        for r in range(reps):  # interleaved, so load changes hit every command alike
            for name, argv in commands.items():
                if name == "tensorflow" and r >= app_reps:
                    continue
                log(f"startup: {name} run {r + 1}")
                times.setdefault(name, []).append(wall(argv)[0])
        _t, out = wall(
            [
                PYTHON,
                "-c",
                "import sys; from digitrec.cli import main; main(['predict', sys.argv[1]]); "
                "print('tensorflow' in sys.modules)",
                str(png_path),
            ]
        )
        tf_imported = out.strip().splitlines()[-1] == "True"
        for r in range(app_reps):
            log(f"startup: Flask (waitress) run {r + 1}")
            port = free_port()
            times.setdefault("flask", []).append(flask_ready(flask_args(port), port, png))
            log(f"startup: Flask (gunicorn -w 2) run {r + 1}")
            port = free_port()
            times.setdefault("gunicorn", []).append(flask_ready(gunicorn_args(port), port, png))
        gradio_error = None
        if GRADIO_APP.is_file():
            try:
                for r in range(app_reps):
                    log(f"startup: Gradio run {r + 1}")
                    times.setdefault("gradio", []).append(gradio_ready(free_port(), png_path, digit))
            except Exception as exc:  # the app is someone else's work in progress: report, go on
                gradio_error = f"{type(exc).__name__}: {str(exc)[:200]}"
                times.pop("gradio", None)

    base = p50(times["seed"])
    labels = {
        "seed": "**Baseline**: the seed's way as a command (import Keras/TensorFlow, load, `model.predict`)",
        "cli": "`python -m digitrec predict file.png`",
        "python": "reference: `python -c pass` (the interpreter alone)",
        "tensorflow": "reference: `python -c 'import tensorflow'` (what lazy imports avoid)",
        "flask": "Flask app, `python -m flask_app` (waitress), to first `POST /api/predict` answer",
        "gunicorn": "Flask app, `gunicorn -w 2 'flask_app:create_app()'`, to first answer",
        "gradio": "Gradio app, `python gradio_app.py`, to first prediction via its HTTP API",
    }
    for name, label in labels.items():
        if name in times:
            t = times[name]
            ratio = "1.0x (baseline)" if name == "seed" else speedup(base, p50(t))
            s.add(label, fmt_s(p50(t)), fmt_s(max(t)), len(t), ratio)
        elif name == "gradio":
            why = gradio_error or "gradio_app.py is not on this branch yet (it lands on main later)"
            s.add(label, "-", "-", 0, f"not measured: {why}")
    s.add("TensorFlow imported by `python -m digitrec predict`?", "yes" if tf_imported else "no", "", 1, "")

    cli = p50(times["cli"])
    s.targets.append(
        Target(
            "CLI start to first prediction",
            f"< {TARGET_CLI:.0f} s, without TensorFlow",
            f"{fmt_s(cli)}, TensorFlow {'imported' if tf_imported else 'not imported'}",
            cli < TARGET_CLI and not tf_imported,
        )
    )
    flask = max(p50(times["flask"]), p50(times["gunicorn"]))
    s.targets.append(
        Target(
            "Flask app ready (waitress and gunicorn -w 2)",
            f"< {TARGET_APP:.0f} s",
            f"{fmt_s(p50(times['flask']))} / {fmt_s(p50(times['gunicorn']))}",
            flask < TARGET_APP,
        )
    )
    if "gradio" in times:
        g = p50(times["gradio"])
        s.targets.append(Target("Gradio app ready", f"< {TARGET_APP:.0f} s", fmt_s(g), g < TARGET_APP))
    else:
        s.targets.append(Target("Gradio app ready", f"< {TARGET_APP:.0f} s", "not measured", None))
    return s


def seed_cli(path: str) -> int:
    """The seed's way, end to end, as a command would do it."""
    import keras

    from benchmarks.single import naive_input
    from digitrec.paths import model_path

    model = keras.models.load_model(model_path(), compile=False)
    digit = int(model.predict(naive_input(Path(path).read_bytes()), verbose=0).argmax())
    print(f"{path}: {digit}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "seed-cli":
        sys.exit(seed_cli(sys.argv[2]))
    sys.exit("usage: python -m benchmarks.startup seed-cli FILE")
