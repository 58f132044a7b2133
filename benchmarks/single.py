"""1. One drawing, in process: a 280x280 canvas PNG in, a ``Prediction`` out.

Baseline: the seed's way, the whole canvas resized to 28x28 and fed to Keras ``model.predict``.
The drawings are ten digits in two looks: dark ink on white (what the CLI and Pygame send) and
ink in the alpha channel of a transparent canvas (what the Flask page sends).
"""

from __future__ import annotations

import contextlib
import functools
import io
from collections.abc import Sequence
from typing import Any

import numpy as np

from benchmarks.blas import BLAS_ENV, blas_threads, many_blas_threads
from benchmarks.canvases import canvases
from benchmarks.context import Context, log
from benchmarks.formats import fmt_ms, speedup
from benchmarks.report import Section, Target
from benchmarks.stats import p50, p99
from benchmarks.timing import Candidate, interleaved
from benchmarks.worker import Worker

NAME = "single"
TITLE = "1. One drawing, in process"
TARGET_P50 = 0.002  # seconds
TARGET_SPEEDUP = 50.0


def naive_input(png: bytes) -> np.ndarray:
    """The seed's preprocessing (``digitrec.evaluate.naive_frame``: the whole canvas squeezed to
    28x28, inverted to white on black) as a batch of one for ``model.predict``."""
    from PIL import Image

    from digitrec.evaluate import naive_frame

    return naive_frame(Image.open(io.BytesIO(png))).reshape(1, 28, 28, 1)


CASES = 20  # ten digits in each of the two looks


def numpy_kit(ctx: Context):
    """Runs in a worker without TensorFlow: the predictor as the apps load it (LiteRT when its
    flatbuffer is there), and the NumPy engine it falls back to."""
    from digitrec import Predictor, preprocess

    cases = canvases(CASES)
    pngs = [png for _d, _h, png in cases]
    fast, engine = Predictor.load(), Predictor.load(backend="numpy")
    framed = [preprocess(png) for png in pngs]
    n = ctx.n(2000, 5)
    candidates = {
        "numpy": Candidate(lambda i: fast.predict(pngs[i % CASES]), n),
        "preprocess": Candidate(lambda i: preprocess(pngs[i % CASES]), n),
        "network": Candidate(lambda i: fast.probabilities(framed[i % CASES][None]), n),
        "engine": Candidate(lambda i: engine.predict(pngs[i % CASES]), n),
        "engine_network": Candidate(lambda i: engine.probabilities(framed[i % CASES][None]), n),
    }
    threads = blas_threads()
    right = sum(fast.predict(png).digit == d for d, _h, png in cases)
    return candidates, {"right": right, "blas_threads": threads, "backend": fast.backend}


def tensorflow_kit(ctx: Context):
    """Runs in its own worker: the seed's way (baseline) and the Keras tf.function backend."""
    import keras

    from digitrec import Predictor

    cases = canvases(CASES)
    pngs = [png for _d, _h, png in cases]
    slow = Predictor.load(backend="keras")
    model = keras.models.load_model(slow.path, compile=False)

    def seed_way(i: int) -> int:
        return int(model.predict(naive_input(pngs[i % CASES]), verbose=0).argmax())

    candidates = {
        "seed": Candidate(seed_way, ctx.n(200, 3)),
        "keras": Candidate(lambda i: slow.predict(pngs[i % CASES]), ctx.n(500, 3)),
    }
    right = {
        "seed": sum(seed_way(i) == cases[i][0] for i in range(CASES)),
        "keras": sum(slow.predict(png).digit == d for d, _h, png in cases),
    }
    return candidates, right


def run(ctx: Context) -> Section:
    cases = canvases(CASES)  # made here once; the workers read them from the run's cache
    k = CASES
    log("single: starting workers (NumPy engine without TensorFlow; Keras; BLAS unlimited)")
    spread = many_blas_threads()
    with contextlib.ExitStack() as stack:
        np_worker = stack.enter_context(Worker("benchmarks.single:numpy_kit", ctx))
        tf_worker = stack.enter_context(Worker("benchmarks.single:tensorflow_kit", ctx))
        threads = np_worker.info["blas_threads"]
        n_np, sizes = ctx.n(2000, 5), {"seed": ctx.n(200, 3), "keras": ctx.n(500, 3)}
        candidates = {name: tf_worker.candidate(name, sizes[name]) for name in ("seed", "keras")}
        for name in ("numpy", "preprocess", "network", "engine", "engine_network"):
            candidates[name] = np_worker.candidate(name, n_np)
        backend = np_worker.info["backend"]
        if spread:  # the engine as it was before its one-thread BLAS limit
            free = stack.enter_context(Worker("benchmarks.single:numpy_kit", ctx, env=spread))
            candidates["spread"] = free.candidate("engine", ctx.n(300, 5))
        log(f"single: timing {', '.join(f'{n} x{c.n}' for n, c in candidates.items())} in interleaved rounds")
        t = interleaved(candidates, rounds=ctx.n(10, 1))
        right = {"numpy": np_worker.info["right"], **tf_worker.info}

    base = p50(t["seed"])
    s = Section(
        NAME,
        TITLE,
        intro=(
            f"A 280x280 canvas PNG in, a `Prediction` out, for {k} drawings (digits 0-9, dark ink on white and "
            "a transparent canvas with the ink in its alpha channel) taken in turn. "
            f"Timed calls: {', '.join(f'{c.n:,} {n}' for n, c in candidates.items())}, in "
            f"{ctx.n(10, 1)} interleaved rounds after 3 warm-up calls each. The NumPy paths run in a worker "
            "process without TensorFlow (as in the apps: LiteRT or the NumPy engine), the Keras ones in another; "
            "they take turns."
        ),
        columns=["path", "p50", "p99", "vs baseline (p50)", f"right answers (of {k})", "BLAS threads"],
    )
    bt = threads or "?"  # the BLAS threads of the rows that run the network
    row = functools.partial(_timed_row, s, base)
    s.add(
        "**Baseline**: the seed's way, whole canvas resized to 28x28, Keras `model.predict`",
        fmt_ms(base),
        fmt_ms(p99(t["seed"])),
        "1.0x (baseline)",
        right["seed"],
        "- (TensorFlow)",
    )
    row(f"`Predictor.predict` as shipped (`{backend}` backend)", t["numpy"], right["numpy"], bt)
    for how, label in (
        ("dark_on_light", "dark ink on white (CLI, Pygame)"),
        ("transparent", "transparent canvas (Flask page)"),
    ):
        row(f"&nbsp;&nbsp;of which: {label}", _of_look(t["numpy"], cases, how), "", bt)
    row("&nbsp;&nbsp;split: decode + `preprocess` only", t["preprocess"], "", "-")
    row("&nbsp;&nbsp;split: network only (`Predictor.probabilities`, 1 image)", t["network"], "", bt)
    row('`Predictor.predict`, NumPy engine (`backend="numpy"`: no LiteRT file or package)', t["engine"], "", bt)
    row("&nbsp;&nbsp;split: network only, NumPy engine", t["engine_network"], "", bt)
    row(
        '`Predictor.predict`, Keras tf.function backend (`backend="keras"`)',
        t["keras"],
        right["keras"],
        "- (TensorFlow)",
    )
    if spread:
        n = spread[BLAS_ENV]
        row(
            f"`Predictor.predict`, NumPy engine with `{BLAS_ENV}={n}` (BLAS's default threads: the engine "
            "before its one-thread limit)",
            t["spread"],
            "",
            n,
        )

    shipped = p50(t["numpy"])
    s.targets.append(
        Target("One drawing in process, p50", f"<= {fmt_ms(TARGET_P50)}", fmt_ms(shipped), shipped <= TARGET_P50)
    )
    s.targets.append(
        Target(
            "One drawing vs the seed's way",
            f">= {TARGET_SPEEDUP:.0f}x faster",
            speedup(base, shipped),
            base / shipped >= TARGET_SPEEDUP,
        )
    )
    s.notes.append(
        "The split rows are timed on their own: decode + preprocess plus network is close to, "
        "not exactly, the whole (the whole also builds the `Prediction`)."
    )
    s.notes.append(
        "Right answers: the seed's squeeze of the whole canvas loses the digit's framing and reads "
        "a transparent canvas as all black; `preprocess` frames every drawing the way MNIST was made."
    )
    return s


def _timed_row(s: Section, base: float, label: str, times: Sequence[float], right: Any = "", threads: Any = "") -> None:
    """One row of the table: a path's p50 and p99, and how much faster its p50 is than ``base``'s."""
    s.add(label, fmt_ms(p50(times)), fmt_ms(p99(times)), speedup(base, p50(times)), right, threads)


def _of_look(times: Sequence[float], cases: Sequence[tuple], how: str) -> list[float]:
    """The timings of the calls on drawings of one look (the calls take the cases in turn)."""
    return [x for i, x in enumerate(times) if cases[i % len(cases)][1] == how]
