"""How well whole numbers read: the README's table, and the figures beside it.

    python scripts/number_accuracy.py                      # what the apps run: ~25 minutes on 2 busy cores
    python scripts/number_accuracy.py --reader learned     # the learned reader alone (segmentation: the cutting one)
    python scripts/number_accuracy.py --rows just-touching beyond --quick   # two groups, 100 numbers a row
    python scripts/number_accuracy.py --model runs/new.keras --figures docs

Numbers are composed from one held-out writer's own real digits, 2, 4, 8 and 12 of them, in four
groups of rows (``--rows``):

- ``apart``: ``digitrec.data.composed`` (height +-10%, a sloping, drifting baseline, gaps from
  nothing to a digit's width, a quarter of neighbours overlapping in x without their ink touching);
- ``just-touching``: each digit starting 2-12% of the height inside the previous box
  (``digitrec.data.lines.JUST_TOUCHING``);
- ``touching``: every neighbour pushed into the one before until their ink overlaps, as in a "00"
  written in one go (``composed`` with ``touching=True``);
- ``beyond``: each digit starting 40-50% of the height inside the previous box, deeper than the
  learned reader's training goes (``digitrec.data.lines.BEYOND``).

Each is drawn as a canvas PNG and read by ``Predictor.read_number``, as the apps read it
(``--reader shipped``: as the apps load it, the learned reader where it is installed; ``learned``:
the same, refused without a learned reader; ``segmentation``: the cutting reader alone).
"Cut right" is ``digitrec.evaluate.judge``: as many pieces as digits, each holding all of one
digit's ink and none of another's; the learned reader's pieces are column strips, so it cannot cut
digits that overlap in x right even when it reads them right. Brackets: 95% intervals. The last
line says whether a reading's confidence means what it says: its calibration error against
exactness, and how many of the readings claiming more than 90% are exact.

Counts: 1,000 numbers a row of 2 and 4 digits, 500 of 8 and 12 (``--count`` sets every row,
``--quick`` 100, ~5 minutes): composing and reading a 12-digit number takes about 7 times as
long as a 2-digit one (0.9 s against 0.13 s for the four groups, 2 busy cores), so the long rows
would take most of the run, and their rates, far from 50%, need fewer numbers for a tight
interval. Re-run it after training a new model: the figures move with the model, the numbers
stay the same.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from digitrec import Predictor
from digitrec.calibrate import calibration_error
from digitrec.card import trained_writers
from digitrec.data.composed import HEIGHT, PEN_PX, by_writer
from digitrec.data.handwriting import load_handwriting, split
from digitrec.data.lines import BEYOND, JUST_TOUCHING
from digitrec.data.renderings import draw_sample
from digitrec.evaluate.reading import Outcome, measure, wilson
from digitrec.present import overlay


@dataclass(frozen=True)
class Group:
    """A kind of row: how its numbers are written (``measure``'s options) and what the table calls it."""

    label: str
    seed: int  # added to --seed and the length, so every row deals numbers of its own
    options: dict = field(default_factory=dict)


GROUPS = {  # --rows names them; "inside": how far each digit starts inside the previous box, in digit heights
    "apart": Group("apart", 0),
    "just-touching": Group("just touching (2-12% inside)", 100, {"style": JUST_TOUCHING}),
    "touching": Group("every neighbour touching", 0, {"touching": True}),
    "beyond": Group("beyond training (40-50% inside)", 200, {"style": BEYOND}),
}
COUNTS = {2: 1000, 4: 1000, 8: 500, 12: 500}  # numbers a row, by length (module docstring)
READERS = ("shipped", "learned", "segmentation")
SURE = 0.9  # the calibration line's "claiming more than 90%"


def pct(k: int, n: int) -> str:
    lo, hi = wilson(k, n)
    return f"{k / n:.1%} ({lo:.1%}-{hi:.1%})"


def load(model: str | None, reader: str) -> Predictor:
    """The predictor reading numbers as ``reader`` says (module docstring)."""
    if reader == "segmentation":
        return Predictor.load(model, number_reader=False)
    predictor = Predictor.load(model)
    if reader == "learned" and predictor.line_reader is None:
        raise SystemExit(f"--reader learned: no learned reader ({predictor.number_reader_note})")
    return predictor


def single_digits(predictor: Predictor, samples: list) -> float:
    """The same writers' digits one at a time, centred on a 280x280 canvas: what numbers are built from."""
    rng = np.random.default_rng(0)
    canvases = [draw_sample(s, "centred", rng) for s in samples]
    return float(np.mean([p.digit == s.label for p, s in zip(predictor.predict_batch(canvases), samples, strict=True)]))


def calibration(outcomes: list[Outcome]) -> str:
    """How far a reading's confidence is from the share of such readings that are exact."""
    confidence = np.array([o.reading.confidence for o in outcomes])
    exact = np.array([o.exact for o in outcomes])
    sure = confidence > SURE
    claims = (
        f"of the {sure.sum():,} claiming > {SURE:.0%}, {pct(int(exact[sure].sum()), int(sure.sum()))} exact"
        if sure.any()
        else f"none claims > {SURE:.0%}"
    )
    return f"number confidence: calibration error (ECE) {calibration_error(confidence, exact):.3f} over {len(outcomes):,} readings; {claims}"  # noqa: E501


def figure(outcomes: list, out: Path, title: str, limit: int = 12) -> None:
    """The numbers, each digit's ink in its piece's colour, its box and reading; truth in the title."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = outcomes[:limit]
    cols = 2
    rows = max(1, -(-len(shown) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 4.2, rows * 1.7 + 0.5), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, o in zip(axes.flat, shown, strict=False):
        ax.imshow(overlay(o.number.image, o.reading))
        verdict = "cut right" if o.segmented else "cut wrong"
        ax.set_title(
            f"{o.number.text} read {o.reading.text or '(nothing)'}: {verdict}",
            fontsize=9,
            color="black" if o.exact and o.segmented else "firebrick",
        )
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", help="model file (default: $DIGITREC_MODEL or models/digit_recognizer.keras)")
    ap.add_argument("--reader", choices=READERS, default="shipped", help="how numbers are read (as the apps)")
    ap.add_argument("--rows", nargs="+", choices=GROUPS, default=list(GROUPS), help="the groups of rows (all)")
    ap.add_argument("--writers", choices=("test", "validation"), default="test", help="held-out writers (test)")
    ap.add_argument("--count", type=int, help="numbers in every row (default 1,000 for 2 and 4 digits, 500 for 8, 12)")
    ap.add_argument("--quick", action="store_true", help="100 numbers a row")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--figures", type=Path, help="write numbers.png and numbers_touching.png into this folder")
    args = ap.parse_args(argv)
    if args.figures and not {"apart", "touching"} <= set(args.rows):
        ap.error("--figures draws the apart and touching rows: keep them in --rows")
    if args.count is not None and args.count < 1:
        ap.error("--count must be at least 1")
    counts = {n: 100 if args.quick else args.count or c for n, c in COUNTS.items()}

    predictor = load(args.model, args.reader)
    samples = split(load_handwriting())[args.writers]
    reader_card = predictor.line_reader.card if predictor.line_reader else None
    leaked = {s.writer for s in samples} & (trained_writers(predictor.card) | trained_writers(reader_card))
    if leaked:
        raise SystemExit(f"the model trained on {len(leaked)} of these writers: report on writers it never saw")
    writers = by_writer(samples)
    reader = f"{predictor.number_reader} ({predictor.line_reader.path})" if predictor.line_reader else "segmentation"
    print(
        f"model {predictor.path.name} ({predictor.backend}), --reader {args.reader}: {reader}; "
        f"{len(writers)} {args.writers} writers, digits {HEIGHT} px tall, {PEN_PX:g} px pen; "
        f"numbers a row: {', '.join(f'{c:,} of {n}' for n, c in counts.items())} digits; seed {args.seed}\n"
    )
    print("| numbers | cut right | read exactly | `read_number` p50 |")
    print("| --- | ---: | ---: | ---: |")
    kept = {}
    for name in args.rows:
        group = GROUPS[name]
        for length, count in counts.items():
            seed = args.seed + group.seed + length
            outcomes = measure(predictor, samples, length, count, seed=seed, **group.options)
            kept[(name, length)] = outcomes
            cut = sum(o.segmented for o in outcomes)
            exact = sum(o.exact for o in outcomes)
            p50 = 1000 * float(np.median([o.seconds for o in outcomes]))
            row = f"{length} digits, {group.label}"
            print(f"| {row} | {pct(cut, count)} | {pct(exact, count)} | {p50:.1f} ms |", flush=True)
    own = [s for w in writers.values() for s in w]
    print(f"| 1 digit, each of these writers' {len(own):,} digits alone | | {single_digits(predictor, own):.1%} | |")
    print("\n" + calibration([o for outcomes in kept.values() for o in outcomes]))
    if args.figures:
        clean = kept[("apart", 4)]
        wrong = sorted((o for o in clean if not (o.exact and o.segmented)), key=lambda o: o.segmented)
        cut_wrong = sum(not o.segmented for o in clean)
        figure(
            clean[:4] + wrong[:8],
            args.figures / "numbers.png",
            f"4-digit numbers by {args.writers} writers: the first four, then mistakes, cut wrong first "
            f"({len(wrong)} of {len(clean)}, {cut_wrong} cut wrong; red)",
        )
        touching = kept[("touching", 2)] + kept[("touching", 4)]
        failures = [o for o in touching if not o.exact]
        figure(
            touching[:4] + failures[:8],
            args.figures / "numbers_touching.png",
            f"every neighbour touching (2 and 4 digits): the first four, then the misread "
            f"({len(failures)} of {len(touching)}; red)",
        )
        print(f"\nwrote {args.figures / 'numbers.png'} and {args.figures / 'numbers_touching.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
