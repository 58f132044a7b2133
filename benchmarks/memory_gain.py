"""The gain from a user's saved drawings *before* any fine-tune: the per-user memory (``digitrec.memory``).

    python -m benchmarks.memory_gain                           # the committed model, ~2 min on 2 busy cores
    python -m benchmarks.memory_gain --model runs/new.keras    # another model, measured the same way
    python -m benchmarks.memory_gain --sizes 3 --writers 1 --repeats 1 --out /tmp/m.md   # one point

Measured exactly where ``benchmarks/finetune.py`` measures fine-tuning, with its own functions: the
``test`` writers the model reads worst (``choose_writers``, on their pool), each writer's digits halved
by the same seed (``writer_halves``), the same random picks of 1, 3, 5 and 10 pool digits per class
(``pick``, repeats 0, 1, 2...), drawn as the same app canvases and saved as PNG (``canvases``), and the
writer's unseen half in every canvas rendering (``canvas_renderings``, seed 3). Instead of the two CLI
commands, the picked PNGs become a ``Memory`` (``Memory.from_drawings``), and the unseen images are read
by ``Predictor.probabilities(x, memory)``, as ``predict(image, memory=...)`` reads one drawing.

Writes a Markdown table (and its JSON beside it) and prints it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.finetune import canvas_renderings, canvases, digits_misread, measure_runs, pick, run_gain
from digitrec.data.renderings import CANVAS_RENDERINGS

SIZES = (1, 3, 5, 10)
REPEATS = 3
UNSEEN_SEED = 3  # benchmarks/finetune.py's: the same unseen images
DEFAULT_OUT = Path(__file__).resolve().parent / "memory_gain.md"


@dataclass(frozen=True)
class Saved:
    """A saved drawing as ``Memory.from_drawings`` reads it (``Store.drawings`` gives the same fields)."""

    png: bytes
    label: int


@dataclass(frozen=True)
class Unseen:
    """A writer's unseen digits in every canvas rendering, read once by the network alone."""

    framed: np.ndarray
    labels: np.ndarray
    probabilities: np.ndarray
    features: np.ndarray


def saved(pool: list, size: int, repeat: int) -> list[Saved]:
    """The fine-tune benchmark's pick, as the PNGs it saves (``finetune.save_pngs``: canvas seed ``repeat``)."""
    from digitrec.data.canvases import to_png

    chosen = pick(pool, size, repeat)
    return [Saved(to_png(c), s.label) for s, c in zip(chosen, canvases(chosen, seed=repeat), strict=True)]


def unseen_of(predictor, samples: list) -> Unseen:
    framed, labels = canvas_renderings(samples, seed=UNSEEN_SEED)
    return Unseen(framed, labels.astype(np.int64), predictor.probabilities(framed), predictor.features(framed))


def outcome(unseen: Unseen, memory) -> dict:
    """Errors on ``unseen`` before and after blending in ``memory``, and how many answers it changed."""
    before = unseen.probabilities.argmax(axis=1)
    after = memory.blend(unseen.probabilities, unseen.features).argmax(axis=1)
    wrong_before, wrong_after = before != unseen.labels, after != unseen.labels
    n = len(CANVAS_RENDERINGS)
    return {
        "unseen_images": len(unseen.labels),
        "errors_before": int(wrong_before.sum()),
        "errors_after": int(wrong_after.sum()),
        "digits_misread_before": digits_misread(wrong_before, n),
        "digits_misread_after": digits_misread(wrong_after, n),
        "fixed": int((wrong_before & ~wrong_after).sum()),
        "broken": int((~wrong_before & wrong_after).sum()),
    }


def removed(before: int, after: int) -> float | None:
    return round(1 - after / before, 3) if before else None


def summarise(runs: list[dict], writers: list[str]) -> list[dict]:
    rows = []
    for size in sorted({r["size"] for r in runs}):
        these = [r for r in runs if r["size"] == size]
        per_writer = {}
        for w in writers:
            mine = [r for r in these if r["writer"] == w]
            shares = [removed(r["errors_before"], r["errors_after"]) or 0.0 for r in mine]
            per_writer[w] = round(float(np.mean(shares)), 3)
        before, after = sum(r["errors_before"] for r in these), sum(r["errors_after"] for r in these)
        rows.append(
            {
                "size": size,
                "runs": len(these),
                "errors_before": before,
                "errors_after": after,
                "removed": removed(before, after),
                "digits_misread_before": sum(r["digits_misread_before"] for r in these),
                "digits_misread_after": sum(r["digits_misread_after"] for r in these),
                "fixed": sum(r["fixed"] for r in these),
                "broken": sum(r["broken"] for r in these),
                "removed_per_writer": per_writer,  # the mean over picks of each writer's share removed
                "removed_worst_read_writer": per_writer[writers[0]],
                "removed_least_helped_writer": min(per_writer.values()),
            }
        )
    return rows


def measure(model: str | None, sizes, n_writers: int, repeats: int, log=print) -> dict:
    from digitrec.memory import TEMPERATURE, THRESHOLD, WEIGHT, K, Memory

    def prepare(writer, halves, predictor, base):
        unseen = unseen_of(predictor, halves["unseen"])

        def run(size: int, repeat: int) -> dict:
            memory = Memory.from_drawings(predictor, saved(halves["pool"], size, repeat))
            return {"writer": writer, "size": size, "repeat": repeat, "saved": len(memory)} | outcome(unseen, memory)

        return run

    result = measure_runs(model, sizes, n_writers, repeats, prepare, log)
    return result | {
        "settings": {"k": K, "weight": WEIGHT, "threshold": THRESHOLD, "temperature": TEMPERATURE},
        "summary": summarise(result["runs"], [w for w, _ in result["writers"]]),
    }


def render_markdown(result: dict) -> str:
    m, s = result["machine"], result["settings"]
    worst = result["writers"][0][0]
    lines = [
        "# Before fine-tuning: the gain from the per-user memory",
        "",
        f"Model: `{result['model']}` (SHA-256 {result['model_sha256'][:12]}...); memory k={s['k']}, "
        f"weight {s['weight']}, threshold {s['threshold']}, temperature {s['temperature']}. Measured "
        f"{result['when']} on {m['cores']} cores, commit {m['commit']}. Command: `{result['command']}`.",
        "",
        "Writers (the test writers the model reads worst, chosen on drawings never measured): "
        + ", ".join(f"{w} ({100 * r:.1f}% wrong on its pool)" for w, r in result["writers"])
        + ".",
        "",
        "| saved per digit | runs | errors on unseen drawings, before -> after | errors removed "
        f"| removed, {worst} (mean of picks) | removed, least helped writer | drawings misread "
        "| answers fixed / broken |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in result["summary"]:
        total = "n/a" if row["removed"] is None else f"**{100 * row['removed']:.0f}%**"
        lines.append(
            f"| {row['size']} | {row['runs']} | {row['errors_before']} -> {row['errors_after']} | {total} "
            f"| {100 * row['removed_worst_read_writer']:.0f}% | {100 * row['removed_least_helped_writer']:.0f}% "
            f"| {row['digits_misread_before']} -> {row['digits_misread_after']} | {row['fixed']} / {row['broken']} |"
        )
    lines += ["", "Each run:", "", "| writer | per digit | pick | errors before -> after | fixed / broken |"]
    lines.append("| --- | ---: | ---: | ---: | ---: |")
    for r in result["runs"]:
        lines.append(
            f"| {r['writer']} | {r['size']} | {r['repeat']} | {r['errors_before']} -> {r['errors_after']} "
            f"(of {r['unseen_images']}) | {r['fixed']} / {r['broken']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    return run_gain("memory_gain", __doc__, measure, render_markdown, DEFAULT_OUT, REPEATS, argv)


if __name__ == "__main__":
    sys.exit(main())
