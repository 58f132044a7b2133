"""How well whole numbers read: the README's table, and the figures beside it.

    python scripts/number_accuracy.py                       # the committed model, 1,000 numbers a row
    python scripts/number_accuracy.py --model runs/new.keras --figures docs
    python scripts/number_accuracy.py --quick               # 100 numbers a row: a minute

Numbers are composed from one held-out writer's own real digits (``digitrec.data.composed``: height +-10%,
a sloping, drifting baseline, gaps from nothing to a digit's width, a quarter of neighbours
overlapping in x without touching), drawn as a canvas PNG and read by ``Predictor.read_number``,
as the apps read them. "Cut right" is ``digitrec.data.composed.judge``: as many pieces as digits, each
holding all of one digit's ink and none of another's. Brackets: 95% intervals. The touching rows
push every digit into the one before until their ink overlaps, as in a "00" written in one go.
Re-run it after training a new model: the figures move with the model, the numbers stay the same.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from digitrec import Predictor
from digitrec.card import trained_writers
from digitrec.data.composed import HEIGHT, PEN_PX, by_writer
from digitrec.data.handwriting import load_handwriting, split
from digitrec.data.lines import JUST_TOUCHING
from digitrec.data.renderings import draw_sample
from digitrec.evaluate.reading import measure, wilson
from digitrec.present import overlay

ROWS = [  # (digits, touching)
    (2, False),
    (4, False),
    (8, False),
    (2, True),
    (4, True),
]
JUST_TOUCHING_ROWS = (2, 4, 8, 12)  # digits each starting 2-12% of the height inside the previous box


def pct(k: int, n: int) -> str:
    lo, hi = wilson(k, n)
    return f"{k / n:.1%} ({lo:.1%}-{hi:.1%})"


def single_digits(predictor: Predictor, samples: list) -> float:
    """The same writers' digits one at a time, centred on a 280x280 canvas: what numbers are built from."""
    rng = np.random.default_rng(0)
    canvases = [draw_sample(s, "centred", rng) for s in samples]
    return float(np.mean([p.digit == s.label for p, s in zip(predictor.predict_batch(canvases), samples, strict=True)]))


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
    ap.add_argument("--writers", choices=("test", "validation"), default="test", help="held-out writers (test)")
    ap.add_argument("--count", type=int, default=1000, help="numbers per row (default 1000)")
    ap.add_argument("--quick", action="store_true", help="100 numbers per row")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--figures", type=Path, help="write numbers.png and numbers_touching.png into this folder")
    args = ap.parse_args(argv)
    count = 100 if args.quick else args.count

    predictor = Predictor.load(args.model)
    samples = split(load_handwriting())[args.writers]
    reader_card = predictor.line_reader.card if predictor.line_reader else None
    leaked = {s.writer for s in samples} & (trained_writers(predictor.card) | trained_writers(reader_card))
    if leaked:
        raise SystemExit(f"the model trained on {len(leaked)} of these writers: report on writers it never saw")
    writers = by_writer(samples)
    print(
        f"model {predictor.path.name} ({predictor.backend}), number reader: {predictor.number_reader}; "
        f"{len(writers)} {args.writers} writers, "
        f"digits {HEIGHT} px tall, {PEN_PX:g} px pen; {count:,} numbers a row, seed {args.seed}\n"
    )
    print("| numbers | cut right | read exactly | `read_number` p50 |")
    print("| --- | ---: | ---: | ---: |")
    kept = {}
    for length, touching in ROWS:
        outcomes = measure(predictor, samples, length, count, seed=args.seed + length, touching=touching)
        kept[(length, touching)] = outcomes
        cut = sum(o.segmented for o in outcomes)
        exact = sum(o.exact for o in outcomes)
        p50 = 1000 * float(np.median([o.seconds for o in outcomes]))
        name = f"{length} digits" + (", every neighbour touching" if touching else "")
        print(f"| {name} | {pct(cut, count)} | {pct(exact, count)} | {p50:.1f} ms |", flush=True)
    for length in JUST_TOUCHING_ROWS:
        outcomes = measure(predictor, samples, length, count, seed=args.seed + 100 + length, style=JUST_TOUCHING)
        exact = sum(o.exact for o in outcomes)
        p50 = 1000 * float(np.median([o.seconds for o in outcomes]))
        name = f"{length} digits, just touching (2-12% of the height inside)"
        print(f"| {name} | {pct(sum(o.segmented for o in outcomes), count)} | {pct(exact, count)} | {p50:.1f} ms |")
    own = [s for w in writers.values() for s in w]
    print(f"| 1 digit, each of these writers' {len(own):,} digits alone | | {single_digits(predictor, own):.1%} | |")
    if args.figures:
        clean = kept[(4, False)]
        wrong = sorted((o for o in clean if not (o.exact and o.segmented)), key=lambda o: o.segmented)
        cut_wrong = sum(not o.segmented for o in clean)
        figure(
            clean[:4] + wrong[:8],
            args.figures / "numbers.png",
            f"4-digit numbers by {args.writers} writers: the first four, then mistakes, cut wrong first "
            f"({len(wrong)} of {len(clean)}, {cut_wrong} cut wrong; red)",
        )
        touching = kept[(2, True)] + kept[(4, True)]
        failures = [o for o in touching if not o.exact]
        figure(
            failures[:12],
            args.figures / "numbers_touching.png",
            f"touching digits misread: {len(failures)} of {len(touching)} (2 and 4 digits)",
        )
        print(f"\nwrote {args.figures / 'numbers.png'} and {args.figures / 'numbers_touching.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
