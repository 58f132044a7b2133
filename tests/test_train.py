"""Training end to end: `python -m digitrec train --quick` writes a loadable model and its card."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from digitrec import Predictor
from digitrec.data import handwriting
from digitrec.data.handwriting import load_handwriting, writer_groups
from digitrec.data.mnist import MD5
from tests.harness.processes import kill_after_first_checkpoint
from tests.harness.support import ROOT

pytestmark = pytest.mark.slow

# What digitrec.model builds (README and notebook 2 quote these): a card must report its model's count.
PARAMETERS = {"seed": 108_154, "compact": 108_682, "wide": 585_514}


@pytest.mark.parametrize("name", ["wide", "compact", "seed"])
def test_quick_training_writes_model_and_card(tmp_path, name):
    out = tmp_path / f"{name}.keras"
    result = subprocess.run(
        [sys.executable, "-m", "digitrec", "train", "--quick", "--arch", name, "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "MNIST test accuracy" in result.stdout
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["architecture"] == name
    assert card["parameters"] == PARAMETERS[name]
    assert card["training"]["epochs"] == 1 and card["training"]["quick"] is True
    assert card["training"]["seed"] == 42 and card["training"]["seconds"] > 0
    assert set(card["mnist_test"]["per_class_accuracy"]) == {str(d) for d in range(10)}
    assert np.array(card["mnist_test"]["confusion_matrix"]).sum() == card["mnist_test"]["images"]
    assert card["data_md5"] == MD5
    assert {"tensorflow", "keras", "numpy", "python"} <= set(card["versions"])
    assert len(card["training"]["history"]["loss"]) == 1
    if name != "seed":
        assert card["training"]["augmentation"] and card["training"]["data"]["synthetic_drawings"] > 0
        # Real handwriting by training writers only; the temperature fitted on validation writers.
        real = card["training"]["data"]["real_handwriting"]
        groups = writer_groups(load_handwriting())
        assert real["writers"] and {groups[w] for w in real["writers"]} == {"train"}
        assert card["handwriting_md5"] == handwriting.MD5
        assert "validation writers" in card["training"]["calibration"]["fitted_on"]
    predictor = Predictor.load(out)
    assert predictor.backend == "litert" and card["tflite"]["file"] == f"{name}.tflite"
    assert predictor.predict(np.eye(28)).digit in range(10)
    x = np.random.default_rng(0).random((20, 28, 28), dtype=np.float32)
    fast = predictor.probabilities(x)  # the seed's sigmoids too: normalised inside the flatbuffer
    np.testing.assert_allclose(fast.sum(axis=1), 1.0, atol=1e-5)
    # int8 weights (dynamic-range quantization, what ``train`` exports): close, not bit-equal
    assert card["tflite"]["weights"].startswith("int8")
    np.testing.assert_allclose(fast, Predictor.load(out, backend="numpy").probabilities(x), atol=0.05)


def test_the_removed_train_model_spelling_is_refused(capsys):
    """``train --model NAME`` was the old spelling of ``--arch NAME``; it was removed (README's change notes)."""
    from digitrec.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--model", "seed", "--quick"])
    assert exit_info.value.code == 2 and "--model" in capsys.readouterr().err


def test_resume_without_a_checkpoint_says_it_starts_from_epoch_1(tmp_path):
    out = tmp_path / "x.keras"
    result = subprocess.run(
        [sys.executable, "-m", "digitrec", "train", "--quick", "--resume", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    line = f"--resume: no checkpoint for this run ({tmp_path / 'x.checkpoint'} does not exist): starting from epoch 1"
    assert line in result.stderr.splitlines()
    assert out.exists()


def _weights(path) -> list[np.ndarray]:
    import keras

    return keras.models.load_model(path, compile=False).get_weights()


@pytest.mark.slow
def test_a_killed_run_resumes_exactly_where_it_stopped(tmp_path):
    """kill -9 after the first epoch's checkpoint, then ``--resume``: the same model as a run never
    interrupted (the batches of each epoch and their augmentation depend on the seed and epoch alone)."""

    def command(out, *extra):
        return [sys.executable, "-m", "digitrec", "train", "--quick", "--epochs", "4", "--out", str(out), *extra]

    whole = tmp_path / "whole.keras"
    done = subprocess.run(command(whole), cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]

    cut = tmp_path / "cut.keras"
    stopped_at = kill_after_first_checkpoint(command(cut), cut, "epoch")
    assert 1 <= stopped_at < 4

    resumed = subprocess.run(command(cut, "--resume"), cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "--resume: continuing from the checkpoint" in resumed.stderr
    assert f"epoch {stopped_at + 1}/4" in resumed.stderr and "epoch 1/4" not in resumed.stderr  # progress lines
    for a, b in zip(_weights(whole), _weights(cut), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-5)
