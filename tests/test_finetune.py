"""``python -m digitrec drawings import|export|stats`` and ``finetune``: real subprocesses, as other
tools script them; and the gain for one real writer, measured as benchmarks/finetune.py does."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from digitrec import Predictor, card
from digitrec.data.canvases import pen_digit, to_png
from digitrec.paths import DEFAULT_MODEL
from digitrec.store import Store
from digitrec.training.finetune import format_report
from tests.harness.support import run_cli


@pytest.fixture
def folder(tmp_path):
    """DIR/0/*.png ... DIR/9/*.png, two drawings each, and one file that is not a picture."""
    for d in range(10):
        (tmp_path / "in" / str(d)).mkdir(parents=True)
        for i in range(2):
            image = pen_digit(d, np.random.default_rng(10 * d + i), "dark_on_light")
            (tmp_path / "in" / str(d) / f"{i}.png").write_bytes(to_png(image))
    (tmp_path / "in" / "4" / "notes.png").write_text("not a picture")
    (tmp_path / "in" / "x").mkdir()  # not a digit: ignored
    (tmp_path / "in" / "x" / "a.png").write_bytes((tmp_path / "in" / "1" / "0.png").read_bytes())
    return tmp_path / "in"


def test_import_stats_export_round_trip(folder, tmp_path):
    db = str(tmp_path / "d.sqlite3")
    imported = run_cli("drawings", "import", str(folder), "--db", db, "--user", "ana")
    assert imported.returncode == 1  # one file was not readable: said, and the rest imported
    assert f"imported 20 drawings into {db}; 1 not readable" in imported.stdout
    assert "notes.png: skipped: not a readable image" in imported.stderr and "Traceback" not in imported.stderr
    again = run_cli("drawings", "import", str(folder), "--db", db)
    assert "imported 0 drawings" in again.stdout and "20 already there" in again.stdout

    stats = json.loads(run_cli("drawings", "stats", "--db", db, "--json").stdout)
    assert stats["count"] == 20 and set(stats["by_label"].values()) == {2} and stats["by_user"] == {"ana": 20}
    assert stats["by_source"] == {"cli": 20} and stats["store"] == db
    assert "20 drawings in" in run_cli("drawings", "stats", "--db", db).stdout

    out = tmp_path / "out"
    assert run_cli("drawings", "export", str(out), "--db", db).returncode == 0
    files = sorted(out.glob("*/*.png"))
    assert len(files) == 20 and {f.parent.name for f in files} == {str(d) for d in range(10)}
    assert all(f.stem.isdigit() for f in files)  # generated names: nothing from a user reaches a path
    labels = {d.id: d.label for d in Store.open(db).drawings()}
    assert all(labels[int(f.stem)] == int(f.parent.name) for f in files)


def test_the_default_store_and_digitrec_db(folder, tmp_path):
    data = tmp_path / "data"
    assert run_cli("drawings", "import", str(folder), DIGITREC_DATA=str(data)).returncode == 1
    assert (data / "drawings.sqlite3").is_file()
    other = tmp_path / "other.sqlite3"
    run_cli("drawings", "import", str(folder / ".."), DIGITREC_DB=str(other))  # no digit folders there
    assert not other.exists()
    assert "20 drawings" in run_cli("drawings", "stats", DIGITREC_DATA=str(data)).stdout


def test_a_folder_without_digit_folders_is_an_error(tmp_path):
    result = run_cli("drawings", "import", str(tmp_path), "--db", str(tmp_path / "d.sqlite3"))
    assert result.returncode == 2 and "no " in result.stderr and "Traceback" not in result.stderr


def test_a_broken_store_is_one_line(tmp_path):
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"x" * 4096)
    result = run_cli("drawings", "stats", "--db", str(bad))
    assert result.returncode == 2 and "is damaged or not a drawing store" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_data_folder_that_cannot_be_made_is_one_line(folder, tmp_path):
    (tmp_path / "notes").write_text("a file, not a folder")
    data = tmp_path / "notes" / "data"
    result = run_cli("drawings", "import", str(folder), DIGITREC_DATA=str(data))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert (
        f"error: the drawing store's folder {data} cannot be made ({tmp_path / 'notes'} is not a folder): "
        "point DIGITREC_DATA or --db elsewhere"
    ) in result.stderr.splitlines()


def test_an_invalid_user_is_one_line_before_any_file(folder, tmp_path):
    db = tmp_path / "d.sqlite3"
    result = run_cli("drawings", "import", str(folder), "--db", str(db), "--user", "x" * 65)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.splitlines() == ["error: --user: the user name must be 1 to 64 printable characters"]
    assert not db.exists()


def test_import_follows_no_symbolic_link_out_of_its_folder(folder, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    for i in range(2):
        (outside / f"{i}.png").write_bytes(to_png(pen_digit(3, np.random.default_rng(100 + i), "dark_on_light")))
    for f in (folder / "3").iterdir():
        f.unlink()
    (folder / "3").rmdir()
    (folder / "3").symlink_to(outside)  # a linked digit folder
    (folder / "5" / "link.png").symlink_to(outside / "0.png")  # a linked file
    db = str(tmp_path / "d.sqlite3")
    result = run_cli("drawings", "import", str(folder), "--db", db)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"{folder / '3'}: skipped: a symbolic link, not followed" in result.stderr
    assert f"{folder / '5' / 'link.png'}: skipped: a symbolic link, not followed" in result.stderr
    assert "imported 18 drawings" in result.stdout and "2 symbolic links not followed" in result.stdout
    assert Store.open(db).stats()["by_label"]["3"] == 0


def test_export_never_follows_a_link_nor_overwrites_a_file(folder, tmp_path):
    db = str(tmp_path / "d.sqlite3")
    run_cli("drawings", "import", str(folder), "--db", db)
    first = {d.label: d.id for d in reversed(list(Store.open(db).drawings()))}
    out, victim, elsewhere = tmp_path / "out", tmp_path / "victim.png", tmp_path / "elsewhere"
    victim.write_bytes(b"mine")
    elsewhere.mkdir()
    (out / "1").mkdir(parents=True)
    (out / "1" / f"{first[1]:06d}.png").symlink_to(victim)  # a link where an exported file goes
    (out / "2").mkdir()
    (out / "2" / f"{first[2]:06d}.png").write_bytes(b"someone else's")  # a file there already
    (out / "3").symlink_to(elsewhere)  # a linked digit folder

    result = run_cli("drawings", "export", str(out), "--db", db)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert victim.read_bytes() == b"mine" and list(elsewhere.iterdir()) == []
    assert (out / "2" / f"{first[2]:06d}.png").read_bytes() == b"someone else's"
    assert f"{out / '1' / f'{first[1]:06d}.png'}: skipped: a symbolic link, not followed" in result.stderr
    assert f"{out / '2' / f'{first[2]:06d}.png'}: skipped: a different file is there already" in result.stderr
    assert f"{out / '3'}: skipped: a symbolic link, not followed" in result.stderr
    assert "exported 16 drawings" in result.stdout and "4 not written" in result.stdout  # 3: two drawings

    again = run_cli("drawings", "export", str(out), "--db", db)  # the same files are there: nothing rewritten
    assert "exported 0 drawings" in again.stdout and "16 already there; 4 not written" in again.stdout


def test_export_to_a_folder_that_cannot_be_written_is_one_line(tmp_path):
    (tmp_path / "notes").write_text("a file, not a folder")
    cases = {
        tmp_path / "notes": f"{tmp_path / 'notes'} is not a folder",
        tmp_path / "notes" / "out": f"{tmp_path / 'notes'} is not a folder",
        Path("/sys/digitrec-export"): "",  # not writable, even by root
    }
    for target, why in cases.items():
        result = run_cli("drawings", "export", str(target), "--db", str(tmp_path / "d.sqlite3"))
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        (line,) = result.stderr.splitlines()
        assert line.startswith(f"error: cannot export to {target}: {why}"), line


def test_finetune_without_drawings_says_how_to_get_some(tmp_path):
    result = run_cli("finetune", "--db", str(tmp_path / "none.sqlite3"), "--out", str(tmp_path / "m.keras"))
    assert result.returncode == 2 and "no saved drawings" in result.stderr and "Traceback" not in result.stderr


def touching_store(path: str, flat: int, touching: int) -> str:
    """A store of ``flat`` drawings saved whole and ``touching`` digits saved touching a neighbour."""
    with Store.open(path) as s:
        for i in range(flat + touching):
            image = to_png(pen_digit(i % 10, np.random.default_rng(i), "dark_on_light"))
            s.save(image, i % 10, user="ana", touching=i >= flat)
    return path


def test_touching_digits_are_left_out_unless_asked(tmp_path):
    from digitrec.training.finetune.data import saved_drawings

    db = touching_store(str(tmp_path / "d.sqlite3"), 3, 2)
    x, y, info = saved_drawings(db, None)
    assert len(x) == 3 and y.tolist() == [0, 1, 2] and (info["drawings"], info["touching_left_out"]) == (3, 2)
    x, y, info = saved_drawings(db, "ana", include_touching=True)
    assert len(x) == 5 and y.tolist() == [0, 1, 2, 3, 4] and info["touching_left_out"] == 0


def test_finetune_says_touching_digits_were_left_out_and_includes_them_when_asked(tmp_path):
    db = touching_store(str(tmp_path / "d.sqlite3"), 0, 2)
    out = str(tmp_path / "m.keras")
    left_out = run_cli("finetune", "--db", db, "--out", out)
    assert left_out.returncode == 2 and "Traceback" not in left_out.stderr
    assert "no saved drawings but 2 touching digits (--include-touching learns from them)" in left_out.stderr
    empty = tmp_path / "no-mnist"
    empty.mkdir()
    included = run_cli("finetune", "--db", db, "--out", out, "--include-touching", "--data-dir", str(empty))
    assert included.returncode == 2 and "missing MNIST file" in included.stderr  # past the drawings: they were read


@pytest.mark.parametrize("out", [str(DEFAULT_MODEL), "models/digit_recognizer.keras", "elsewhere.h5"])
def test_finetune_never_overwrites_the_shipped_model(folder, tmp_path, out):
    db = str(tmp_path / "d.sqlite3")
    run_cli("drawings", "import", str(folder), "--db", db)
    before = card.sha256(DEFAULT_MODEL)
    result = run_cli("finetune", "--db", db, "--out", out, "--steps", "1")
    assert result.returncode == 2 and "--out" in result.stderr and "Traceback" not in result.stderr
    assert card.sha256(DEFAULT_MODEL) == before


@pytest.mark.slow
def test_finetune_writes_a_model_its_card_and_litert_file(folder, tmp_path):
    db = str(tmp_path / "d.sqlite3")
    run_cli("drawings", "import", str(folder), "--db", db, "--user", "ana")
    out = tmp_path / "mine" / "ana.keras"
    result = run_cli("finetune", "--db", db, "--user", "ana", "--out", str(out), "--steps", "20")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "fine-tuned digit_recognizer.keras on 20 saved drawings (by ana" in text
    for line in ("saved drawings (2-fold cross-validation)", "MNIST test", "validation writers"):
        assert line in text
    written = card.read(out)
    assert written["sha256"] == card.sha256(out) and written["tflite"]["source_sha256"] == written["sha256"]
    assert written["tflite"]["weights"] == "float32"  # personal models keep float weights
    assert written["training"]["finetuned_from"]["sha256"] == card.sha256(DEFAULT_MODEL)
    assert written["training"]["finetune"]["saved_drawings"]["drawings"] == 20
    predictor = Predictor.load(out)  # the apps' --model PATH
    assert predictor.backend == "litert" and predictor.path == out
    assert run_cli("predict", "--model", str(out), str(folder / "3" / "0.png")).returncode == 0


@pytest.mark.slow
def test_saved_drawings_remove_most_errors_of_a_real_writer(handwriting):
    """One point of benchmarks/finetune.py's curve, through the two CLI commands: val:val01, the
    test writer with the most digits among those the shipped model reads worst (so the figure rests
    on ~45 errors, not a handful), 3 saved drawings per digit, the benchmark's first pick: at least
    half of the errors on the writer's unseen drawings gone (here 46 -> 17 with the wide model), MNIST test down by at
    most 0.2 points (the issue's bound). Half, not the issue's 60%: over the benchmark's six picks at
    3 per digit the committed recipe removes 39% (benchmarks/finetune.md), so 60% for this one pick
    would be a goal met by luck; and a drawing misread in all six renderings is six errors, so
    another CPU's rounding can move the count by six."""
    from benchmarks import finetune as gain

    writer = "val:val01"
    halves = gain.writer_halves(handwriting["test"])
    unseen = gain.canvas_renderings(halves[writer]["unseen"], seed=3)
    before = gain.wrong(Predictor.load(), *unseen)
    assert before.sum() >= 40, "too few errors to measure a gain on"
    result = gain.one_run(writer, halves[writer]["pool"], unseen, 3, 0, DEFAULT_MODEL, before)
    assert result["errors_after"] <= 0.5 * before.sum(), json.dumps(result)
    assert result["mnist_before"] - result["mnist_after"] <= 0.002, json.dumps(result)


def _report(after_saved, figure):
    return {
        "base": str(DEFAULT_MODEL),
        "out": "mine.keras",
        "seconds": 12.0,
        "saved": {"drawings": 10, "user": None, "store": "drawings.sqlite3"},
        "saved_figure": figure,
        "before": {"saved": 1.0, "mnist_test": 0.99},
        "after": {"saved": after_saved, "mnist_test": 0.985},
    }


def test_the_report_says_how_many_touching_digits_were_left_out():
    report = _report(0.9, "on the drawings it trained on")
    assert "left out" not in format_report(report)
    report["saved"]["touching_left_out"] = 3
    first = format_report(report).splitlines()[0]
    assert first.endswith("; left out 3 digits saved touching a neighbour (--include-touching keeps them)")


def test_cross_validation_that_could_not_run_says_so(monkeypatch):
    """One drawing of each digit: every drawing falls in the first fold, so no fold has both drawings to
    hold out and drawings to train on. The figure is not available, never "0.00%"."""
    from digitrec.training.finetune import tuning

    calls = []

    class Model:  # reads each drawing's digit from its first pixel
        def predict(self, x, batch_size=None, verbose=0):
            return np.eye(10)[x[:, 0, 0, 0].astype(int)]

    class Anchor:  # every layer learns: the head is the model
        def head(self, model=None):
            return model

    def fake_tune(anchor, saved_in, y, warps, cfg, on_step=None):
        assert len(warps) == len(y)  # each fold trains on its own drawings' warps
        calls.append(len(y))
        return Model()

    cfg = tuning.FinetuneConfig()
    monkeypatch.setattr(tuning, "tune", fake_tune)
    y = np.arange(10)
    x = np.zeros((10, 28, 28, 1), np.float32)
    x[:, 0, 0, 0] = y
    assert tuning.cross_validated(Anchor(), x, y, x[:, None], cfg, 2) == (None, 2, 0) and calls == []
    assert tuning.cv_figure((None, 2, 0), 10) == "2-fold cross-validation: no fold could run"
    y2 = np.array([0, 0, 1])  # the 1 is held out with one 0 and trained without it: all three scored
    x2 = np.zeros((3, 28, 28, 1), np.float32)
    x2[:, 0, 0, 0] = y2
    assert tuning.cross_validated(Anchor(), x2, y2, x2[:, None], cfg, 2) == (1.0, 2, 3) and calls == [1, 2]
    calls.clear()  # the app's Learn fine-tunes one fold only: the first that can run, its drawings scored
    assert tuning.cross_validated(Anchor(), x2, y2, x2[:, None], cfg, 2, runs=1) == (1.0, 2, 2) and calls == [1]
    assert tuning.cv_figure((1.0, 2, 2), 3) == "2-fold cross-validation, 2 of 3 drawings"

    text = format_report(_report(None, tuning.cv_figure((None, 2, 0), 10)))
    assert not re.search(r"(?<![\d.])0\.00%", text) and "n/a" in text and "not available" in text
    line = next(s for s in text.splitlines() if s.strip().startswith("saved drawings"))
    assert line.split()[-2:] == ["100.00%", "n/a"]
    ran = format_report(_report(0.9, "2-fold cross-validation"))
    assert "n/a" not in ran and "90.00%" in ran


def test_what_every_fine_tune_needs_is_computed_once_and_kept_on_disk(tmp_path, monkeypatch):
    """``data.cached``: the same key reads the file, another key computes, a damaged file is computed again."""
    from digitrec.training.finetune.data import cached

    monkeypatch.setenv("DIGITREC_CACHE", str(tmp_path / "cache"))
    calls = []

    def compute():
        calls.append(1)
        return {"out": np.arange(6, dtype=np.float16).reshape(2, 3)}

    digits = np.ones((2, 28, 28), np.float32)
    first = cached("outputs", ["sha", 3, digits], compute)
    again = cached("outputs", ["sha", 3, digits.copy()], compute)
    assert calls == [1] and again["out"].dtype == np.float16 and np.array_equal(first["out"], again["out"])
    cached("outputs", ["sha", 3, digits + 1], compute)  # other digits
    cached("outputs", ["other sha", 3, digits], compute)  # another model
    assert len(calls) == 3
    for path in (tmp_path / "cache").iterdir():
        path.write_bytes(b"damaged")
    assert np.array_equal(cached("outputs", ["sha", 3, digits], compute)["out"], first["out"]) and len(calls) == 4
    (tmp_path / "file").write_text("a file, not a folder")
    monkeypatch.setenv("DIGITREC_CACHE", str(tmp_path / "file" / "cache"))  # cannot be made: computed each time
    assert np.array_equal(cached("outputs", ["sha", 3, digits], compute)["out"], first["out"]) and len(calls) == 5


@pytest.mark.slow
def test_learning_the_dense_layers_leaves_the_convolutions_as_they_were(tmp_path, monkeypatch):
    """``learns="dense"``: the convolutions' output is worked out once per digit (and kept on disk for the
    replayed MNIST digits); the tuned model is the old one with new dense layers, and its head fed those
    outputs answers as the whole model does."""
    from digitrec.training.finetune import anchor as anchor_mod
    from digitrec.training.finetune import tuning
    from digitrec.training.finetune.data import Replay
    from digitrec.training.model import build_model

    monkeypatch.setenv("DIGITREC_CACHE", str(tmp_path / "cache"))
    rng = np.random.default_rng(0)
    digits = rng.random((400, 28, 28)).astype(np.float32)
    labels = np.arange(400) % 10
    replay = Replay(digits[:300], labels[:300], digits[300:], labels[300:])
    cfg = tuning.FinetuneConfig(steps=5, learns="dense", replay_pool=200, hard_replay=3)
    old = build_model("compact")
    anchor = anchor_mod.anchor_of(old, "a model", replay, cfg)
    assert (
        anchor.at == anchor_mod.first_learning(old, "dense")
        and anchor.pool_in.shape[1:] == old.layers[anchor.at].input.shape[1:]
    )
    x_saved, y_saved = rng.random((20, 28, 28)).astype(np.float32), np.arange(20) % 10
    saved_in = anchor.inputs(x_saved)
    warps = anchor_mod.warped(anchor, x_saved, cfg)
    assert warps.shape[:2] == (20, 8)  # 5 steps x 32 drawings, shared by 20
    new = tuning.tune(anchor, saved_in, y_saved, warps, cfg)
    for i, (was, now) in enumerate(zip(old.layers, new.layers, strict=True)):
        if was.get_weights():
            same = all(np.array_equal(a, b) for a, b in zip(was.get_weights(), now.get_weights(), strict=True))
            assert same == (i < anchor.at or new.kept == 1.0), was.name
    x = rng.random((4, 28, 28)).astype(np.float32)
    whole = new.predict(x[..., None], verbose=0)
    assert np.allclose(anchor.head(new).predict(anchor.inputs(x), verbose=0), whole, atol=1e-5)
    files = sorted(p.name for p in (tmp_path / "cache").iterdir())
    again = anchor_mod.anchor_of(old, "a model", replay, cfg)  # read back, not computed
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == files
    assert np.array_equal(again.pool_in, anchor.pool_in) and np.array_equal(again.pool_teacher, anchor.pool_teacher)
