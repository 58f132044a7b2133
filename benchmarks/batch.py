"""2. Batch throughput: ``predict_batch`` on 1,000 drawings vs calling ``predict`` once per drawing."""

from __future__ import annotations

import contextlib

from benchmarks.blas import BLAS_ENV, blas_threads, many_blas_threads
from benchmarks.canvases import canvases
from benchmarks.context import Context, log
from benchmarks.formats import fmt_ms, fmt_rate, rate_ratio
from benchmarks.report import Section
from benchmarks.stats import p50
from benchmarks.timing import Candidate, interleaved
from benchmarks.worker import Worker

NAME = "batch"
TITLE = "2. Batch throughput"


def images(ctx: Context) -> int:
    return ctx.n(1000, 20)


def kit(ctx: Context):
    """Runs in a worker without TensorFlow. Each call handles all the canvases once."""
    import numpy as np

    from digitrec import Predictor, preprocess

    pngs = [png for _d, _h, png in canvases(images(ctx), seed=1)]
    p = Predictor.load()
    framed = np.stack([f for f in (preprocess(png) for png in pngs) if f is not None])
    rounds = ctx.n(3, 1)
    p.predict_batch(pngs[:50])  # warm-up on a few: a call on all of them is the measurement itself
    candidates = {
        "loop": Candidate(lambda i: [p.predict(png) for png in pngs], rounds, warmup=0),
        "batch": Candidate(lambda i: p.predict_batch(pngs), rounds, warmup=0),
        "preprocess": Candidate(lambda i: [preprocess(png) for png in pngs], rounds, warmup=0),
        "network": Candidate(lambda i: p.probabilities(framed), rounds, warmup=1),
    }
    threads = blas_threads()
    return candidates, {"blas_threads": threads, "framed": len(framed)}


def run(ctx: Context) -> Section:
    n = images(ctx)
    log(f"batch: making {n} canvases")
    canvases(n, seed=1)  # once, here: the workers read them from the run's cache
    with contextlib.ExitStack() as stack:
        worker = stack.enter_context(Worker("benchmarks.batch:kit", ctx))
        threads = worker.info["blas_threads"]
        rounds = ctx.n(3, 1)
        candidates = {name: worker.candidate(name, rounds) for name in ("loop", "batch", "preprocess", "network")}
        spread = many_blas_threads()
        engine = stack.enter_context(Worker("benchmarks.batch:kit", ctx, env={"DIGITREC_BACKEND": "numpy"}))
        for name in ("loop", "batch"):
            candidates[f"engine_{name}"] = engine.candidate(name, rounds)
        if spread:  # the engine as it was before its one-thread BLAS limit
            free = stack.enter_context(Worker("benchmarks.batch:kit", ctx, env=spread))
            for name in ("loop", "batch"):  # slow: one call each is enough to show the difference
                candidates[f"spread_{name}"] = free.candidate(name, 1)
        log(f"batch: timing {', '.join(candidates)}, {rounds} rounds each")
        t = interleaved(candidates, rounds=rounds, warmup=0)
        framed = worker.info["framed"]

    spread_n = spread.get(BLAS_ENV, "-")

    def per_second(name: str, count: int = n) -> float:
        return count / p50(t[name])

    base = per_second("loop")
    s = Section(
        NAME,
        TITLE,
        intro=(
            f"{n:,} canvas PNGs (digits 0-9, half dark ink on white, half transparent canvases), all of them per "
            f"call; the median of {rounds} calls each (one for the `{BLAS_ENV}` rows), interleaved, after a "
            "warm-up on 50 of them. "
            "`predict_batch` preprocesses each drawing, then runs the network on all of them: LiteRT one image per "
            "call, the NumPy engine 16 at a time."
        ),
        columns=["how", "images/s", "per image", "vs the per-image loop", "BLAS threads"],
    )
    rows = [
        ("loop", "**Baseline**: `[predictor.predict(png) for png in pngs]`", threads, n),
        ("batch", "`predictor.predict_batch(pngs)`", threads, n),
        ("preprocess", "&nbsp;&nbsp;split: decode + `preprocess` each", "-", n),
        ("network", f"&nbsp;&nbsp;split: network only, `probabilities` on {framed:,} framed images", threads, framed),
        ("engine_loop", "per-image loop, NumPy engine (`DIGITREC_BACKEND=numpy`)", threads, n),
        ("engine_batch", "`predict_batch`, NumPy engine", threads, n),
        (
            "spread_loop",
            f"per-image loop, NumPy engine with `{BLAS_ENV}={spread_n}` (BLAS's default threads)",
            spread_n,
            n,
        ),
        ("spread_batch", f"`predict_batch`, NumPy engine with `{BLAS_ENV}={spread_n}`", spread_n, n),
    ]
    for name, label, th, count in rows:
        if name in t:
            rate = per_second(name, count)
            s.add(
                label,
                fmt_rate(rate, " images/s"),
                fmt_ms(1 / rate),
                "1.00x (baseline)" if name == "loop" else rate_ratio(base, rate),
                th if th is not None else "?",
            )
    s.notes.append(
        "Batching saves the network's per-call overhead only: decoding and framing happen once per "
        "drawing either way (the split rows show how the time divides)."
    )
    return s
