"""The committed model and its card: what the apps load by default."""

from __future__ import annotations

import json

from digitrec.card import sha256
from digitrec.data.mnist import MD5
from digitrec.paths import DEFAULT_MODEL


def card() -> dict:
    return json.loads(DEFAULT_MODEL.with_suffix(".json").read_text())


def test_model_is_small_and_matches_its_card():
    assert DEFAULT_MODEL.stat().st_size < 3_000_000  # wide: 585,514 float32 weights, 2.4 MB
    assert card()["sha256"] == sha256(DEFAULT_MODEL)


def test_card_records_how_it_was_made():
    c = card()
    assert c["architecture"] == "wide" and c["training"]["quick"] is False
    assert c["training"]["seconds"] > 0
    # Trained from scratch with the default recipe (README, Accuracy): 8 epochs, each writer's digit drawn 6 times.
    assert c["training"]["init"] is None and c["training"]["epochs"] == 8
    assert c["training"]["real_copies"] == 6 and c["training"]["label_smoothing"] == 0
    assert c["data_md5"] == MD5
    assert {"tensorflow", "keras", "numpy", "python"} <= set(c["versions"])


def test_card_reports_mnist_test_accuracy():
    report = card()["mnist_test"]
    assert report["images"] == 10_000
    assert report["accuracy"] >= 0.994  # 99.47%: the 99.5% goal is missed (README, Accuracy)
    assert len(report["confusion_matrix"]) == 10 and sum(map(sum, report["confusion_matrix"])) == 10_000
    assert min(report["per_class_accuracy"].values()) > 0.98


def test_card_reports_the_drawing_proxies():
    drawn = card()["drawn"]
    assert drawn["mnist_canvas"]["images"] == 10_000 and drawn["mnist_canvas"]["accuracy"] >= 0.994
    for name in ("pen_centred", "pen_random_place_size", "pen_thin_pen", "pen_thick_pen", "load_digits_heldout"):
        assert drawn[name]["accuracy"] > 0.9, name


def test_card_reports_real_writers_it_never_saw():
    from digitrec.data.handwriting import load_handwriting, writer_groups

    c = card()
    groups = writer_groups(load_handwriting())
    seen = c["training"]["data"]["real_handwriting"]["writers"]
    assert len(seen) == 93 and {groups[w] for w in seen} == {"train"}
    real = c["real_handwriting"]  # the test writers, written by `evaluate --drawn --update-card`
    assert real["writers"] == 25 and real["digits"] == 2782
    assert real["canvas"]["accuracy"] >= 0.985 and real["canvas"]["ece"] <= 0.01
    assert min(r["accuracy"] for r in real["renderings"].values()) >= 0.97
    assert "validation writers" in c["training"]["calibration"]["fitted_on"]
