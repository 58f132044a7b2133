"""The report: ``results.md`` for people, ``results.json`` beside it for ``--only`` and for diffs.

Each part of the benchmark returns a ``Section`` (a table, notes, the ``Target``s it checks).
``--only NAME`` re-measures one section and keeps the others from the last run, so each section
carries its own date and load average.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.formats import fmt_load

ORDER = ("single", "batch", "serving", "startup", "training", "memory", "numbers")


@dataclasses.dataclass
class Target:
    """A goal a part checks, what this run measured, and whether it met the goal."""

    what: str
    goal: str
    measured: str
    met: bool | None  # None: not measured in this run

    @property
    def verdict(self) -> str:
        return {True: "met", False: "NOT met", None: "not measured"}[self.met]


@dataclasses.dataclass
class Section:
    """One measurement's results: a table, notes, and the targets it checks."""

    name: str
    title: str
    intro: str
    columns: list[str]
    rows: list[list[str]] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)
    targets: list[Target] = dataclasses.field(default_factory=list)
    run: dict[str, Any] = dataclasses.field(default_factory=dict)  # when, load, tiny mode, seconds

    def add(self, *cells: Any) -> None:
        if len(cells) != len(self.columns):
            raise ValueError(f"{self.name}: row {cells} does not fit columns {self.columns}")
        self.rows.append([str(c) for c in cells])

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Section:
        d = dict(d)
        d["targets"] = [Target(**t) for t in d.get("targets", [])]
        return cls(**d)

    def markdown(self) -> str:
        lines = [f"<!-- section: {self.name} -->", f"## {self.title}", ""]
        run = self.run
        if run:
            load = run.get("load_before"), run.get("load_after")
            lines.append(
                f"*Measured {run.get('date', '?')} in {run.get('seconds', 0):.0f} s; "
                f"load average (1/5/15 min) before {fmt_load(load[0])}, after {fmt_load(load[1])}"
                f"{'; TINY MODE: proves the code runs, the figures mean nothing' if run.get('tiny') else ''}"
                f".*"
            )
            lines.append("")
        if self.intro:
            lines += [self.intro, ""]
        lines += table(self.columns, self.rows)
        if self.notes:
            lines.append("")
            lines += [f"- {n}" for n in self.notes]
        lines.append("")
        return "\n".join(lines)


def table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A Markdown table, its cells' pipes and line breaks escaped."""

    def esc(cell: str) -> str:
        return str(cell).replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(esc(c) for c in columns) + " |", "| " + " | ".join("---" for _ in columns) + " |"]
    out += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows]
    return out


def json_path(md_path: Path) -> Path:
    return md_path.with_suffix(".json")


def load(md_path: Path) -> dict[str, Any]:
    """The last run's data ({"machine", "sections"}), or an empty one."""
    try:
        data = json.loads(json_path(md_path).read_text())
    except (OSError, ValueError):
        return {"machine": {}, "sections": {}}
    data.setdefault("sections", {})
    data.setdefault("machine", {})
    return data


def merge(old: dict[str, Any], machine: dict[str, Any], sections: Sequence[Section]) -> dict[str, Any]:
    merged = dict(old.get("sections", {}))
    for s in sections:
        merged[s.name] = s.to_dict()
    return {"machine": machine, "sections": {k: merged[k] for k in ORDER if k in merged}}


def render(data: dict[str, Any], command: str) -> str:
    m = data["machine"]
    sections = [Section.from_dict(d) for d in data["sections"].values()]
    tiny = any(s.run.get("tiny") for s in sections)
    loads = [(s.name, s.run.get("load_before")) for s in sections]
    lines = [
        "# digitrec benchmarks",
        "",
        f"Produced by `{command}` (`make bench` runs `python -m benchmarks`). Every speed figure sits next to a "
        "baseline measured in the same run, as a ratio: on a shared or busy machine the absolute times are "
        "inflated, the ratios much less so. Medians and 99th percentiles over the repetitions each table names.",
        "",
    ]
    if tiny:
        lines += ["> **TINY MODE**: a few repetitions to prove the benchmark runs. These figures mean nothing.", ""]
    lines += [
        "## Machine",
        "",
        *table(
            ["", ""],
            [
                ["CPU", f"{m.get('cpu', '?')}, {m.get('cores', '?')} cores usable, {m.get('memory_gib', '?')} GiB"],
                ["OS", m.get("os", "?")],
                [
                    "Python / NumPy / TensorFlow / Keras",
                    f"{m.get('python')} / {m.get('numpy')} / {m.get('tensorflow')} / {m.get('keras')}",
                ],
                ["Pillow / SciPy", f"{m.get('pillow')} / {m.get('scipy')}"],
                [
                    "Flask / waitress / gunicorn / Gradio",
                    f"{m.get('flask')} / {m.get('waitress')} / {m.get('gunicorn')} / {m.get('gradio')}",
                ],
                ["NumPy BLAS threads (default)", str(m.get("blas_threads", "?"))],
                ["digitrec commit", m.get("commit", "?")],
                [
                    "load average (1/5/15 min) when each part started",
                    "; ".join(f"{name} {fmt_load(load)}" for name, load in loads) or "?",
                ],
            ],
        ),
        "",
    ]
    targets = [(s, t) for s in sections for t in s.targets]
    if targets:
        lines += ["## Targets", ""]
        lines += table(
            ["target", "goal", "measured", "verdict"],
            [[t.what, t.goal, t.measured, f"**{t.verdict}**" if t.met is False else t.verdict] for _s, t in targets],
        )
        lines.append("")
    for s in sections:
        lines.append(s.markdown())
    return "\n".join(lines).rstrip() + "\n"


def write(md_path: Path, data: dict[str, Any], command: str) -> str:
    text = render(data, command)
    md_path.parent.mkdir(parents=True, exist_ok=True)
    md_path.write_text(text)
    json_path(md_path).write_text(json.dumps(data, indent=1) + "\n")
    return text
