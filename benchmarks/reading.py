"""7. Whole numbers: ``read_number`` on an 840x280 canvas PNG holding 4 or 12 digits.

Baseline: ``predict`` on one 280x280 canvas, timed in the same worker, in turns. Two sets of numbers:

- synthetic pen digits (``digitrec.data.synth``, every style) written in a row by
  ``digitrec.data.composed`` with a person's jitter (height, drifting baseline, gaps, overlapping
  x-extents), 150 px tall with an 11 px pen, dark ink on white and ink in the alpha channel of a
  transparent canvas: the figure this part has always given;
- real digits of the test writers, 4 and 12 of them, composed as ``scripts/number_accuracy.py``
  composes its apart rows (64 px tall, 5 px pen), read by each reader there is: as shipped (the
  learned reader, where it is installed) and the cutting reader alone. Without
  ``models/number_reader.tflite`` (or ``$DIGITREC_NUMBER_READER``) the apps run the cutting
  reader alone, and only its rows are timed. The targets are these rows' as shipped.

All in the middle of the wide canvas the Flask page's number mode and the Gradio number pad send.
"""

from __future__ import annotations

import numpy as np

from benchmarks.canvases import canvases
from benchmarks.context import Context, log
from benchmarks.formats import fmt_ms, speedup
from benchmarks.report import Section, Target
from benchmarks.stats import p50, p90, p99
from benchmarks.timing import Candidate, interleaved
from benchmarks.worker import Worker
from digitrec.preprocess import NUMBER_CANVAS

NAME = "numbers"  # the part's name (`--only numbers`); the module is named for what it times
TITLE = "7. Whole numbers: `read_number`"
TARGET_P50 = {4: 0.010, 12: 0.025}  # seconds, for numbers of test writers' digits on an 840x280 canvas, as shipped
CASES = 20  # ten numbers in each of two looks; as many of each length by test writers
LOOKS = ("dark_on_light", "transparent")
SIZE = NUMBER_CANVAS
LENGTHS = (4, 12)  # the test writers' numbers
READERS = {  # how read_number reads (as scripts/number_accuracy.py --reader names them): the row's words
    "shipped": "as shipped (the learned reader where it is installed)",
    "segmentation": "the cutting reader alone (`number_reader=False`)",
}


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


def writers_numbers(length: int, n: int = CASES, seed: int = 0) -> list[tuple[str, bytes]]:
    """``n`` 840x280 canvas PNGs of ``length`` digits by the test writers, as (text, png): the first
    numbers ``digitrec.data.composed.deal`` deals that fit the canvas (about 3 in 4 of 12 digits do)."""
    from itertools import islice

    from digitrec.data.canvases import to_png
    from digitrec.data.composed import deal, on_canvas
    from digitrec.data.handwriting import load_handwriting, split

    def fitted(numbers):
        for number in numbers:
            try:
                yield number.text, to_png(on_canvas(number, SIZE).image)
            except ValueError:  # wider than the canvas
                continue

    return list(islice(fitted(deal(split(load_handwriting())["test"], length, 10 * n, seed)), n))


def predictors():
    """The readers there are (``READERS``), each a predictor as the apps load it."""
    from digitrec import Predictor

    shipped = Predictor.load()
    if shipped.line_reader is None:
        return {"segmentation": shipped}
    return {"shipped": shipped, "segmentation": Predictor.load(number_reader=False)}


def kit(ctx: Context):
    """Runs in a worker without TensorFlow: the predictors as the apps load them."""
    readers = predictors()
    p = next(iter(readers.values()))  # as shipped
    wide = numbers()
    single = canvases(CASES)
    real = {length: writers_numbers(length) for length in LENGTHS}
    n, n_real = ctx.n(1000, 5), ctx.n(500, 3)
    candidates = {
        "digit": Candidate(lambda i: p.predict(single[i % CASES][2]), n),
        "number": Candidate(lambda i: p.read_number(wide[i % CASES][2]), n),
    }
    right = {
        "digit": sum(p.predict(png).digit == d for d, _how, png in single),
        "number": sum(p.read_number(png).text == text for text, _how, png in wide),
    }
    for name, reader in readers.items():
        for length, cases in real.items():
            key = f"{name}-{length}"
            candidates[key] = Candidate(lambda i, r=reader, c=cases: r.read_number(c[i % len(c)][1]), n_real)
            right[key] = sum(reader.read_number(png).text == text for text, png in cases)
    line_reader = p.line_reader.path.name if p.line_reader else None
    return candidates, {"right": right, "backend": p.backend, "readers": list(readers), "line_reader": line_reader}


def run(ctx: Context) -> Section:
    log("numbers: a worker reads 840x280 numbers and 280x280 digits in turns")
    canvases(CASES)  # made here once; the worker reads them from the run's cache
    n, n_real = ctx.n(1000, 5), ctx.n(500, 3)
    with Worker("benchmarks.reading:kit", ctx) as worker:
        info = worker.info
        names = ["digit", "number"] + [f"{r}-{length}" for r in info["readers"] for length in LENGTHS]
        candidates = {name: worker.candidate(name, n if name in ("digit", "number") else n_real) for name in names}
        t = interleaved(candidates, rounds=ctx.n(10, 1))
    right, readers = info["right"], info["readers"]
    looks = [how for _text, how, _png in numbers()]
    base = p50(t["digit"])
    shipped = (
        f"the learned reader `{info['line_reader']}`"
        if info["line_reader"]
        else "the cutting reader (no number reader file)"
    )
    s = Section(
        NAME,
        TITLE,
        intro=(
            f"`Predictor.read_number` on canvas PNGs of 840x280, beside `Predictor.predict` on one 280x280 canvas: "
            f"{CASES} numbers of four synthetic pen digits in a row, with a person's jitter, then {CASES} of 4 and "
            f"{CASES} of 12 real digits by the test writers (`benchmarks/reading.py`), read as shipped ({shipped})"
            + (" and by the cutting reader alone" if len(readers) > 1 else "")
            + f"; {n:,} calls for the digit and the synthetic numbers, {n_real:,} for each other row, in "
            f"{ctx.n(10, 1)} interleaved rounds, in one worker process without TensorFlow "
            f"(`{info['backend']}` backend)."
        ),
        columns=["path", "p50", "p90", "p99", "vs one digit (p50)", f"read right (of {CASES})"],
    )

    def row(label: str, times: list[float], right_count: object = "") -> None:
        s.add(label, fmt_ms(p50(times)), fmt_ms(p90(times)), fmt_ms(p99(times)), speedup(base, p50(times)), right_count)

    s.add(
        "**Baseline**: `Predictor.predict`, one digit on a 280x280 canvas",
        fmt_ms(base),
        fmt_ms(p90(t["digit"])),
        fmt_ms(p99(t["digit"])),
        "1.0x (baseline)",
        right["digit"],
    )
    row("`Predictor.read_number`, four synthetic digits on an 840x280 canvas", t["number"], right["number"])
    for how, label in (("dark_on_light", "dark ink on white"), ("transparent", "transparent canvas (Flask page)")):
        row(f"&nbsp;&nbsp;of which: {label}", [x for i, x in enumerate(t["number"]) if looks[i % CASES] == how])
    for name in readers:
        for length in LENGTHS:
            key = f"{name}-{length}"
            row(f"`read_number`, {length} digits by test writers, {READERS[name]}", t[key], right[key])
    s.notes.append(
        "Per digit, the cutting reader costs about what one digit does: each piece goes through the same framing "
        "(`preprocess.frame`) and the network; segmentation adds the rest (decoding the wider PNG, labelling "
        "its marks, and the groupings the network is asked to choose between). The learned reader runs its own "
        "network once over the whole line, whatever its length, and frames each digit it read for the apps to show "
        "and save, without the digit network (a reading of one digit is `predict`'s answer)."
    )
    s.notes.append(
        "The test writers' numbers are written as `scripts/number_accuracy.py` writes its rows of digits apart; "
        "12 digits at that size overflow 840 pixels about one time in four, and those are left out."
    )
    first = readers[0]  # as shipped
    for length in LENGTHS:
        measured = p50(t[f"{first}-{length}"])
        goal = TARGET_P50[length]
        what = {4: "Four", 12: "Twelve"}[length]
        s.targets.append(
            Target(f"{what}-digit number in process, p50", f"<= {fmt_ms(goal)}", fmt_ms(measured), measured <= goal)
        )
    return s
