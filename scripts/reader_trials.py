"""Choose how ``read_number`` combines its two readers, on the VALIDATION writers' numbers.

    python -m scripts.reader_trials                 # 300 numbers a row: about 15 minutes on 2 cores
    python -m scripts.reader_trials --count 50      # a quick look

What decided that the learned reader replaces the cutting one (README, Whole numbers): with 200 numbers
a row it read 89.0% of them exactly, the cutting reader 51.3%, and the best rule combining them by
confidence 88.3% (trust 0.5), as the cutting reader's confidence is far from calibrated (ECE 35%).

Each number (digits apart, just touching, every neighbour touching; 2, 4 and 8 digits; composed from the
validation writers of ``digitrec.data.handwriting.split``, never the test writers the README reports) is
read once by the learned reader and once by the cutting reader. Every rule is then scored on the same
readings: the cutting reader alone, the learned reader alone, and the shipped rule at each trust
threshold (a learned reading at least that sure stands; a less sure one against the cutting reader's,
the surer wins); and, as a variant, the learned reader's boxes with each digit's probabilities
multiplied by the digit network's on its framed ink. Prints read-exactly per row and overall, and the
chosen rule's calibration (ECE; of readings claiming more than 90%, the share exact); ``--json`` keeps
every reading.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from digitrec import Predictor
from digitrec.calibrate import calibration_error
from digitrec.data.canvases import to_png
from digitrec.data.composed import deal
from digitrec.data.handwriting import load_handwriting, split
from digitrec.data.lines import JUST_TOUCHING, deal_lines
from digitrec.segment.learned import greedy, text_probability

THRESHOLDS = (0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 1.01)  # 1.01: always weighed against the cutting reader
GROUPS = ("apart", "just touching", "every neighbour touching")
LENGTHS = (2, 4, 8)


def numbers(samples, group: str, length: int, count: int, seed: int):
    """The numbers of one row, as ``scripts/number_accuracy.py`` deals them."""
    if group == "just touching":
        return deal_lines(samples, count, seed, JUST_TOUCHING, length=length)
    return deal(samples, length, count, seed, touching=group == "every neighbour touching")


def read_both(predictor: Predictor, cutter: Predictor, image) -> dict:
    """One number read by each reader: the texts, and how sure each is."""
    png = to_png(image)
    seg, frames = predictor.line_reader.read(png)
    learned = predictor._learned_reading(png, seg, frames, None)  # what read_number answers, without reading again
    sure = text_probability(frames, [s.digit for s in greedy(frames)])  # the learned reader's own sureness
    cut = cutter.read_number(png)
    # A variant: each learned digit's probabilities times the digit network's on its framed ink.
    net = predictor.probabilities(np.stack([piece.framed for piece in seg.pieces])) if seg.pieces else np.ones((0, 10))
    both = "".join(str(int(np.argmax(piece.probabilities * q))) for piece, q in zip(seg.pieces, net, strict=True))
    if len(seg.pieces) == 1:
        both = learned.text  # one digit: predict's answer either way
    return {"learned": learned.text, "sure": sure, "learned_confidence": learned.confidence,
            "cut": cut.text, "cut_confidence": cut.confidence, "learned_x_net": both}  # fmt: skip


def combined(r: dict, trust: float) -> tuple[str, float]:
    """The shipped rule at ``trust``: the text it answers and the confidence it reports."""
    if r["sure"] >= trust or r["sure"] >= r["cut_confidence"]:
        return r["learned"], r["learned_confidence"]
    return r["cut"], r["cut_confidence"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=300, help="numbers a row (300)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, help="write every reading here")
    args = ap.parse_args(argv)

    predictor = Predictor.load()
    if predictor.line_reader is None:
        raise SystemExit(f"no learned reader: {predictor.number_reader_note}")
    cutter = Predictor.load(number_reader=False)
    samples = split(load_handwriting())["validation"]
    rows = {}
    for group in GROUPS:
        for length in LENGTHS:
            row = []
            for number in numbers(samples, group, length, args.count, args.seed + length):
                row.append({"truth": number.text, **read_both(predictor, cutter, number.image)})
            rows[f"{length} digits, {group}"] = row
            print(f"read {length} digits, {group}", file=sys.stderr, flush=True)

    rules = {"cutting alone": lambda r: (r["cut"], r["cut_confidence"]),
             "learned alone": lambda r: (r["learned"], r["learned_confidence"]),
             "learned x digit net": lambda r: (r["learned_x_net"], r["learned_confidence"])}  # fmt: skip
    rules.update({f"trust {t:g}": (lambda r, t=t: combined(r, t)) for t in THRESHOLDS})
    every = [r for row in rows.values() for r in row]
    print("| rule | " + " | ".join(rows) + " | all |")
    print("| --- |" + " ---: |" * (len(rows) + 1))
    for name, rule in rules.items():
        cells = [np.mean([rule(r)[0] == r["truth"] for r in row]) for row in rows.values()]
        overall = np.mean([rule(r)[0] == r["truth"] for r in every])
        print(f"| {name} | " + " | ".join(f"{c:.1%}" for c in cells) + f" | **{overall:.2%}** |")
    print()
    for name, rule in rules.items():
        answers = [rule(r) for r in every]
        exact = np.array([a == r["truth"] for (a, _), r in zip(answers, every, strict=True)])
        sure = np.array([c for _, c in answers])
        over = sure > 0.9
        share = f"{exact[over].mean():.1%} of {over.sum()}" if over.any() else "none"
        print(f"{name}: ECE {calibration_error(sure, exact):.2%}; exact among readings claiming > 90%: {share}")
    if args.json:
        args.json.write_text(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
