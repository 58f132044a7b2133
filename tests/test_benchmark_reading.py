"""``python -m benchmarks --only numbers``: read_number's figure beside predict's, in tiny mode.

Never a time: the figures of ``--tiny`` mean nothing; the full run prints them.
"""

from __future__ import annotations

import json

from benchmarks.reading import CASES, SIZE, numbers, writers_numbers
from tests.harness.support import bench, tables


def test_the_cases_are_wide_canvases_holding_four_digits():
    from io import BytesIO

    from PIL import Image

    cases = numbers()
    assert len(cases) == CASES and {how for _t, how, _p in cases} == {"dark_on_light", "transparent"}
    assert numbers() == cases  # deterministic: every run times the same drawings
    for text, _how, png in cases:
        assert len(text) == 4 and text.isdigit()
        assert Image.open(BytesIO(png)).size == SIZE


def test_the_test_writers_numbers_fit_the_wide_canvas(handwriting):  # the fixture: the real handwriting is here
    from io import BytesIO

    from PIL import Image

    for length in (4, 12):
        cases = writers_numbers(length)
        assert len(cases) == CASES and writers_numbers(length) == cases  # deterministic
        assert all(len(text) == length and text.isdigit() for text, _png in cases)
        assert all(Image.open(BytesIO(png)).size == SIZE for _text, png in cases)


def test_tiny_run_prints_the_number_figure_beside_predicts(tmp_path):
    out = tmp_path / "results.md"
    result = bench("--tiny", "--only", "numbers", "--out", str(out), timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    text = out.read_text()
    assert result.stdout == text and "TINY MODE" in text
    part = text[text.index("## 7. Whole numbers") :]
    rows = tables(part)[0]
    assert rows[0] == ["path", "p50", "p90", "p99", "vs one digit (p50)", f"read right (of {CASES})"]
    assert "**Baseline**" in rows[1][0] and rows[1][4] == "1.0x (baseline)"
    assert "four synthetic digits on an 840x280 canvas" in rows[2][0] and rows[2][1].endswith("ms")
    for length in (4, 12):  # the test writers' numbers, by the cutting reader at least (no reader file ships)
        row = next(r for r in rows if r[0].startswith(f"`read_number`, {length} digits by test writers, the cutting"))
        assert all(cell.endswith("ms") for cell in row[1:4]) and row[4].endswith(("slower", "faster", "(same)"))
        assert 0 <= int(row[5]) <= CASES
    targets = tables(text[text.index("## Targets") :])[0]
    assert any(row[0] == "Four-digit number in process, p50" and row[1] == "<= 10.0 ms" for row in targets)
    assert any(row[0] == "Twelve-digit number in process, p50" and row[1] == "<= 25.0 ms" for row in targets)
    data = json.loads(out.with_suffix(".json").read_text())
    assert list(data["sections"]) == ["numbers"] and data["sections"]["numbers"]["run"]["tiny"] is True
