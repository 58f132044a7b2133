"""What the tests share that is theirs alone: where the repository is, the CLI and the benchmarks run as a
user runs them, the apps' servers on free ports, inputs (a blank canvas, a number on the Gradio pad), many
keep-alive HTTP clients at once, and the headless Pygame window driven by posted events (a stroke, a digit,
a number), which scripts/pygame_screenshot.py drives too.

A helper two test modules need lives here, never in one of them: no test module imports another.
Servers come from ``tests.harness.servers`` and the browser from ``tests.harness.browser``, which the
benchmarks and the screenshot scripts use too; the pages are driven by ``tests.harness.flask_page`` and
``tests.harness.gradio_page``.
"""

from __future__ import annotations

import http.client
import io
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from tests.harness.servers import free_port, serve

if TYPE_CHECKING:
    import pygame

    import pygame_frontend

ROOT = Path(__file__).resolve().parents[2]

Request = tuple[str, str, bytes | None, dict[str, str]]  # method, path, body, headers


def run_module(module: str, *args: str, timeout: float = 600, **env: str) -> subprocess.CompletedProcess:
    """``python -m MODULE ARGS...`` in a real subprocess from the repository, with ``env`` added to the
    environment; its output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **env},
    )


def run_cli(*args: str, timeout: float = 600, **env: str) -> subprocess.CompletedProcess:
    """``python -m digitrec ARGS...``, as a user runs it (``run_module``)."""
    return run_module("digitrec", *args, timeout=timeout, **env)


def bench(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    """``python -m benchmarks ARGS...`` (``run_module``), without TensorFlow's log lines."""
    return run_module("benchmarks", *args, timeout=timeout, TF_CPP_MIN_LOG_LEVEL="2")


def tables(markdown: str) -> list[list[list[str]]]:
    """Every Markdown table in ``markdown`` as rows of cells (header row first, separator dropped)."""
    out, current = [], []
    for line in markdown.splitlines() + [""]:
        if line.startswith("|"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            if not all(set(c) <= {"-"} and c for c in cells):
                current.append(cells)
        elif current:
            out.append(current)
            current = []
    return out


@contextmanager
def serve_flask(*args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """The production server, ``python -m flask_app --port P ARGS...`` on a free port, until the block ends:
    its URL once ``/healthz`` answers."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with serve(["-m", "flask_app", "--port", str(port), *args], f"{url}/healthz", env=env):
        yield url


@contextmanager
def serve_gradio(*args: str) -> Iterator[str]:
    """The Gradio demo, ``python gradio_app.py --port P ARGS...`` on a free port, until the block ends: its URL
    (ending in ``/``) once it answers."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    with serve(["gradio_app.py", "--port", str(port), *args], url):
        yield url


def blank_canvas_png() -> bytes:
    """What a browser's untouched transparent canvas sends."""
    buffer = io.BytesIO()
    Image.new("RGBA", (280, 280), (0, 0, 0, 0)).save(buffer, format="PNG")
    return buffer.getvalue()


def number_layer(text: str, seed: int = 0) -> np.ndarray:
    """The Gradio number pad's drawing layer after a user wrote ``text``: black RGBA, the pen's coverage in
    alpha."""
    from digitrec.data.composed import compose
    from digitrec.data.synth import digit_strokes
    from gradio_app import HEIGHT, WIDTH

    rng = np.random.default_rng(seed)
    truth = compose([digit_strokes(int(d), rng, style=0, join=False) for d in text], rng, look="transparent")
    canvas = np.zeros((HEIGHT, WIDTH, 4), np.uint8)
    h, w = truth.image.shape[:2]
    top, left = (HEIGHT - h) // 2, 40
    canvas[top : top + h, left : left + w] = truth.image
    return canvas


def sketch(text: str) -> dict:
    """The Gradio number pad's value after a user wrote ``text`` on its white background."""
    from gradio_app import HEIGHT, WIDTH

    return {"background": np.full((HEIGHT, WIDTH, 4), 255, np.uint8), "layers": [number_layer(text)], "composite": None}


def uploaded(value: dict, folder: Path) -> dict:
    """A Sketchpad value (pictures as arrays) as the app's handlers get it from Gradio's upload: each picture
    a PNG file in ``folder``, named by its path."""

    def file(picture: np.ndarray | None, name: str) -> dict | None:
        if picture is None:
            return None
        path = folder / f"{name}.png"
        Image.fromarray(picture).save(path)
        return {"path": str(path)}

    layers = [file(layer, f"layer{k}") for k, layer in enumerate(value["layers"] or [])]
    return {
        "background": file(value["background"], "background"),
        "layers": layers,
        "composite": file(value["composite"], "composite"),
    }


def gradio_ids_and_api_names() -> tuple[set[str | None], set[str | None]]:
    """The Gradio demo's components' ``elem_id``s and its events' API names, as its config tells a browser."""
    import gradio_app

    config = gradio_app.demo.get_config_file()
    ids = {c["props"].get("elem_id") for c in config["components"]}
    return ids, {d.get("api_name") for d in config["dependencies"]}


def keep_alive_clients(
    port: int,
    count: int,
    clients: int,
    deadline: float,
    request: Callable[[int], Request],
    answer: Callable[[int, http.client.HTTPResponse, bytes], None],
    broken: Callable[[Exception], None],
) -> None:
    """``count`` requests to 127.0.0.1:``port`` from ``clients`` threads, each over its own keep-alive
    connection, until all are sent or ``time.monotonic()`` passes ``deadline``. ``request(i)`` is the
    i-th request; ``answer(i, response, body)`` is told each answer and ``broken(exc)`` each broken
    connection (it is opened again). Both are called under one lock, so they may tally freely."""
    lock = threading.Lock()
    counter = iter(range(count))

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while time.monotonic() < deadline:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            method, path, body, headers = request(i)
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    broken(exc)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                continue
            with lock:
                answer(i, response, data)
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


# --- the Pygame window, headless: events posted for the loop step main() runs ---------------------------
# pygame is imported when a helper runs, so that tests without a window never load it.


def post(kind: int, **attrs) -> None:
    """Queue one Pygame event of ``kind`` with ``attrs``."""
    import pygame

    pygame.event.post(pygame.event.Event(kind, **attrs))


def press(key: int) -> None:
    """Queue a key press."""
    import pygame

    post(pygame.KEYDOWN, key=key)


def replay_stroke(points: Sequence[tuple[float, float]], origin: tuple[int, int], release: bool = True) -> None:
    """Queue one pen stroke as a user makes it: left button down, moves with it held, release.

    ``points`` are canvas coordinates and ``origin`` the canvas's top-left in the window.
    """
    import pygame

    pts = [(round(x + origin[0]), round(y + origin[1])) for x, y in points]
    post(pygame.MOUSEBUTTONDOWN, pos=pts[0], button=1)
    for prev, pos in zip(pts, pts[1:], strict=False):
        post(pygame.MOUSEMOTION, pos=pos, rel=(pos[0] - prev[0], pos[1] - prev[1]), buttons=(1, 0, 0))
    if release:
        post(pygame.MOUSEBUTTONUP, pos=pts[-1], button=1)


def draw_digit(app: pygame_frontend.App, digit: int, release: bool = True) -> None:
    """Queue ``digit``'s pen strokes across ``app``'s square canvas; ``release=False`` keeps the last stroke's
    button held."""
    from digitrec.data.canvases import pen_paths

    strokes = pen_paths(digit, canvas=app.canvas.size)
    for i, stroke in enumerate(strokes):
        replay_stroke(stroke, app.layout.canvas.topleft, release=release or i < len(strokes) - 1)


def write_number(app: pygame_frontend.App, text: str) -> None:
    """Queue ``text`` written with the mouse, digit after digit across number mode's wide canvas, each 60% of
    its height."""
    from digitrec.data.canvases import pen_paths

    side = app.canvas.size
    for i, digit in enumerate(text):
        left = 40 + i * 0.62 * side
        for stroke in pen_paths(int(digit), canvas=side):
            replay_stroke([(x - 0.2 * side + left, y) for x, y in stroke], app.layout.canvas.topleft)


def painted(
    app: pygame_frontend.App, rect: pygame.Rect, colour: tuple[int, int, int], on: pygame.Surface | None = None
) -> int:
    """How many pixels of ``rect`` on screen (or ``on``) are (nearly) ``colour``: proof that something was drawn."""
    import numpy as np
    import pygame

    pixels = pygame.surfarray.array3d((on or app.screen).subsurface(rect)).astype(int)
    return int((np.abs(pixels - colour).sum(axis=2) < 60).sum())
