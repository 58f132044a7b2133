"""What every teaching notebook does first, in one call, and the pictures several of them draw.

A notebook in ``notebooks/`` starts with::

    import digitrec.notebook as nb

    QUICK = nb.setup()  # nb.setup(tensorflow=True) in the notebooks that train or load Keras

A kernel started by JupyterLab, ``jupyter nbconvert`` or nbval runs in the notebook's folder, so
``digitrec`` comes from the environment: ``make install`` installs this checkout in editable mode
(``pip install -e .``), and the tests also put the checkout on the kernels' ``PYTHONPATH``
(conftest.py), so a worktree's notebooks import that worktree's code.

``setup`` then does what the notebooks used to repeat in 25-39 lines: quiet TensorFlow's C++ log,
find MNIST and the real handwriting (``$DIGITREC_MNIST_DIR`` and ``$DIGITREC_HANDWRITING_DIR``, else
``../shared/data/{mnist,handwriting}`` beside the checkout, as ``make lab`` and the tests use),
import TensorFlow with its start-up notices hidden (``digitrec.quiet``), draw figures inline with
the same defaults everywhere, and say whether this is a quick run (``DIGITREC_QUICK=1``, the tests:
small subsets, one epoch) or a full one.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from digitrec.data.handwriting import ENV_VAR as HANDWRITING_ENV
from digitrec.data.mnist import ENV_VAR as MNIST_ENV
from digitrec.data.mnist import DataError
from digitrec.paths import ROOT, model_path

QUICK_ENV = "DIGITREC_QUICK"
# Where `make lab`, `make notebooks` and the tests find the data when the variables are unset.
DATA_FOLDERS = {MNIST_ENV: "mnist", HANDWRITING_ENV: "handwriting"}
RC_PARAMS = {"figure.dpi": 80, "image.cmap": "gray"}
SHA_PREFIX = 12  # hex digits of the model's SHA-256 the set-up line prints: enough to tell models apart


def quick() -> bool:
    """True in quick mode (``DIGITREC_QUICK=1``): small subsets and one epoch."""
    return os.environ.get(QUICK_ENV) == "1"


def find_data(root: Path = ROOT) -> dict[str, str | None]:
    """Fill each unset data variable from ``<root>/../shared/data/<folder>`` when that folder
    exists; return every variable's value (None where there is still none)."""
    shared = Path(root).parent / "shared" / "data"
    for var, folder in DATA_FOLDERS.items():
        if not os.environ.get(var) and (shared / folder).is_dir():
            os.environ[var] = str(shared / folder)
    return {var: os.environ.get(var) or None for var in DATA_FOLDERS}


def shown_path(path: str | os.PathLike, root: Path = ROOT) -> str:
    """``path`` relative to the checkout (``../shared/data/mnist``), so no notebook output names a
    machine's own folders; a path on another drive keeps only its last two parts."""
    try:
        return os.path.relpath(Path(path), Path(root))
    except ValueError:  # Windows: another drive has no relative path
        return str(Path(*Path(path).parts[-2:]))


def model_sha(path: str | os.PathLike | None = None) -> str | None:
    """The first ``SHA_PREFIX`` hex digits of the model's SHA-256 as its card records it (the
    committed model unless ``path`` or ``$DIGITREC_MODEL`` says otherwise); None without a card."""
    from digitrec import card

    info = card.read(model_path(path)) or {}
    return info["sha256"][:SHA_PREFIX] if info.get("sha256") else None


def setup(tensorflow: bool = False, root: Path = ROOT) -> bool:
    """Prepare a notebook: log level, data folders, TensorFlow (if asked), matplotlib. Returns QUICK.

    Prints one line: the mode, the data folders relative to the checkout, the model the notebook
    reads (``model sha256 <prefix>``, from its card: which model produced the outputs), and
    TensorFlow's version when it was imported.

    Raises ``DataError`` when there is no MNIST folder (every notebook reads MNIST); a missing
    handwriting folder is reported by ``digitrec.data.handwriting.load_handwriting`` where it is read.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow loads: no C++ log noise
    folders = find_data(root)
    if not folders[MNIST_ENV]:
        raise DataError(f"no MNIST: set {MNIST_ENV} to the folder with the four MNIST IDX files")
    versions = []
    if tensorflow:
        from digitrec.quiet import quiet_stderr

        with quiet_stderr():  # TensorFlow's C++ start-up notices go straight to file descriptor 2
            import tensorflow as tf  # keras and digitrec.training reuse this import
        versions.append(f"TensorFlow {tf.__version__}")
    _matplotlib()
    mode = "quick mode" if quick() else "full mode"
    where = [
        f"{folder} from {shown_path(folders[var], root) if folders[var] else '(not found)'}"
        for var, folder in DATA_FOLDERS.items()
    ]
    model = f"model sha256 {model_sha() or '(no card)'}"
    print(" | ".join([mode, *where, model, *versions]))
    return quick()


# --- what a notebook printed: which model, which figures --------------------------------------------

SHA_LINE = re.compile(r"model sha256 ([0-9a-f]{8,64})")
# a number standing on its own (not inside a word, a hex digest or 1.8e-06), thousands commas allowed
FIGURE = re.compile(r"(?<![\w.])(?<!e-)(?<!e\+)(\d+(?:,\d{3})*(?:\.\d+)?)(%)?(?!\.?\w)")


@dataclass
class Printed:
    """What a notebook's committed outputs say: ``models`` maps each model SHA-256 prefix printed by
    ``setup`` to the cells (counted from 0, markdown included) that printed it; ``figures`` holds every
    number printed as text, as ``(cell, line, value)`` with percentages as fractions (99.47% -> 0.9947)."""

    models: dict[str, list[int]] = field(default_factory=dict)
    figures: list[tuple[int, str, float]] = field(default_factory=list)

    def find(self, words: str) -> list[float]:
        """The figures printed on lines that contain ``words``, in order."""
        return [value for _, line, value in self.figures if words in line]


def printed(path: str | os.PathLike) -> Printed:
    """Read a notebook file (without running it) and collect the model SHA prefixes and the figures
    its code cells printed (stream output and plain-text results; figures drawn as images are not read)."""
    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    found = Printed()
    for index, cell in enumerate(cells):
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            text = output.get("text") or output.get("data", {}).get("text/plain", "")
            for line in ("".join(text) if isinstance(text, list) else text).splitlines():
                for sha in SHA_LINE.findall(line):
                    found.models.setdefault(sha, []).append(index)
                line_wo_sha = SHA_LINE.sub("", line)
                for number, percent in FIGURE.findall(line_wo_sha):
                    value = float(number.replace(",", ""))
                    found.figures.append((index, line.strip(), value / 100 if percent else value))
    return found


def _matplotlib() -> None:
    """Figures inline in the notebook (the tests set MPLBACKEND=Agg, which shows nothing), same defaults."""
    import matplotlib.pyplot as plt

    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: keep whatever backend is set
        shell = None
    else:
        shell = get_ipython()
    if shell is not None and getattr(shell, "kernel", None) is not None:
        shell.run_line_magic("matplotlib", "inline")
    plt.rcParams.update(RC_PARAMS)


# --- pictures more than one notebook draws ---------------------------------------------------------


def text_colours(values: np.ndarray, cmap: str = "Reds", vmax: float | None = None) -> np.ndarray:
    """For each cell coloured by ``cmap``, the text colour that stays legible on it: white on dark
    cells, black on light ones (by the cell colour's luminance)."""
    import matplotlib

    values = np.asarray(values, dtype=float)
    top = float(values.max()) if vmax is None else vmax
    rgba = matplotlib.colormaps[cmap](values / top if top > 0 else values)
    luminance = rgba[..., :3] @ np.array([0.2126, 0.7152, 0.0722])
    return np.where(luminance < 0.5, "white", "black")


def confusion_matrix(confusion: Sequence[Sequence[int]], ax=None, title: str = "", cmap: str = "Reds"):
    """A 10x10 confusion matrix (rows: true digit, columns: prediction), every count written on its
    cell. Only the mistakes are coloured, so they stand out; the diagonal (the right answers) stays
    white with its counts in black."""
    import matplotlib.pyplot as plt

    confusion = np.asarray(confusion)
    off = confusion.copy()
    np.fill_diagonal(off, 0)
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 5))
    vmax = max(int(off.max()), 1)
    ax.imshow(off, cmap=cmap, vmin=0, vmax=vmax)
    colours = text_colours(off, cmap, vmax)
    for t in range(confusion.shape[0]):
        for p in range(confusion.shape[1]):
            if confusion[t, p]:
                ax.text(p, t, confusion[t, p], ha="center", va="center", fontsize=8, color=colours[t, p])
    ax.set_xticks(range(confusion.shape[1]))
    ax.set_yticks(range(confusion.shape[0]))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true digit")
    if title:
        ax.set_title(title)
    return ax


# What tells the pairs apart, in the strokes (the pairs any digit reader mixes up); notebook 4 names
# them under the most confused pairs.
SEPARATES = {
    (0, 2): "a 2 runs out along the bottom, a 0 closes its loop",
    (0, 5): "a 5 has a flat bar and a corner at the top, a 0 is one round loop",
    (0, 6): "a 6 starts with an open top stroke into a small loop, a 0 is one big loop",
    (0, 8): "an 8 pinches in at the waist, a 0 does not",
    (0, 9): "a 9 hangs a tail below its loop, a 0 is the loop alone",
    (1, 2): "a 2 turns into a bar at the foot, a 1 stays straight",
    (1, 4): "a 4 has a second stroke and a crossbar beside the upright",
    (1, 6): "a 6 ends in a loop at the bottom, a 1 in a plain stroke",
    (1, 7): "the bar at the top: a 1's flag is short and slanted, a 7's bar long",
    (1, 8): "an 8 is two loops, a 1 one stroke",
    (2, 3): "a 2 ends in a flat bar, a 3 curves back round",
    (2, 6): "a 6 closes its loop at the bottom, a 2 runs out along it",
    (2, 7): "a 2 ends in a bar along the bottom, a 7 in a plain tail",
    (2, 8): "an 8 closes its lower loop, a 2 runs out along the bottom",
    (3, 5): "the top half: a 3 curves round, a 5 has a flat bar on a short upright",
    (3, 7): "a 3 has a second bump below the first, a 7 a straight stroke down",
    (3, 8): "an 8 closes its loops on the left, a 3 leaves them open",
    (3, 9): "a 9 closes its top loop on the left, a 3 leaves it open",
    (4, 6): "a 6 closes a loop at the bottom, a 4 is open with a crossbar",
    (4, 7): "a crossed 7's bar can pass for a 4's crossbar; a 4 has a stroke down on the left",
    (4, 9): "whether the top is closed",
    (5, 6): "whether the bottom loop is closed",
    (5, 8): "an 8's top is a closed loop, a 5's a flat bar",
    (5, 9): "a 9 closes its top into a loop, a 5 has a flat bar there",
    (6, 8): "an 8 closes a loop at the top, a 6 has an open stroke there",
    (6, 9): "where the loop is: at the bottom for a 6, at the top for a 9",
    (7, 8): "an 8 closes two loops, a 7 is a bar and one stroke",
    (7, 9): "a 9 closes its top into a loop, a 7 is a bar",
    (8, 9): "an 8 closes a second loop at the bottom, a 9 ends in a tail",
}


def usual_suspects(off: np.ndarray, top: int = 4) -> None:
    """The most confused unordered pairs (a 4 read as a 9 and a 9 read as a 4 count together)."""
    both = off + off.T
    ranked = sorted(((both[a, b], a, b) for a in range(10) for b in range(a + 1, 10) if both[a, b]), reverse=True)
    print("either way:", ", ".join(f"{a}/{b}: {n}" for n, a, b in ranked[:6]))
    for n, a, b in ranked[:top]:
        print(f"  {a}/{b} ({n}): {SEPARATES.get((a, b), 'no stroke rule to name: look at the pictures')}")


def image_grid(
    images: Sequence[np.ndarray],
    titles: Sequence[str] = (),
    cols: int = 8,
    size: float = 1.5,
    title_colours: Sequence[str] = (),
    fontsize: int = 9,
    title: str = "",
):
    """Images in rows of ``cols``, each with its title (and title colour), axes hidden, the whole
    figure under ``title``; returns the figure."""
    import matplotlib.pyplot as plt

    rows = max(1, -(-len(images) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * size, rows * (size + 0.35)), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i, (ax, image) in enumerate(zip(axes.flat, images, strict=False)):
        ax.imshow(image)
        if i < len(titles):
            colour = title_colours[i] if i < len(title_colours) else "black"
            ax.set_title(titles[i], fontsize=fontsize, color=colour)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def learning_curves(histories: dict[str, dict[str, Sequence[float]]], title: str, after: dict[str, int] | None = None):
    """Loss and accuracy per epoch, training (dashed) and validation (solid), one colour per run;
    ``histories`` maps a run's name to Keras' ``History.history`` (or a model card's ``history``).
    ``after`` maps a run that continued another (fine-tuning) to the epochs before its first one."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    for (name, h), color in zip(histories.items(), ["C0", "C1", "C2", "C3"], strict=False):
        epochs = np.arange(1, len(h["loss"]) + 1) + (after or {}).get(name, 0)
        for ax, metric in zip(axes, ["loss", "accuracy"], strict=True):
            ax.plot(epochs, h[metric], "o--", color=color, label=f"{name} training (running average)")
            ax.plot(epochs, h[f"val_{metric}"], "o-", color=color, label=f"{name} validation")
    axes[0].set_ylabel("loss (cross-entropy)")
    axes[1].set_ylabel("accuracy")
    for ax, what in zip(axes, ["loss", "accuracy"], strict=True):
        ax.set_xlabel("epoch")
        ax.set_title(what, fontsize=10)
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
    axes[1].legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_pictures(pictures: Sequence[np.ndarray], titles: Sequence[str], width: float = 4.5) -> None:
    """Pictures side by side (RGB arrays or grey ink maps), each with its title."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(pictures), figsize=(width * len(pictures), 2.2), squeeze=False)
    for ax, pic, title in zip(axes[0], pictures, titles, strict=True):
        ax.imshow(pic, cmap="gray" if pic.ndim == 2 else None)
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    plt.show()


def with_boxes(image: np.ndarray, boxes: Sequence[Sequence[int]], colour=(213, 94, 0)) -> np.ndarray:
    """The drawing with rectangles: what a step found (boxes ``(x0, y0, x1, y1)`` in the image's pixels)."""
    from PIL import Image, ImageDraw

    from digitrec import imageio

    img = Image.fromarray(imageio.picture(image))
    draw = ImageDraw.Draw(img)
    for x0, y0, x1, y1 in boxes:
        draw.rectangle((x0 - 1, y0 - 1, x1, y1), outline=colour, width=2)
    return np.asarray(img)


def strip_and_frames(strip: np.ndarray, frames: np.ndarray, title: str) -> None:
    """The learned reader's view of a number: its 32x256 strip above its (T, 11) frame probabilities,
    each frame drawn under the 4 strip columns it reads (``digitrec.segment.learned``)."""
    import matplotlib.pyplot as plt

    from digitrec.segment.line import STRIDE

    width = STRIDE * len(frames)
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(9, 4.4), sharex=True, gridspec_kw={"height_ratios": [1, 1.5]}
    )  # fmt: skip
    top.imshow(strip[:, :width], cmap="gray", extent=(0, width, strip.shape[0], 0))
    top.set_title(title, fontsize=10)
    top.set_ylabel("strip row")
    bottom.imshow(frames.T, aspect="auto", cmap="Blues", vmin=0, vmax=1, extent=(0, width, 10.5, -0.5))
    bottom.set_yticks(range(11), [*map(str, range(10)), "blank"])
    bottom.set_xlabel(f"strip column (one frame = {STRIDE} columns)")
    bottom.set_ylabel("class")
    bottom.set_title("each frame's 11 probabilities (dark = likely)", fontsize=9)
    fig.tight_layout()
    plt.show()
