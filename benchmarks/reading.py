"""7. Whole numbers: ``read_number`` on an 840x280 canvas PNG holding four digits.

Baseline: ``predict`` on one 280x280 canvas, timed in the same worker, in turns. The numbers are
synthetic pen digits (``digitrec.data.synth``, every style) written in a row by ``digitrec.data.composed`` with
a person's jitter (height, drifting baseline, gaps, overlapping x-extents), 150 px tall with an
11 px pen, in the middle of the wide canvas the Flask page's number mode and the Gradio number pad
send: dark ink on white and ink in the alpha channel of a transparent canvas.
"""

from __future__ import annotations

import numpy as np

from benchmarks.canvases import canvases
from benchmarks.context import Context, log
from benchmarks.formats import fmt_ms, speedup
from benchmarks.report import Section, Target
from benchmarks.stats import p50, p99
from benchmarks.timing import Candidate, interleaved
from benchmarks.worker import Worker
from digitrec.preprocess import NUMBER_CANVAS

NAME = "numbers"  # the part's name (`--only numbers`); the module is named for what it times
TITLE = "7. Whole numbers: `read_number`"
TARGET_P50 = 0.010  # seconds, for four digits on an 840x280 canvas
CASES = 20  # ten numbers in each of two looks
LOOKS = ("dark_on_light", "transparent")
SIZE = NUMBER_CANVAS


def numbers(n: int = CASES, seed: int = 0) -> list[tuple[str, str, bytes]]:
    """``n`` 840x280 canvas PNGs holding four digits, as (text, look, png); deterministic."""
    from digitrec.data.canvases import to_png
    from digitrec.data.composed import compose, on_canvas
    from digitrec.data.synth import digit_strokes

    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        text = "".join(str(d) for d in rng.integers(0, 10, 4))
        strokes = [digit_strokes(int(d), rng) for d in text]
        look = LOOKS[i % len(LOOKS)]
        number = compose(strokes, rng, text=text, height=150, pen_px=11, slope=0.0, look=look)
        out.append((text, look, to_png(on_canvas(number, SIZE).image)))
    return out


def kit(ctx: Context):
    """Runs in a worker without TensorFlow: the predictor as the apps load it."""
    from digitrec import Predictor

    p = Predictor.load()
    wide = numbers()
    single = canvases(CASES)
    n = ctx.n(1000, 5)
    candidates = {
        "digit": Candidate(lambda i: p.predict(single[i % CASES][2]), n),
        "number": Candidate(lambda i: p.read_number(wide[i % CASES][2]), n),
    }
    right = {
        "digit": sum(p.predict(png).digit == d for d, _how, png in single),
        "number": sum(p.read_number(png).text == text for text, _how, png in wide),
    }
    return candidates, {"right": right, "backend": p.backend}


def run(ctx: Context) -> Section:
    log("numbers: a worker reads 840x280 numbers and 280x280 digits in turns")
    canvases(CASES)  # made here once; the worker reads them from the run's cache
    n = ctx.n(1000, 5)
    with Worker("benchmarks.reading:kit", ctx) as worker:
        candidates = {name: worker.candidate(name, n) for name in ("digit", "number")}
        t = interleaved(candidates, rounds=ctx.n(10, 1))
        right, backend = worker.info["right"], worker.info["backend"]
    looks = [how for _text, how, _png in numbers()]
    base = p50(t["digit"])
    s = Section(
        NAME,
        TITLE,
        intro=(
            f"`Predictor.read_number` on {CASES} canvas PNGs of 840x280 holding four digits (synthetic pen digits in "
            "a row, with a person's jitter: `benchmarks/reading.py`), beside `Predictor.predict` on one 280x280 "
            f"canvas; {n:,} calls each, in {ctx.n(10, 1)} interleaved rounds, in one worker process without "
            f"TensorFlow (`{backend}` backend)."
        ),
        columns=["path", "p50", "p99", "vs one digit (p50)", f"read right (of {CASES})"],
    )
    s.add(
        "**Baseline**: `Predictor.predict`, one digit on a 280x280 canvas",
        fmt_ms(base),
        fmt_ms(p99(t["digit"])),
        "1.0x (baseline)",
        right["digit"],
    )
    number = p50(t["number"])
    s.add(
        "`Predictor.read_number`, four digits on an 840x280 canvas",
        fmt_ms(number),
        fmt_ms(p99(t["number"])),
        speedup(base, number),
        right["number"],
    )
    for how, label in (("dark_on_light", "dark ink on white"), ("transparent", "transparent canvas (Flask page)")):
        sub = [x for i, x in enumerate(t["number"]) if looks[i % CASES] == how]
        s.add(f"&nbsp;&nbsp;of which: {label}", fmt_ms(p50(sub)), fmt_ms(p99(sub)), speedup(base, p50(sub)), "")
    s.notes.append(
        "Per digit, a number costs about what one digit does: each piece goes through the same framing "
        "(`preprocess.frame`) and the network; segmentation adds the rest (decoding the wider PNG, labelling "
        "its marks, and the groupings the network is asked to choose between)."
    )
    s.targets.append(
        Target("Four-digit number in process, p50", f"<= {fmt_ms(TARGET_P50)}", fmt_ms(number), number <= TARGET_P50)
    )
    return s
