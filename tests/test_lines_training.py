"""The learned line reader's training side (issue 19), in quick forms: shards rendered and resumed,
a CRNN trained a few steps, checkpointed, killed and resumed exactly, exported to LiteRT and read
back by ``digitrec.segment.learned`` without TensorFlow."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from digitrec.data.canvases import to_png
from digitrec.data.composed import on_canvas
from digitrec.engines.pick import Unavailable
from digitrec.segment.learned import KIND, LineReader
from digitrec.segment.line import LINE_HEIGHT, LINE_WIDTH
from tests.harness.processes import ROOT, kill_after_first_checkpoint


@pytest.fixture(scope="module")
def shards(tmp_path_factory, handwriting):
    """64 training numbers in 4 shards (the handwriting fixture skips without the data)."""
    from digitrec.training.lines.render import render

    out = tmp_path_factory.mktemp("lines") / "train"
    render(out, 64, shard_size=16, seed=1)
    return out


def test_shards_hold_strips_and_labels_and_resume(tmp_path, handwriting):
    from digitrec.training.lines.render import render, shard_name

    out = tmp_path / "shards"
    paths = render(out, 9, shard_size=4, seed=3, group="validation")
    assert [p.name for p in paths] == [shard_name(k) for k in range(3)]
    with np.load(paths[1]) as shard:
        images, labels, writers = shard["images"], shard["labels"], shard["writers"]
    assert images.shape == (4, LINE_HEIGHT, LINE_WIDTH) and images.dtype == np.uint8
    assert all(str(t).isdigit() and 1 <= len(str(t)) <= 12 for t in labels)
    validation = {s.writer for s in handwriting["validation"]}
    assert set(map(str, writers)) <= validation  # no MNIST outside training
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["group"] == "validation" and set(manifest["writers"]) == validation

    paths[1].unlink()  # a run killed before shard 1 was renamed into place
    before = paths[0].stat().st_mtime_ns
    render(out, 9, shard_size=4, seed=3, group="validation")
    assert paths[0].stat().st_mtime_ns == before  # finished shards are skipped
    with np.load(paths[1]) as again:
        np.testing.assert_array_equal(again["images"], images)  # the missing one exactly as before
        assert list(again["labels"]) == list(labels)
    with pytest.raises(ValueError, match="other settings"):
        render(out, 9, shard_size=4, seed=4, group="validation")


@pytest.mark.slow
def test_quick_training_exports_a_reader_the_apps_can_run(shards, tmp_path):
    from digitrec.training.lines.train import LinesConfig, train

    out = tmp_path / "number_reader.keras"
    card = train(shards, LinesConfig(quick=True, passes=1, batch_size=16, chunk=2), validation=shards, out=out)
    flat = out.with_suffix(".tflite")
    assert card["kind"] == KIND and flat.is_file() and out.with_suffix(".json").is_file()
    assert card["training"]["steps"] == 4 and card["training"]["images_per_second"] > 0
    assert 0.0 <= card["validation_exact"]["all"] <= 1.0 and card["training"]["data"]["real_handwriting"]["writers"]
    assert not out.with_name("number_reader.checkpoint").exists()  # finished: nothing left to resume
    # The number confidence's temperature, fitted on the validation shards and kept where LineReader reads it.
    assert 0.5 <= card["temperature"] <= 4.0 and card["calibration"]["numbers"] == len(shards_texts(shards))
    assert {"ece", "claims_over_90"} <= set(card["calibration"]["after"])

    reader = LineReader.load(flat)
    assert reader.temperature == card["temperature"]
    from digitrec import Predictor

    learned = Predictor.load(number_reader=flat)
    assert learned.number_reader == "learned"
    number = on_canvas(_a_number())
    seg, frames = reader.read(to_png(number.image))
    assert frames.shape[1] == 11 and 4 <= len(frames) < 64  # the frames over the ink of "2026" alone
    assert np.allclose(frames.sum(axis=1), 1, atol=1e-4)
    assert learned.read_number(to_png(number.image)).text.isdigit()

    flat.write_bytes(flat.read_bytes() + b"\0")  # the file changed since its card was written
    with pytest.raises(Unavailable, match="SHA-256"):
        LineReader.load(flat)


def shards_texts(folder) -> list[str]:
    from digitrec.training.lines.data import load_shards

    return load_shards(folder)[2]


def _a_number():
    from digitrec.data.composed import compose
    from digitrec.data.synth import digit_strokes

    rng = np.random.default_rng(0)
    return compose([digit_strokes(int(d), rng, style=0, join=False) for d in "2026"], rng, text="2026")


def _weights(path) -> list[np.ndarray]:
    import keras

    return keras.models.load_model(path, compile=False).get_weights()


@pytest.mark.slow
def test_a_killed_training_resumes_exactly(shards, tmp_path):
    """kill -9 after the first chunk's checkpoint, then ``--resume``: the same weights as a run never
    interrupted (the batches depend on the seed and the step alone)."""

    def command(out, *extra):
        return [
            sys.executable, "-m", "digitrec.training.lines", "train", "--data", str(shards), "--out", str(out),
            "--passes", "2", "--batch-size", "16", "--chunk", "2", *extra,
        ]  # fmt: skip

    whole = tmp_path / "whole.keras"
    done = subprocess.run(command(whole), cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "img/s | ETA" in done.stderr

    cut = tmp_path / "cut.keras"
    stopped_at = kill_after_first_checkpoint(command(cut), cut, "chunk")
    assert 1 <= stopped_at < 4

    resumed = subprocess.run(command(cut, "--resume"), cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"continuing at chunk {stopped_at + 1} of 4" in resumed.stderr
    for a, b in zip(_weights(whole), _weights(cut), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-5)


def test_the_render_command_writes_shards(tmp_path, handwriting):
    out = tmp_path / "test-writers"
    command = [sys.executable, "-m", "digitrec.training.lines", "render", "--out", str(out), "--numbers", "3"]
    run = subprocess.run([*command, "--shard-size", "2", "--group", "test"], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "2 shards in" in run.stdout and "shard 2/2 |" in run.stderr and "numbers/s | ETA" in run.stderr
