"""digitrec's apps as the benchmarks run them: the commands that start them, and their clients."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from pathlib import Path

from tests.harness.processes import ROOT

GRADIO_APP = ROOT / "gradio_app.py"


def flask_args(port: int, threads: int = 1) -> list[str]:
    """``python`` arguments for the Flask app under waitress, as the README runs it."""
    return ["-m", "flask_app", "--port", str(port), "--threads", str(threads)]


def gunicorn_args(port: int, workers: int = 2, extra: Sequence[str] = ()) -> list[str]:
    """gunicorn as the docs say to run it; the repo's gunicorn.conf.py is read (cwd is the root)."""
    return ["-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}", *extra, "flask_app:create_app()"]


def gradio_args(port: int) -> list[str]:
    return [str(GRADIO_APP), "--port", str(port)]


def predict_request(png: bytes) -> tuple[bytes, dict[str, str]]:
    """The body and headers of ``POST /api/predict`` as the Flask page sends it."""
    from digitrec.imageio import encode_data_url

    body = json.dumps({"image": encode_data_url(png)}).encode()
    return body, {"Content-Type": "application/json", "Accept": "application/json"}


class GradioCaller:
    """Predictions through the Gradio app's HTTP API, as ``gradio_client`` users make them."""

    def __init__(self, port: int, png_path: Path):
        from gradio_client import Client, handle_file

        self.client = Client(f"http://127.0.0.1:{port}/", verbose=False, analytics_enabled=False, download_files=False)
        self.value = {"background": None, "layers": [], "composite": handle_file(str(png_path))}

    def predict(self) -> str:
        """The app's top label for the drawing (a digit as a string)."""
        answer, _seen = self.client.predict(self.value, api_name="/predict")
        return str(answer.get("label") if isinstance(answer, dict) else answer)

    def close(self) -> None:
        with contextlib.suppress(Exception):  # older clients have no close(); nothing to release then
            self.client.close()
