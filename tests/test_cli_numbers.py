"""python -m digitrec predict --number: whole numbers from files, as a user runs it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from digitrec.data.canvases import to_png
from digitrec.data.composed import compose
from digitrec.data.synth import digit_strokes
from tests.harness.support import ROOT, run_cli


@pytest.fixture(scope="module")
def number_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("numbers")
    rng = np.random.default_rng(0)
    truth = compose([digit_strokes(int(d), rng, style=0, join=False) for d in "2026"], rng, text="2026")
    paths = {"2026": folder / "year.png", "blank": folder / "blank.png", "bad": folder / "notes.png"}
    paths["2026"].write_bytes(to_png(truth.image))
    paths["blank"].write_bytes(to_png(np.full((100, 300, 3), 255, np.uint8)))
    paths["bad"].write_text("not a picture")
    return paths, truth


def test_predict_number_prints_the_number_and_its_confidence(number_files):
    paths, _truth = number_files
    result = run_cli("predict", "--number", str(paths["2026"]), str(paths["blank"]))
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.strip().splitlines()
    assert first.startswith(f"{paths['2026']}: 2026 (") and first.endswith("% sure)")
    assert second == f"{paths['blank']}: blank (no digit drawn)"


def test_predict_number_top_shows_each_digit_with_its_box(number_files):
    paths, truth = number_files
    lines = run_cli("predict", "--number", "--top", "2", str(paths["2026"])).stdout.strip().splitlines()
    assert len(lines) == 5
    for line, digit, box in zip(lines[1:], "2026", truth.boxes, strict=True):
        assert line.startswith(f"  {digit} at (") and line.count("%") == 2
        x0 = int(line.split("(")[1].split(",")[0])
        assert abs(x0 - box[0]) <= 3


def test_predict_number_json(number_files, predictor):
    paths, _truth = number_files
    answer = json.loads(run_cli("predict", "--number", "--json", str(paths["2026"])).stdout)
    assert answer["file"] == str(paths["2026"]) and answer["text"] == "2026"
    assert len(answer["digits"]) == 4 and all(len(d["box"]) == 4 for d in answer["digits"])
    assert answer["confidence"] == pytest.approx(predictor.read_number(paths["2026"]).confidence, abs=1e-5)


def test_predict_number_reports_bad_files_and_answers_the_others(number_files):
    paths, _truth = number_files
    result = run_cli("predict", "--number", str(paths["bad"]), str(paths["2026"]), str(ROOT / "no-such-file.png"))
    assert result.returncode == 1
    assert "notes.png: error: not a readable image" in result.stderr
    assert "no-such-file.png: error: cannot read" in result.stderr
    assert ": 2026 (" in result.stdout and "Traceback" not in result.stderr
