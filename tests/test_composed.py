"""digitrec.data.composed: numbers composed from one writer's digits, with the truth to judge a segmentation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from digitrec.data.composed import CLEARANCE, HEIGHT, HEIGHT_JITTER, MIN_DIGITS, PEN_PX, by_writer, compose, deal
from digitrec.data.synth import digit_strokes
from digitrec.evaluate.reading import judge, wilson


def plain(text: str, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    return [digit_strokes(int(d), rng, style=0, join=False) for d in text]


def touching(a: np.ndarray, b: np.ndarray) -> bool:
    return bool((ndimage.binary_dilation(a) & b).any())


@pytest.mark.parametrize("seed", range(6))
def test_a_composed_number_keeps_its_digits_apart_and_in_order(seed):
    truth = compose(plain("1747", seed), np.random.default_rng(seed), text="1747")
    n = len(truth.boxes)
    assert truth.text == "1747" and truth.masks.shape == (n, *truth.image.shape[:2])
    assert truth.image.dtype == np.uint8 and truth.image.shape[2] == 3
    centres = [(x0 + x1) / 2 for x0, _y0, x1, _y1 in truth.boxes]
    assert centres == sorted(centres)
    for i in range(n - 1):
        assert not touching(truth.masks[i], truth.masks[i + 1])
    heights = np.array([y1 - y0 for _x0, y0, _x1, y1 in truth.boxes])
    slack = PEN_PX + 2  # the pen's width and the antialiased edge
    assert (heights <= HEIGHT * (1 + HEIGHT_JITTER) + slack).all() and (heights >= HEIGHT * 0.5).all()
    ink = truth.image[..., 0] < 128
    assert (ink <= truth.masks.any(axis=0) | ndimage.binary_dilation(truth.masks.any(axis=0))).all()


def test_neighbours_sometimes_overlap_in_x_without_touching():
    overlapping = 0
    for seed in range(30):
        truth = compose(plain("17", seed), np.random.default_rng(seed), text="17")
        (a0, _, a1, _), (b0, _, b1, _) = truth.boxes
        overlapping += b0 < a1
        assert not touching(*truth.masks)
        # Between the two inks there is always the clearance: separate marks for any reader.
        gap = ndimage.distance_transform_edt(~truth.masks[0])[truth.masks[1]].min()
        assert gap > CLEARANCE
    assert 3 <= overlapping <= 20  # about a quarter


def test_touching_numbers_are_one_mark():
    for seed in range(5):
        truth = compose(plain("00", seed), np.random.default_rng(seed), text="00", touching=True)
        assert touching(*truth.masks)
        assert ndimage.label(truth.image[..., 0] < 180, structure=np.ones((3, 3)))[1] == 1


def test_slope_makes_the_number_climb_or_fall():
    up = compose(plain("123456"), np.random.default_rng(0), slope=-0.3)
    down = compose(plain("123456"), np.random.default_rng(0), slope=0.3)
    assert up.boxes[-1][1] < up.boxes[0][1] - 50 and down.boxes[-1][1] > down.boxes[0][1] + 50


def test_looks():
    truth = compose(plain("42"), np.random.default_rng(0), look="transparent")
    assert truth.image.shape[2] == 4 and truth.image[..., 3].max() == 255 and truth.image[0, 0, 3] == 0


def test_judge_accepts_the_truth_and_refuses_mistakes():
    truth = compose(plain("580"), np.random.default_rng(1), text="580")
    right = truth.owner
    assert judge(right, truth)
    merged = np.where(right == 2, 1, right)
    merged = np.where(merged == 3, 2, merged)
    assert not judge(merged, truth)  # two digits in one piece
    swapped = np.where(right == 1, 2, np.where(right == 2, 1, right))
    assert not judge(swapped, truth)  # pieces out of order
    missing = right.copy()
    missing[(right == 3) & (np.arange(right.shape[1]) > truth.boxes[2][0] + 5)] = 0
    assert not judge(missing, truth)  # half a digit dropped
    extra = right.copy()
    extra[0, 0] = 4
    assert not judge(extra, truth)  # a fourth piece
    split = right.copy()
    x_mid = (truth.boxes[2][0] + truth.boxes[2][2]) // 2
    split[(right == 3) & (np.arange(right.shape[1]) >= x_mid)] = 4
    assert not judge(split, truth)  # one digit in two pieces


def test_numbers_come_from_one_writer_each(handwriting):
    samples = handwriting["test"]
    writers = by_writer(samples)
    assert writers and all(len(v) >= MIN_DIGITS for v in writers.values())
    made = list(deal(samples, 4, 12, seed=3))
    again = list(deal(samples, 4, 12, seed=3))
    assert [m.text for m in made] == [m.text for m in again]  # a fixed seed: the same numbers
    for m in made:
        assert m.writer in writers and len(m.text) == 4 and len(m.boxes) == 4
        labels = sorted(s.label for s in writers[m.writer])
        assert all(int(d) in labels for d in m.text)


def test_wilson_interval():
    lo, hi = wilson(990, 1000)
    assert lo < 0.99 < hi and hi - lo < 0.02
    assert wilson(0, 0) == (0.0, 1.0)
    assert wilson(100, 100)[1] == pytest.approx(1.0)


def accuracy_script(*args: str, **env: str):
    import os
    import subprocess
    import sys

    from tests.harness.support import ROOT

    return subprocess.run(
        [sys.executable, "scripts/number_accuracy.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **env},
    )


def table_rows(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("| ") and "digit" in line and "---" not in line]


@pytest.mark.slow
def test_the_accuracy_script_prints_the_readme_table_and_draws_the_figures(handwriting, tmp_path):
    result = accuracy_script("--count", "3", "--figures", str(tmp_path))
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert "| numbers | cut right | read exactly | `read_number` p50 |" in lines
    rows = table_rows(result.stdout)
    groups = ("apart", "just touching (2-12% inside)", "every neighbour touching", "beyond training (40-50% inside)")
    names = [f"| {n} digits, {group}" for group in groups for n in (2, 4, 8, 12)]
    assert [r.split(" | ")[0] for r in rows[:16]] == names
    assert all(r.count("%") >= 6 and r.endswith(" ms |") for r in rows[:16])  # two rates with intervals, a time
    assert rows[16].startswith("| 1 digit, each of these writers'")
    calibration = next(line for line in lines if line.startswith("number confidence:"))
    assert "ECE" in calibration and "over 48 readings" in calibration and "90%" in calibration
    assert (tmp_path / "numbers.png").stat().st_size > 10_000
    assert (tmp_path / "numbers_touching.png").stat().st_size > 10_000


@pytest.mark.slow
def test_the_accuracy_script_measures_chosen_rows_with_a_chosen_reader(handwriting, tmp_path):
    result = accuracy_script("--rows", "beyond", "just-touching", "--reader", "segmentation", "--count", "2")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "--reader segmentation: segmentation" in result.stdout
    names = [r.split(" | ")[0] for r in table_rows(result.stdout)]
    assert names[:8] == [f"| {n} digits, beyond training (40-50% inside)" for n in (2, 4, 8, 12)] + [
        f"| {n} digits, just touching (2-12% inside)" for n in (2, 4, 8, 12)
    ]
    assert "over 16 readings" in result.stdout
    # The learned reader alone needs one; the figures need the rows they draw.
    refused = accuracy_script("--reader", "learned", "--count", "1", DIGITREC_NUMBER_READER="off")
    assert refused.returncode != 0 and "no learned reader" in refused.stderr
    refused = accuracy_script("--rows", "beyond", "--figures", str(tmp_path))
    assert refused.returncode == 2 and "--figures" in refused.stderr
