"""Draw docs/mistakes.png: what the committed model still misreads, on writers it never saw.

    python scripts/mistakes_gallery.py [--writers test] [--out docs/mistakes.png] [--limit N]

Every held-out digit is drawn centred on a 280x280 canvas (the way a browser records it) and read
through ``Predictor``; the mistakes are shown as drawn, with the answer and its confidence, the
most confident mistakes first.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from digitrec import Predictor
from digitrec.data.handwriting import load_handwriting, split
from digitrec.data.renderings import draw_sample
from digitrec.present import format_percent

ROOT = Path(__file__).resolve().parent.parent

COLUMNS = 10


def mistakes(predictor: Predictor, samples: list, seed: int = 0) -> list[tuple]:
    """(canvas, sample, prediction) for every misread sample, the most confident first."""
    rng = np.random.default_rng(seed)
    canvases = [draw_sample(s, "centred", rng) for s in samples]
    wrong = [
        (c, s, p)
        for c, s, p in zip(canvases, samples, predictor.predict_batch(canvases), strict=False)
        if p.digit != s.label
    ]
    return sorted(wrong, key=lambda m: -m[2].confidence)


def draw(wrong: list[tuple], total: int, out: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = max(1, -(-len(wrong) // COLUMNS))
    fig, axes = plt.subplots(rows, COLUMNS, figsize=(COLUMNS * 1.3, rows * 1.55 + 0.6), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, (canvas, sample, pred) in zip(axes.flat, wrong, strict=False):
        ax.imshow(canvas)
        ax.set_title(
            f"{sample.label} read {pred.digit}\n{format_percent(pred.confidence)}",
            fontsize=8,
            color="firebrick" if pred.confidence > 0.9 else "black",
        )
    fig.suptitle(f"{title}: {len(wrong)} of {total} misread (red: claimed over 90%)", fontsize=10)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=80)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--writers", choices=("test", "validation"), default="test")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "mistakes.png")
    ap.add_argument("--limit", type=int, help="read only the first N digits (for a quick look)")
    ap.add_argument("--model", help="model file (default: $DIGITREC_MODEL or the committed model)")
    args = ap.parse_args(argv)
    samples = split(load_handwriting())[args.writers][: args.limit]
    wrong = mistakes(Predictor.load(args.model), samples)
    draw(wrong[:60], len(samples), args.out, f"Centred drawings by {args.writers} writers the model never saw")
    print(f"saved {args.out}: {len(wrong)} mistakes in {len(samples)} digits")
    return 0


if __name__ == "__main__":
    sys.exit(main())
