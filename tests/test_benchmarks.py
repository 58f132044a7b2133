"""``python -m benchmarks``: it runs, it writes the report it prints, in the documented shape.

Never a time: these tests run on loaded CI machines. The figures of ``--tiny`` mean nothing.
"""

from __future__ import annotations

import importlib
import json
import re

import pytest

from benchmarks import report
from benchmarks.__main__ import MODULES, selected
from benchmarks.formats import fmt_ms, rate_ratio, speedup
from benchmarks.report import Section, Target
from benchmarks.stats import p50, p90, p99
from tests.harness.support import bench, tables

PARTS = {
    "single": "## 1. One drawing, in process",
    "batch": "## 2. Batch throughput",
    "serving": "## 3. Serving: the Flask app over HTTP",
    "startup": "## 4. Start-up: process start to first prediction",
    "training": "## 5. Training throughput",
    "memory": "## 6. Memory: peak RSS after 1,000 predictions",
    "numbers": "## 7. Whole numbers: `read_number`",
}
TARGETS = [
    "One drawing in process, p50",
    "One drawing vs the seed's way",
    "Serving at concurrency 8: best configuration",
    "CLI start to first prediction",
    "Flask app ready (waitress and gunicorn -w 2)",
    "Gradio app ready",
    "Training with augmentation vs plain fit",
]


# --- the whole benchmark, tiny ------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "results.md"
    result = bench("--tiny", "--out", str(out))
    return result, out


@pytest.mark.slow
@pytest.mark.timeout(1200)  # the tiny run itself takes 1-4 minutes on a busy machine
def test_tiny_run_succeeds_and_prints_what_it_writes(tiny_run):
    result, out = tiny_run
    assert result.returncode == 0, result.stderr[-3000:]
    assert out.is_file() and out.with_suffix(".json").is_file()
    assert result.stdout == out.read_text()
    assert "Traceback" not in result.stderr


@pytest.mark.slow
@pytest.mark.timeout(1200)  # the tiny run itself takes 1-4 minutes on a busy machine
def test_report_has_machine_targets_and_every_part_in_order(tiny_run):
    _result, out = tiny_run
    text = out.read_text()
    assert text.startswith("# digitrec benchmarks")
    assert "TINY MODE" in text
    positions = [text.index(title) for title in ["## Machine", "## Targets", *PARTS.values()]]
    assert positions == sorted(positions)
    machine = dict(tables(text[text.index("## Machine") :])[0][1:])
    for key in (
        "CPU",
        "Python / NumPy / TensorFlow / Keras",
        "NumPy BLAS threads (default)",
        "load average (1/5/15 min) when each part started",
    ):
        assert machine.get(key) and "?" not in machine[key].split(",")[0], key
    assert re.search(r"\d+ cores usable", machine["CPU"])
    for name in PARTS:
        assert f"{name} " in machine["load average (1/5/15 min) when each part started"]


@pytest.mark.slow
@pytest.mark.timeout(1200)  # the tiny run itself takes 1-4 minutes on a busy machine
def test_every_table_is_rectangular_and_every_part_has_a_baseline(tiny_run):
    _result, out = tiny_run
    text = out.read_text()
    for tbl in tables(text):
        assert len({len(row) for row in tbl}) == 1, tbl[0]
    for name, title in PARTS.items():
        part = text[text.index(title) :]
        part = part[: part.index("<!-- section:", 1)] if "<!-- section:" in part[1:] else part
        assert "Measured " in part and "load average" in part, name
        rows = tables(part)[0]
        assert "error" not in rows[0], f"{name} failed: {rows}"
        assert any("**Baseline**" in row[0] for row in rows[1:]), name
        assert any("(baseline)" in cell for row in rows[1:] for cell in row), name


@pytest.mark.slow
@pytest.mark.timeout(1200)  # the tiny run itself takes 1-4 minutes on a busy machine
def test_targets_table_names_each_target_with_a_verdict(tiny_run):
    _result, out = tiny_run
    text = out.read_text()
    rows = tables(text[text.index("## Targets") :])[0]
    assert rows[0] == ["target", "goal", "measured", "verdict"]
    names = [row[0] for row in rows[1:]]
    for target in TARGETS:
        assert target in names
    assert {row[3].strip("*") for row in rows[1:]} <= {"met", "NOT met", "not measured"}


@pytest.mark.slow
@pytest.mark.timeout(1200)  # the tiny run itself takes 1-4 minutes on a busy machine
def test_single_part_splits_the_time_and_compares_backends(tiny_run):
    text = tiny_run[1].read_text()
    part = text[text.index(PARTS["single"]) : text.index(PARTS["batch"])]
    for label in (
        "seed's way",
        "as shipped (`litert` backend)",
        "NumPy engine",
        "decode + `preprocess` only",
        "network only",
        "Keras tf.function backend",
    ):
        assert label in part


@pytest.mark.slow
@pytest.mark.timeout(1200)  # the tiny run itself takes 1-4 minutes on a busy machine
def test_json_beside_the_report_holds_every_part(tiny_run):
    data = json.loads(tiny_run[1].with_suffix(".json").read_text())
    assert list(data["sections"]) == list(PARTS)
    assert data["machine"]["cores"] >= 1 and data["machine"]["python"]
    for section in data["sections"].values():
        assert section["run"]["tiny"] is True and section["rows"]


@pytest.mark.slow
@pytest.mark.timeout(1200)  # the tiny run itself takes 1-4 minutes on a busy machine
def test_only_reruns_one_part_and_keeps_the_others(tiny_run):
    _result, out = tiny_run
    before = json.loads(out.with_suffix(".json").read_text())["sections"]
    result = bench("--tiny", "--only", "batch", "--out", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    after = json.loads(out.with_suffix(".json").read_text())["sections"]
    assert list(after) == list(PARTS)
    for name in PARTS:
        if name != "batch":
            assert after[name] == before[name]
    assert after["batch"]["run"]["date"] >= before["batch"]["run"]["date"]
    assert re.findall(r"\] --- (\w+)$", result.stderr, re.M) == ["batch"]  # it measured batch and nothing else
    assert "--only batch" in out.read_text().splitlines()[2]


# --- the pieces, fast ---------------------------------------------------------------------------


def test_unknown_part_is_refused_with_the_choices():
    result = bench("--only", "nonsense", timeout=60)
    assert result.returncode != 0 and "single, batch, serving" in result.stderr


def test_selected_keeps_the_documented_order():
    assert selected(["memory,single", "batch"]) == ["single", "batch", "memory"]
    assert selected(None) == list(PARTS)


def test_each_part_is_measured_by_a_module_that_names_it():
    for name, title in PARTS.items():
        module = importlib.import_module(f"benchmarks.{MODULES.get(name, name)}")
        assert (module.NAME, f"## {module.TITLE}") == (name, title)


def test_statistics_and_formats():
    values = [0.001 * i for i in range(1, 101)]
    assert p50(values) == pytest.approx(0.0505)
    assert p90(values) == pytest.approx(0.0901) and p99(values) == pytest.approx(0.09901)
    assert fmt_ms(0.0019) == "1.90 ms" and fmt_ms(0.1234) == "123 ms" and fmt_ms(0.0004) == "0.400 ms"
    assert speedup(0.1, 0.002) == "50x faster" and speedup(0.002, 0.004) == "2.0x slower"
    assert rate_ratio(100, 250) == "2.50x"


def test_merge_replaces_only_the_parts_measured(tmp_path):
    def section(name: str, value: str) -> Section:
        s = Section(name, f"title {name}", "intro", ["what", "value"])
        s.add("row", value)
        s.targets.append(Target(f"target {name}", "goal", value, True))
        return s

    md = tmp_path / "r.md"
    report.write(md, report.merge({}, {"cpu": "x"}, [section("single", "1"), section("memory", "2")]), "cmd")
    data = report.merge(report.load(md), {"cpu": "y"}, [section("batch", "3"), section("single", "4")])
    assert list(data["sections"]) == ["single", "batch", "memory"]
    assert data["sections"]["single"]["rows"] == [["row", "4"]]
    assert data["sections"]["memory"]["rows"] == [["row", "2"]]
    text = report.render(data, "cmd")
    assert text.index("title single") < text.index("title batch") < text.index("title memory")
    assert "| target memory | goal | 2 | met |" in text
