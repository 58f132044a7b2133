"""The gain from a user's saved drawings, measured on real writers the model never saw.

    python -m benchmarks.finetune                         # the committed model; ~30-60 min on 2 busy cores
    python -m benchmarks.finetune --model runs/new.keras  # re-measure another model the same way
    python -m benchmarks.finetune --sizes 3 --writers 1 --repeats 1 --out /tmp/g.md   # one point

How (the same for every model, so the lead can re-run it on a new one):

1. The ``test`` writers of ``digitrec.data.handwriting.split`` with at least 20 digits of every class.
   Each writer's digits are cut in two, per class, by a fixed seed: a *pool* the user could have
   saved, and *unseen* digits that are only ever measured.
2. The writers the model reads worst are chosen on their pool (every canvas rendering of
   ``digitrec.evaluate``), never on what is measured.
3. For each size (1, 3, 5, 10 per digit) and repeat, that many pool digits per class are picked at
   random, drawn as an app's canvas (``evaluate.draw_sample``, "centred": a 280x280 canvas, a
   12 px pen) and written as ``DIR/<digit>/<n>.png``; then, through the two CLI commands a user runs,
   ``python -m digitrec drawings import DIR --db STORE --user W`` and
   ``python -m digitrec finetune --db STORE --user W --out M.keras``.
4. Measured: the writer's unseen digits in every canvas rendering, through ``Predictor.load(M)``
   like the apps (errors before and after), MNIST test (from ``finetune``'s report) and the seconds
   ``finetune`` took.

Writes a Markdown table (and its JSON beside it) and prints it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from benchmarks.machine import load_average, machine, now
from digitrec.data.renderings import CANVAS_RENDERINGS
from tests.harness.processes import PYTHON, ROOT, child_env

SIZES = (1, 3, 5, 10)
SPLIT_SEED = 1  # which half of each writer's digits is the pool: fixed, so every model meets the same split
MIN_PER_DIGIT = 20
DEFAULT_OUT = Path(__file__).resolve().parent / "finetune.md"


def writer_halves(samples: list, seed: int = SPLIT_SEED) -> dict[str, dict[str, list]]:
    """Writer -> {"pool": [...], "unseen": [...]}: half of each class each, for writers with enough digits."""
    by_writer: dict[str, list] = defaultdict(list)
    for s in samples:
        by_writer[s.writer].append(s)
    out = {}
    rng = np.random.default_rng(seed)
    for writer in sorted(by_writer):
        digits = by_writer[writer]
        labels = np.array([s.label for s in digits])
        if np.bincount(labels, minlength=10).min() < MIN_PER_DIGIT:
            continue
        pool, unseen = [], []
        for d in range(10):
            idx = rng.permutation(np.flatnonzero(labels == d))
            pool += [digits[i] for i in idx[: len(idx) // 2]]
            unseen += [digits[i] for i in idx[len(idx) // 2 :]]
        out[writer] = {"pool": pool, "unseen": unseen}
    return out


def errors(predictor, framed: np.ndarray, labels: np.ndarray) -> int:
    return int(wrong(predictor, framed, labels).sum())


def wrong(predictor, framed: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return predictor.probabilities(framed).argmax(axis=1) != labels


def digits_misread(mistakes: np.ndarray, renderings: int) -> int:
    """How many of the drawings are misread in at least one rendering (``canvas_renderings`` lays them
    out rendering by rendering): the errors come in runs, one drawing misread in all six."""
    return int(mistakes.reshape(renderings, -1).any(axis=0).sum())


def canvas_renderings(samples: list, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from digitrec.data.renderings import framed_renderings

    return framed_renderings(samples, seed=seed, renderings=CANVAS_RENDERINGS)


def pick(pool: list, size: int, repeat: int) -> list:
    """``size`` random pool digits per class: what the user saved (``repeat``: which random pick)."""
    rng = np.random.default_rng(1000 * size + repeat)
    labels = np.array([s.label for s in pool])
    return [pool[i] for d in range(10) for i in rng.permutation(np.flatnonzero(labels == d))[:size]]


def canvases(samples: list, seed: int) -> Iterator[np.ndarray]:
    """The samples as an app's canvas would send them (``evaluate.draw_sample``, "centred")."""
    from digitrec.data.renderings import draw_sample

    rng = np.random.default_rng(seed)
    return (draw_sample(s, "centred", rng) for s in samples)


def save_pngs(samples: list, folder: Path, seed: int) -> None:
    """The picked digits as an app's canvas would send them, one folder per class."""
    from digitrec.data.canvases import to_png

    for i, (s, canvas) in enumerate(zip(samples, canvases(samples, seed), strict=True)):
        (folder / str(s.label)).mkdir(parents=True, exist_ok=True)
        (folder / str(s.label) / f"{i:03d}.png").write_bytes(to_png(canvas))


def cli(*args: str, timeout: float = 900) -> str:
    done = subprocess.run(
        [PYTHON, "-m", "digitrec", *args], cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise RuntimeError(f"digitrec {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return done.stdout


def one_run(writer: str, pool: list, unseen: tuple, size: int, repeat: int, base: Path, before: np.ndarray) -> dict:
    """Save ``size`` random pool digits per class of ``writer``, fine-tune through the CLI, measure.
    ``before``: which of the ``unseen`` images the base model misreads (``wrong``)."""
    from digitrec.predict import Predictor

    picked = pick(pool, size, repeat)
    with tempfile.TemporaryDirectory(prefix="digitrec-gain-") as tmp:
        tmp = Path(tmp)
        save_pngs(picked, tmp / "saved", seed=repeat)
        store = str(tmp / "store.sqlite3")
        cli("drawings", "import", str(tmp / "saved"), "--db", store, "--user", writer, "--model", str(base))
        start = time.perf_counter()
        report = json.loads(
            cli(
                "finetune",
                *("--db", store, "--user", writer, "--out", str(tmp / "tuned.keras"), "--model", str(base)),
                *("--seed", str(repeat), "--folds", "0", "--json"),  # measured on unseen drawings instead
            )
        )
        wall = time.perf_counter() - start
        mistakes = wrong(Predictor.load(tmp / "tuned.keras"), *unseen)
    return {
        "writer": writer,
        "size": size,
        "repeat": repeat,
        "saved": len(picked),
        "unseen_images": int(len(unseen[1])),
        "errors_before": int(before.sum()),
        "digits_misread_before": digits_misread(before, len(CANVAS_RENDERINGS)),
        "errors_after": int(mistakes.sum()),
        "digits_misread_after": digits_misread(mistakes, len(CANVAS_RENDERINGS)),
        "mnist_before": report["before"]["mnist_test"],
        "mnist_after": report["after"]["mnist_test"],
        "validation_writers_before": report["before"].get("validation_writers"),
        "validation_writers_after": report["after"].get("validation_writers"),
        "kept_old_weights": report.get("kept_old_weights"),
        "finetune_seconds": report["seconds"],
        "phases": report.get("phases"),
        "command_seconds": round(wall, 1),
    }


def choose_writers(predictor, halves: dict, count: int) -> list[tuple[str, float]]:
    """The ``count`` writers with the highest error rate on their pool (never on what is measured)."""
    rates = []
    for writer, parts in halves.items():
        framed, labels = canvas_renderings(parts["pool"], seed=2)
        rates.append((errors(predictor, framed, labels) / len(labels), writer))
    rates.sort(reverse=True)
    return [(w, r) for r, w in rates[:count]]


def summarise(runs: list[dict]) -> list[dict]:
    rows = []
    for size in sorted({r["size"] for r in runs}):
        these = [r for r in runs if r["size"] == size]
        before = sum(r["errors_before"] for r in these)
        after = sum(r["errors_after"] for r in these)
        drops = [100 * (r["mnist_before"] - r["mnist_after"]) for r in these]
        at_100 = [r for r in these if r["saved"] >= 100]
        rows.append(
            {
                "size": size,
                "runs": len(these),
                "errors_before": before,
                "errors_after": after,
                "digits_misread_before": sum(r["digits_misread_before"] for r in these),
                "digits_misread_after": sum(r["digits_misread_after"] for r in these),
                "removed": round(1 - after / before, 3) if before else None,
                "mnist_drop_mean_points": round(float(np.mean(drops)), 3),
                "mnist_drop_max_points": round(float(np.max(drops)), 3),
                "finetune_seconds_mean": round(float(np.mean([r["finetune_seconds"] for r in these])), 1),
                "finetune_seconds_100_drawings": mean_of(at_100, "finetune_seconds"),
                "phases_100_drawings": {k: mean_of(at_100, "phases", k) for k in (at_100[0].get("phases") or {})}
                if at_100
                else None,
            }
        )
    return rows


def mean_of(runs: list[dict], *keys: str) -> float | None:
    values = []
    for r in runs:
        for k in keys:
            r = r[k]
        values.append(r)
    return round(float(np.mean(values)), 1) if values else None


def render_markdown(result: dict) -> str:
    m = result["machine"]
    lines = [
        "# The gain from saved drawings",
        "",
        f"Model: `{result['model']}` (SHA-256 {result['model_sha256'][:12]}...). Measured {result['when']} on "
        f"{m['cores']} cores ({m['cpu']}), TensorFlow {m['tensorflow']}, commit {m['commit']}; load average at "
        f"the start {result['load_before']}. Command: `{result['command']}`.",
        "",
        "Writers (the test writers the model reads worst, chosen on drawings never measured): "
        + ", ".join(f"{w} ({100 * r:.1f}% wrong on its pool)" for w, r in result["writers"])
        + ".",
        "",
        "| saved per digit | runs | errors on unseen drawings, before -> after | errors removed "
        "| drawings misread (in any rendering) | MNIST test drop, mean / worst (points) | finetune seconds |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in result["summary"]:
        removed = "n/a" if row["removed"] is None else f"**{100 * row['removed']:.0f}%**"
        lines.append(
            f"| {row['size']} | {row['runs']} | {row['errors_before']} -> {row['errors_after']} | {removed} "
            f"| {row['digits_misread_before']} -> {row['digits_misread_after']} "
            f"| {row['mnist_drop_mean_points']:+.2f} / {row['mnist_drop_max_points']:+.2f} "
            f"| {row['finetune_seconds_mean']:.0f} |"
        )
    at_100 = [row["finetune_seconds_100_drawings"] for row in result["summary"] if row["finetune_seconds_100_drawings"]]
    if at_100:
        seconds = f"{max(at_100):.0f} s on average (the goal: under 60 s on 2 cores)"
        lines += ["", f"`finetune` on 100 saved drawings took {seconds}."]
        phases = next((row["phases_100_drawings"] for row in result["summary"] if row["phases_100_drawings"]), None)
        if phases:
            lines[-1] += " Of which: " + ", ".join(f"{k} {v:.0f} s" for k, v in phases.items()) + "."
    lines += ["", "Each run:", "", "| writer | per digit | repeat | errors before -> after | MNIST | seconds |"]
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: |")
    for r in result["runs"]:
        lines.append(
            f"| {r['writer']} | {r['size']} | {r['repeat']} | {r['errors_before']} -> {r['errors_after']} "
            f"(of {r['unseen_images']}) | {100 * r['mnist_before']:.2f}% -> {100 * r['mnist_after']:.2f}% "
            f"| {r['finetune_seconds']:.0f} |"
        )
    return "\n".join(lines) + "\n"


def worst_test_writers(model: str | None, n_writers: int, log=print):
    """The model's path and ``Predictor``, the test writers' halves, and the ``n_writers`` it reads
    worst on their pools: what every gain benchmark measures on."""
    from digitrec.data.handwriting import load_handwriting, split
    from digitrec.paths import model_path
    from digitrec.predict import Predictor

    base = model_path(model).resolve()
    predictor = Predictor.load(base)
    halves = writer_halves(split(load_handwriting())["test"])
    writers = choose_writers(predictor, halves, n_writers)
    log(f"worst test writers: {writers}")
    return base, predictor, halves, writers


def measure_runs(model: str | None, sizes, n_writers: int, repeats: int, prepare, log=print) -> dict:
    """Every gain benchmark's loop: the ``n_writers`` worst-read test writers (``worst_test_writers``),
    each size and pick of theirs run by ``prepare(writer, halves, predictor, base)``, which returns
    ``run(size, repeat) -> dict``; the model, the writers and the runs (the caller adds its summary)."""
    from digitrec import card

    base, predictor, halves, writers = worst_test_writers(model, n_writers, log)
    runs = []
    for writer, _ in writers:
        run = prepare(writer, halves[writer], predictor, base)
        for size in sizes:
            for repeat in range(repeats):
                runs.append(run(size, repeat))
                log(json.dumps(runs[-1]))
    return {
        "model": str(base.relative_to(ROOT) if base.is_relative_to(ROOT) else base),
        "model_sha256": card.sha256(base),
        "writers": writers,
        "runs": runs,
    }


def measure(model: str | None, sizes, n_writers: int, repeats: int, log=print) -> dict:
    def prepare(writer, halves, predictor, base):
        unseen = canvas_renderings(halves["unseen"], seed=3)
        before = wrong(predictor, *unseen)
        return lambda size, repeat: one_run(writer, halves["pool"], unseen, size, repeat, base, before)

    result = measure_runs(model, sizes, n_writers, repeats, prepare, log)
    return result | {"summary": summarise(result["runs"])}


def rewrite(json_path: Path) -> str:
    """The Markdown report again from a run's JSON (after changing how it is shown)."""
    result = json.loads(json_path.read_text())
    text = render_markdown(result)
    json_path.with_suffix(".md").write_text(text)
    return text


def run_gain(module: str, doc: str, measure, render, default_out: Path, repeats: int, argv: list[str] | None) -> int:
    """The command line of a gain benchmark (``python -m benchmarks.<module>``): the same options, the
    measurement with the machine and its load beside it, the Markdown report and its JSON twin."""
    ap = argparse.ArgumentParser(prog=f"python -m benchmarks.{module}", description=doc.splitlines()[0])
    ap.add_argument("--model", help="the model (default: $DIGITREC_MODEL or the shipped one)")
    ap.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="saved drawings per digit")
    ap.add_argument("--writers", type=int, default=3, help="how many of the worst-read test writers (default 3)")
    ap.add_argument("--repeats", type=int, default=repeats, help=f"random picks per writer and size ({repeats})")
    ap.add_argument("--out", type=Path, default=default_out, help="the Markdown report (a .json beside it)")
    args = ap.parse_args(argv)
    load_before = load_average()
    result = measure(args.model, args.sizes, args.writers, args.repeats, log=lambda s: print(s, file=sys.stderr))
    result.update(
        when=now(),
        machine=machine(),
        load_before=load_before,
        command=" ".join([f"python -m benchmarks.{module}", *(argv if argv is not None else sys.argv[1:])]),
    )
    text = render(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    print(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return run_gain("finetune", __doc__, measure, render_markdown, DEFAULT_OUT, 2, argv)


if __name__ == "__main__":
    sys.exit(main())
