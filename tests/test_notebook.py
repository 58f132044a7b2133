"""digitrec.notebook: the one set-up call every notebook makes, and the pictures they share."""

from __future__ import annotations

import json

import numpy as np
import pytest

import digitrec.notebook as nb
from digitrec.data.mnist import DataError
from tests.harness.support import ROOT


@pytest.fixture
def clean_env(monkeypatch):
    for var in (*nb.DATA_FOLDERS, nb.QUICK_ENV, "TF_CPP_MIN_LOG_LEVEL"):
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def fake_checkout(tmp_path, folders=("mnist", "handwriting")):
    root = tmp_path / "checkout"
    root.mkdir()
    for folder in folders:
        (tmp_path / "shared" / "data" / folder).mkdir(parents=True)
    return root


def test_setup_finds_the_shared_data_beside_the_checkout(tmp_path, clean_env, capsys):
    root = fake_checkout(tmp_path)
    assert nb.setup(root=root) is False
    assert nb.os.environ["DIGITREC_MNIST_DIR"] == str(tmp_path / "shared" / "data" / "mnist")
    assert nb.os.environ["DIGITREC_HANDWRITING_DIR"] == str(tmp_path / "shared" / "data" / "handwriting")
    assert nb.os.environ["TF_CPP_MIN_LOG_LEVEL"] == "2"
    assert capsys.readouterr().out.startswith("full mode | mnist from ")


def test_setup_keeps_folders_already_set_and_reads_quick(tmp_path, clean_env):
    root = fake_checkout(tmp_path)
    clean_env.setenv("DIGITREC_MNIST_DIR", "/somewhere/else")
    clean_env.setenv(nb.QUICK_ENV, "1")
    assert nb.setup(root=root) is True
    assert nb.os.environ["DIGITREC_MNIST_DIR"] == "/somewhere/else"


def test_setup_without_mnist_says_what_to_set(tmp_path, clean_env):
    root = fake_checkout(tmp_path, folders=("handwriting",))
    with pytest.raises(DataError, match="DIGITREC_MNIST_DIR"):
        nb.setup(root=root)


def test_text_on_dark_cells_is_white_and_on_light_cells_black():
    colours = nb.text_colours(np.array([[0, 1, 10], [2, 5, 9]]), "Reds")
    assert colours[0, 0] == "black" and colours[0, 1] == "black"
    assert colours[0, 2] == "white" and colours[1, 2] == "white"


def test_confusion_matrix_writes_every_count_legibly():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    confusion = np.diag(np.full(10, 100))
    confusion[4, 9], confusion[9, 4], confusion[3, 5] = 7, 1, 3
    ax = nb.confusion_matrix(confusion)
    texts = {(t.get_position(), t.get_text()): t.get_color() for t in ax.texts}
    assert len(texts) == 13  # ten diagonal counts and three mistakes
    assert texts[((9, 4), "7")] == "white"  # the darkest cell
    assert texts[((4, 9), "1")] == "black"  # a light one
    assert texts[((0, 0), "100")] == "black"  # the diagonal is left white
    plt.close("all")


def test_every_notebook_sets_up_through_digitrec_notebook():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        first_code = next(c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code")
        source = "".join(first_code["source"])
        assert "import digitrec.notebook as nb" in source and "nb.setup(" in source, path.name


def test_setup_prints_folders_relative_to_the_checkout_and_the_models_sha(tmp_path, clean_env, capsys):
    root = fake_checkout(tmp_path)
    model = tmp_path / "m.keras"
    model.write_bytes(b"not really a model")
    (tmp_path / "m.json").write_text(json.dumps({"sha256": "ab" * 32}))
    clean_env.setenv("DIGITREC_MODEL", str(model))
    nb.setup(root=root)
    line = capsys.readouterr().out
    assert "mnist from ../shared/data/mnist | handwriting from ../shared/data/handwriting" in line
    assert str(tmp_path) not in line
    assert line.rstrip().endswith(f"| model sha256 {'ab' * 6}")  # the card's SHA-256, cut to 12 digits


def fake_notebook(path, outputs_by_cell):
    """A notebook file whose code cells printed the given texts (one list of outputs per cell)."""
    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["# a title: 99.9% in prose is not printed"]}]
    for outputs in outputs_by_cell:
        cells.append({"cell_type": "code", "metadata": {}, "source": [], "outputs": outputs})
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def stream(text):
    return {"output_type": "stream", "name": "stdout", "text": text.splitlines(keepends=True)}


def test_printed_finds_the_model_shas_and_figures_a_notebook_printed(tmp_path):
    path = fake_notebook(
        tmp_path / "fake.ipynb",
        [
            [stream("full mode | mnist from ../shared/data/mnist | model sha256 654498f0befc\n")],
            [stream("MNIST test accuracy 99.47% (53 errors in 10,000)\n")],
            [{"output_type": "execute_result", "data": {"text/plain": "'3 epochs'"}, "metadata": {}}],
            [stream("model sha256 3aa6cac0a727 | TensorFlow 2.21.0\n")],
            [stream("fine-tuned from sha256 3aa6cac0a727; difference 1.8e-06.\n")],
        ],
    )
    found = nb.printed(path)
    assert found.models == {"654498f0befc": [1], "3aa6cac0a727": [4]}  # cells count from 0, markdown included
    assert found.find("MNIST test accuracy") == [0.9947, 53, 10_000]
    assert (3, "'3 epochs'", 3) in found.figures
    assert all(value != 0.999 for _, _, value in found.figures)  # markdown is prose, not output
    assert not any(value == 654498 for _, _, value in found.figures)  # a SHA is not a figure
    assert [value for cell, _, value in found.figures if cell == 5] == []  # nor a digest elsewhere, nor 1.8e-06
    assert found.find("2.21.0") == []  # a version is not a figure either


def test_printed_on_a_notebook_without_outputs_finds_nothing(tmp_path):
    found = nb.printed(fake_notebook(tmp_path / "empty.ipynb", [[], []]))
    assert found.models == {} and found.figures == []


def test_shown_path_is_relative_to_the_checkout(tmp_path):
    assert nb.shown_path(tmp_path / "shared" / "data" / "mnist", tmp_path / "checkout") == "../shared/data/mnist"


# --- the committed outputs: one model, the committed one, and what they print of it agrees with its card ----


NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
MACHINE_PATHS = ("/tmp/", "/work/", "/home/", "/root/", "/Users/")


def committed_card() -> dict:
    from digitrec import card
    from digitrec.paths import DEFAULT_MODEL

    return card.read(DEFAULT_MODEL)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_outputs_come_from_the_committed_model(path):
    """Re-run the notebooks (``make notebooks``) whenever the committed model changes."""
    shown = nb.printed(path)
    assert set(shown.models) == {committed_card()["sha256"][:12]}, f"{path.name} ran with another model"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_outputs_show_no_machine_path(path):
    cells = json.loads(path.read_text())["cells"]
    text = json.dumps([c.get("outputs", []) for c in cells])
    assert not [p for p in MACHINE_PATHS if p in text]


def test_what_the_notebooks_print_about_the_committed_model_agrees_with_its_card():
    card = committed_card()
    mnist = card["mnist_test"]

    def shown(name: str) -> nb.Printed:
        return nb.printed(ROOT / "notebooks" / name)

    assert shown("03_training.ipynb").find("its card says")[:2] == [round(mnist["accuracy"], 4), mnist["errors"]]
    assert shown("04_errors.ipynb").find("errors in")[:2] == [round(mnist["accuracy"], 4), mnist["errors"]]
    assert shown("05_saving.ipynb").find("MNIST test:")[:2] == [round(mnist["accuracy"], 4), mnist["errors"]]
