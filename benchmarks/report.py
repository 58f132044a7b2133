"""The report: ``results.md`` for people, ``results.json`` beside it for ``--only`` and for diffs.

``--only NAME`` re-measures one section and keeps the others from the last run, so each section
carries its own date and load average.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from benchmarks.common import Section, fmt_load, table

ORDER = ("single", "batch", "serving", "startup", "training", "memory")


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
        *table(["", ""], [
            ["CPU", f"{m.get('cpu', '?')}, {m.get('cores', '?')} cores usable, {m.get('memory_gib', '?')} GiB"],
            ["OS", m.get("os", "?")],
            ["Python / NumPy / TensorFlow / Keras", f"{m.get('python')} / {m.get('numpy')} / {m.get('tensorflow')} / "
                                                    f"{m.get('keras')}"],
            ["Pillow / SciPy", f"{m.get('pillow')} / {m.get('scipy')}"],
            ["Flask / waitress / gunicorn / Gradio", f"{m.get('flask')} / {m.get('waitress')} / {m.get('gunicorn')} "
                                                     f"/ {m.get('gradio')}"],
            ["NumPy BLAS threads (default)", str(m.get("blas_threads", "?"))],
            ["digitrec commit", m.get("commit", "?")],
            ["load average (1/5/15 min) when each part started",
             "; ".join(f"{name} {fmt_load(load)}" for name, load in loads) or "?"],
        ]),
        "",
    ]
    targets = [(s, t) for s in sections for t in s.targets]
    if targets:
        lines += ["## Targets", ""]
        lines += table(["target", "goal", "measured", "verdict"],
                       [[t.what, t.goal, t.measured, f"**{t.verdict}**" if t.met is False else t.verdict]
                        for _s, t in targets])
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
