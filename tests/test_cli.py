"""python -m digitrec predict | evaluate | train: real subprocesses, as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from digitrec.data.canvases import to_png
from tests.harness.support import ROOT, run_cli


@pytest.fixture(scope="module")
def drawing_files(tmp_path_factory, make_drawing_png):
    folder = tmp_path_factory.mktemp("drawings")
    paths = {}
    for digit in (2, 5, 8):
        paths[digit] = folder / f"digit{digit}.png"
        paths[digit].write_bytes(make_drawing_png(digit, seed=3))
    paths["blank"] = folder / "blank.png"
    paths["blank"].write_bytes(to_png(np.full((100, 100, 3), 255, np.uint8)))
    paths["bad"] = folder / "notes.png"
    paths["bad"].write_text("this is not a picture")
    return paths


def test_predict_prints_digit_and_confidence(drawing_files):
    result = run_cli("predict", *(str(drawing_files[k]) for k in (2, 5, 8, "blank")))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert [line.split(": ")[1][0] for line in lines[:3]] == ["2", "5", "8"]
    assert "%" in lines[0]
    assert "blank" in lines[3]


def test_predict_json_and_top(drawing_files):
    result = run_cli("predict", "--json", str(drawing_files[5]))
    answer = json.loads(result.stdout)
    assert answer["digit"] == 5 and abs(sum(answer["probabilities"]) - 1) < 1e-4
    top = run_cli("predict", "--top", "3", str(drawing_files[5])).stdout
    assert top.count("%") == 3


def test_predict_bad_file_is_reported_and_others_still_answered(drawing_files):
    result = run_cli("predict", str(drawing_files["bad"]), str(drawing_files[2]), str(ROOT / "no-such-file.png"))
    assert result.returncode == 1
    assert "notes.png: error: not a readable image" in result.stderr
    assert "no-such-file.png: error: cannot read" in result.stderr
    assert "digit2.png: 2" in result.stdout
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo") or not Path("/dev/zero").exists(), reason="needs a FIFO and /dev/zero")
@pytest.mark.parametrize("mode", [[], ["--number"]], ids=["digit", "number"])
def test_predict_refuses_what_is_no_regular_file_or_too_large_without_reading_it(drawing_files, tmp_path, mode):
    """/dev/zero never ends and a FIFO with no writer never answers: each is refused in one line, unread,
    as a folder and a file over the limit are, and the other files are still read."""
    from digitrec.imageio import MAX_BYTES

    fifo, folder, big = tmp_path / "pipe.png", tmp_path / "folder.png", tmp_path / "big.png"
    os.mkfifo(fifo)
    folder.mkdir()
    with big.open("wb") as f:
        f.truncate(MAX_BYTES + 1)  # sparse: nothing on disk
    bad = ["/dev/zero", str(fifo), str(folder), str(big)]
    result = run_cli("predict", *mode, *bad, str(drawing_files[2]), timeout=120)
    assert result.returncode == 1, result.stderr
    errors = result.stderr.strip().splitlines()
    assert [line.split(": error: ")[0] for line in errors] == bad, result.stderr
    assert "not a regular file" in errors[0] and "not a regular file" in errors[1]
    assert "is a folder" in errors[2] and f"larger than {MAX_BYTES // 2**20} MiB" in errors[3]
    assert "digit2.png: 2" in result.stdout


def test_predict_without_model_says_how_to_train(drawing_files, tmp_path):
    result = run_cli("predict", str(drawing_files[2]), DIGITREC_MODEL=str(tmp_path / "missing.keras"))
    assert result.returncode == 2
    assert "python -m digitrec train" in result.stderr and "Traceback" not in result.stderr


def test_predict_does_not_import_tensorflow(drawing_files):
    code = (
        "import sys; from digitrec.cli import main; main(['predict', sys.argv[1]]); "
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(drawing_files[8])], cwd=ROOT, capture_output=True, text=True
    )
    assert result.stdout.strip().splitlines()[-1] == "False False"


@pytest.mark.slow
def test_evaluate_quick_prints_the_figures():
    result = run_cli("evaluate", "--quick")
    assert result.returncode == 0, result.stderr
    assert "MNIST test accuracy" in result.stdout and "confusion matrix" in result.stdout


@pytest.mark.slow
def test_evaluate_drawn_compares_with_naive_resizing():
    ours = run_cli("evaluate", "--quick", "--drawn", "--json")
    naive = run_cli("evaluate", "--quick", "--drawn", "--naive", "--json")
    assert ours.returncode == naive.returncode == 0, ours.stderr + naive.stderr
    ours, naive = json.loads(ours.stdout)["drawn"], json.loads(naive.stdout)["drawn"]
    assert set(ours) == set(naive) >= {"mnist_canvas", "pen_centred", "mnist_scans", "load_digits_heldout"}
    # Cropping and centring are what make canvas drawings readable at all.
    assert ours["mnist_canvas"]["accuracy"] > naive["mnist_canvas"]["accuracy"] + 0.2
    assert ours["mnist_canvas"]["images"] == 300


def test_missing_data_dir_is_a_clear_error(tmp_path):
    result = run_cli("evaluate", "--quick", "--data-dir", str(tmp_path / "nowhere"))
    assert result.returncode == 2 and "does not exist" in result.stderr and "Traceback" not in result.stderr


def test_help_lists_the_commands():
    result = run_cli("--help")
    for command in ("train", "evaluate", "predict", "export"):
        assert command in result.stdout


# --- drawings delete: "Forget me" -----------------------------------------------------------------


def delete(db: Path, *args: str, answer: str | None = None) -> tuple[int, str, str]:
    """``python -m digitrec drawings delete --db DB ARGS...``: without ``answer`` its stdin is no terminal;
    with one, a pseudo-terminal that types it. -> (exit status, stdout, stderr)."""
    command = [sys.executable, "-m", "digitrec", "drawings", "delete", "--db", str(db), *args]
    if answer is None:
        proc = subprocess.run(command, cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
        return proc.returncode, proc.stdout, proc.stderr
    import pty

    main, terminal = pty.openpty()
    proc = subprocess.Popen(command, cwd=ROOT, stdin=terminal, stdout=terminal, stderr=subprocess.PIPE, text=True)
    os.close(terminal)
    os.write(main, answer.encode() + b"\n")
    err = proc.communicate(timeout=120)[1]
    out = b""
    while True:  # the terminal's screen: the question, the answer typed and what it printed
        try:
            chunk = os.read(main, 4096)
        except OSError:  # EIO: the program has gone
            break
        if not chunk:
            break
        out += chunk
    os.close(main)
    return proc.returncode, out.decode().replace("\r\n", "\n"), err


def test_drawings_delete_forgets_a_user_after_asking(tmp_path, make_drawing_png):
    from digitrec.store import Store

    db = tmp_path / "d.sqlite3"
    with Store.open(db) as s:
        for digit, user in ((1, "ana"), (2, "bo"), (3, "ana")):
            s.save(make_drawing_png(digit), digit, user=user)
    status, out, err = delete(db, "--user", "ana")  # no terminal to ask on: refused
    assert status == 2 and out == ""
    assert err == "error: drawings delete asks before deleting: run it on a terminal, or add --yes\n"
    status, out, err = delete(db, "--user", "ana", answer="n")
    question = f"Delete all 2 drawings saved by ana from {db}? This cannot be undone. [y/N]"
    assert status == 1 and question in out + err  # input() asks on stderr on a terminal, without readline
    assert out.endswith("nothing deleted\n") and Store.open(db).count("ana") == 2
    status, out, _ = delete(db, "--user", "ana", answer="y")
    assert status == 0 and out.endswith(f"deleted 2 drawings of ana from {db}\n")
    status, out, _ = delete(db, "--user", "bo", "--yes")
    assert (status, out) == (0, f"deleted 1 drawing of bo from {db}\n")
    assert Store.open(db).count() == 0


def test_drawings_delete_needs_a_good_user_name(tmp_path):
    status, _, err = delete(tmp_path / "d.sqlite3", "--yes")
    assert status == 2 and "the following arguments are required: --user" in err
    status, _, err = delete(tmp_path / "d.sqlite3", "--user", " ", "--yes")
    assert status == 2 and err == "error: --user: the user name must be 1 to 64 printable characters\n"
    assert not (tmp_path / "d.sqlite3").exists()
