"""Real handwriting: the MD5-checked loader, the writer split, the one stroke renderer, and the
committed model on writers it never saw."""

from __future__ import annotations

import gzip
import json
import shutil

import numpy as np
import pytest

from digitrec.data import handwriting, strokes
from digitrec.data.handwriting import GROUPS, Sample, load_handwriting, writer_groups
from digitrec.data.mnist import DataError
from digitrec.data.renderings import RENDERINGS, draw_sample
from digitrec.evaluate import WriterLeak, real_handwriting
from digitrec.preprocess import preprocess


def test_every_writer_is_in_exactly_one_group_fixed_by_rule(handwriting):
    seen = {g: {s.writer for s in handwriting[g]} for g in GROUPS}
    assert not (seen["train"] & seen["validation"] or seen["train"] & seen["test"] or seen["validation"] & seen["test"])
    assert sum(len(v) for v in seen.values()) == 136
    assert sum(len(handwriting[g]) for g in GROUPS) == 18_939  # every digit, the test group uncleaned
    pen = {g: {w for w in seen[g] if w.startswith("tra:")} for g in GROUPS}
    assert [len(pen[g]) for g in GROUPS] == [18, 6, 6]
    for g in ("validation", "test"):  # each held-out group has writers from elsewhere than the US
        assert {s.country for s in handwriting[g]} - {"US"}
        assert any(s.source == "unipen/gmd" for s in handwriting[g])  # the site that slashes its zeros


def test_the_split_does_not_depend_on_sample_order(handwriting):
    samples = [s for g in GROUPS for s in handwriting[g]]
    assert writer_groups(samples) == writer_groups(samples[::-1])


def test_a_corrupt_or_missing_file_is_named(tmp_path):
    with pytest.raises(DataError, match="missing handwriting file pendigits"):
        load_handwriting(tmp_path)
    for name in handwriting.MD5:
        (tmp_path / name).write_bytes(gzip.compress(b'{"label": 1}\n'))
    with pytest.raises(DataError, match="corrupt or not the expected file"):
        load_handwriting(tmp_path)
    with pytest.raises(DataError, match="malformed line"):
        load_handwriting(tmp_path, verify=False)
    with pytest.raises(DataError, match="does not exist"):
        load_handwriting(tmp_path / "nowhere")


def test_the_real_files_load_and_flip_tablet_y(tmp_path):
    folder = handwriting.resolve_dir()
    if folder is None:
        pytest.skip("DIGITREC_HANDWRITING_DIR is not set")
    for name in handwriting.MD5:
        shutil.copy(folder / name, tmp_path / name)
    first = json.loads(gzip.decompress((tmp_path / "pendigits_train.jsonl.gz").read_bytes()).splitlines()[0])
    sample = load_handwriting(tmp_path)[0]
    assert sample.label == first["label"] and first["y_up"]
    np.testing.assert_array_equal(sample.strokes[0][:, 1], -np.asarray(first["strokes"][0])[:, 1])


def seven() -> Sample:
    """A crossed 7: a top bar and down-stroke, then a separate crossbar (pen lifted between)."""
    return Sample(
        7,
        (np.array([[0, 0], [60, 0], [25, 100]], np.float32), np.array([[15, 50], [55, 50]], np.float32)),
        "t:1",
        "test",
        "XX",
    )


def test_render_fits_the_box_with_the_pen_in_every_look():
    box = (100, 40, 200, 140)
    ink = strokes.ink_map(seven().strokes, (300, 200), box, pen_px=10)
    assert ink.shape == (200, 300)
    rows, cols = np.nonzero(ink > 127)
    assert rows.min() >= 40 - 6 and rows.max() <= 140 + 6  # the box, plus half the pen
    assert cols.min() >= 100 - 6 and cols.max() <= 200 + 6
    assert rows.max() - rows.min() >= 95  # the digit's height fills the box
    # A pen 10 px wide draws a horizontal line about 10 px thick.
    line = strokes.ink_map([np.array([[0, 0], [100, 1]], np.float32)], 200, pen_px=10)
    assert 9 <= (line[:, 100] > 127).sum() <= 11
    for look in ("dark_on_light", "light_on_dark", "transparent", "grey_background"):
        image = strokes.render(seven().strokes, 280, pen_px=12, look=look)
        assert image.shape[2] == (4 if look == "transparent" else 3)
        framed = preprocess(image)
        assert framed is not None and framed.max() == pytest.approx(1.0)


def test_augment_varies_the_hand_but_keeps_the_strokes_apart():
    rng = np.random.default_rng(0)
    original = seven().strokes
    variants = [strokes.augment(original, rng) for _ in range(5)]
    assert all(len(v) == 2 for v in variants)  # the pen still lifts before the crossbar
    assert not np.allclose(variants[0][0][:3], variants[1][0][:3])
    same = strokes.augment(original, np.random.default_rng(1), strength=0.0)
    lo, hi = strokes.bounds(same)
    assert hi[1] - lo[1] == pytest.approx(1.0, abs=0.05)  # only normalised: 1 tall


def test_every_rendering_of_held_out_writers_is_readable(predictor, handwriting):
    rng = np.random.default_rng(3)
    picked = [handwriting["test"][i] for i in rng.choice(len(handwriting["test"]), 150, replace=False)]
    result = real_handwriting(predictor, picked, seed=1)
    assert set(result["renderings"]) == set(RENDERINGS)
    for name, r in result["renderings"].items():
        assert r["accuracy"] >= (0.85 if name == "low_resolution_scan" else 0.92), (name, r)
    assert result["canvas"]["mistakes"] >= result["canvas"]["mistakes_over_90"]
    assert 0 <= result["canvas"]["ece"] < 0.05


def test_evaluation_refuses_writers_the_model_trained_on(predictor, handwriting):
    class Trained:  # the committed predictor, with a card claiming a test writer
        card = {"training": {"data": {"real_handwriting": {"writers": [handwriting["test"][0].writer]}}}}
        probabilities = predictor.probabilities

    with pytest.raises(WriterLeak, match="trained on 1 of these writers"):
        real_handwriting(Trained(), handwriting["test"][:20])


def test_draw_sample_gives_what_an_app_receives():
    rng = np.random.default_rng(0)
    assert draw_sample(seven(), "centred", rng).shape == (280, 280, 3)
    assert draw_sample(seven(), "transparent", rng).shape == (280, 280, 4)
    assert draw_sample(seven(), "low_resolution_scan", rng).shape in ((16, 16), (8, 8))


def test_the_mistakes_gallery_script_draws_the_misread_digits(tmp_path, handwriting, capsys):
    from PIL import Image

    from scripts import mistakes_gallery

    out = tmp_path / "mistakes.png"
    assert mistakes_gallery.main(["--limit", "120", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    wrong = int(printed.split(": ")[1].split(" mistakes")[0])
    assert f"{wrong} mistakes in 120 digits" in printed and wrong < 12
    assert Image.open(out).size[0] > 600  # ten columns of drawings


def test_training_without_real_handwriting_warns_and_goes_on(monkeypatch):
    from digitrec.training.train import TrainConfig, handwriting_data

    monkeypatch.delenv("DIGITREC_HANDWRITING_DIR", raising=False)
    with pytest.warns(UserWarning, match="no real handwriting"):
        assert handwriting_data(TrainConfig(), None) is None


def test_quick_training_takes_a_few_hundred_digits_of_each_group(handwriting):
    from digitrec.training.train import QUICK_WRITERS, TrainConfig, handwriting_data

    groups = handwriting_data(TrainConfig(quick=True), None)
    assert all(0 < len(groups[g]) <= QUICK_WRITERS for g in GROUPS)
    assert {s.writer for s in groups["train"]} <= {s.writer for s in handwriting["train"]}
