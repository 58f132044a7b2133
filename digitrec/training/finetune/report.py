"""What fine-tuning writes and says: the new model's card, the report's lines, the time each phase took."""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path

from digitrec import card as model_card

# How far a fine-tune is when each phase ends (the training steps fill the span from "figures before" to
# "fine-tuning"): what ``progress`` hears.
PROGRESS_AT = {
    "reading data": 0.05,
    "loading TensorFlow and the model": 0.2,
    "the old model's anchor": 0.3,
    "figures before, and the drawings' warps": 0.4,
    "fine-tuning": 0.85,
    "figures after": 0.9,
    "writing": 1.0,
}
STEPS_FROM = "figures before, and the drawings' warps"  # the phase after which training steps begin


class Laps:
    """Seconds spent in each phase, for the report (what the 60-second goal is spent on); and how far the
    run is, for ``progress(fraction, phase)`` when one is given."""

    def __init__(self, progress=None) -> None:
        self.start = self.last = time.perf_counter()
        self.laps: dict[str, float] = {}
        self.progress = progress
        self.total_steps = self.done_steps = 0

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self.last, 1)
        self.last = now
        if self.progress is not None and name in PROGRESS_AT:
            self.progress(PROGRESS_AT[name], name)

    def steps(self, total: int) -> None:
        """The training steps to come (cross-validation's folds and the fine-tune itself)."""
        self.total_steps, self.done_steps = total, 0

    def step(self) -> None:
        """One training step done."""
        self.done_steps += 1
        if self.progress is not None and self.total_steps:
            start, end = PROGRESS_AT[STEPS_FROM], PROGRESS_AT["fine-tuning"]
            self.progress(start + (end - start) * self.done_steps / self.total_steps, "fine-tuning")

    def total(self) -> float:
        return round(time.perf_counter() - self.start, 1)


def new_card(out: Path, new, base_path: Path, mnist_pred, y_test, cfg, report: dict, data_dir) -> dict:
    """The new model's card: the base's description, its own SHA-256 and MNIST figures, how it was tuned."""
    from datetime import UTC, datetime

    from digitrec.data.mnist import data_md5s

    old = model_card.read(base_path) or {}
    return {
        "file": out.name,
        "sha256": model_card.sha256(out),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "architecture": old.get("architecture", new.name),
        "parameters": int(new.count_params()),
        "input": old.get("input"),
        "output": old.get("output"),
        "mnist_test": model_card.classification_report(y_test, mnist_pred),
        "training": {
            "data": (old.get("training") or {}).get("data"),  # the writers it ever trained on
            "finetuned_from": {"file": base_path.name, "sha256": model_card.sha256(base_path)},
            "finetune": {
                **asdict(cfg),
                "saved_drawings": report["saved"],
                "saved_figure": report["saved_figure"],
                "before": report["before"],
                "after": report["after"],
            },
        },
        "versions": model_card.versions(),
        "data_md5": data_md5s(data_dir),
    }


def format_report(report: dict) -> str:
    """The report as a few lines: before -> after for each figure."""
    saved = report["saved"]
    left_out = saved.get("touching_left_out", 0)
    lines = [
        f"fine-tuned {Path(report['base']).name} on {saved['drawings']} saved drawings "
        f"({'by ' + saved['user'] if saved['user'] else 'everyone'}; {saved['store']})"
        + (
            f"; left out {left_out} digits saved touching a neighbour (--include-touching keeps them)"
            if left_out
            else ""
        ),
        f"wrote {report['out']} with its card and LiteRT file, in {report['seconds']:.0f} s",
        f"  {'accuracy':<44} {'before':>8} {'after':>8}",
    ]
    if report.get("kept_old_weights"):
        lines.insert(
            2, f"pulled {report['kept_old_weights']:.0%} of the way back to the old weights: the forgetting budget"
        )
    names = {
        "saved": f"saved drawings ({report['saved_figure']})",
        "mnist_test": "MNIST test",
        "validation_writers": "validation writers ({digits} of {of} digits, {writers} writers)",
    }
    for key, label in names.items():
        if key in report["before"]:
            label = label.format(**report.get("validation_writers", {}))
            before, after = (_percent(report[when].get(key)) for when in ("before", "after"))
            lines.append(f"  {label:<44} {before:>8} {after:>8}")
    if "saved" in report["after"] and report["after"]["saved"] is None:
        lines.append(
            "  n/a: the saved drawings' figure after fine-tuning is not available: no cross-validation fold had "
            "drawings both to hold out and to train on (save at least two drawings of some digit, or use --folds 0)"
        )
    return "\n".join(lines)


def _percent(value: float | None) -> str:
    """A figure as "97.25%", or "n/a" where it could not be measured."""
    return "n/a" if value is None else f"{100 * value:.2f}%"
