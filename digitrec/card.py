"""The model card: a JSON file next to each model saying what it is, how it was made, how it scores.

``models/digit_recognizer.keras`` -> ``models/digit_recognizer.json``. Its ``sha256`` lets the
predictor refuse a model file that is not the one the card describes.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np


def card_path(model_path: str | os.PathLike) -> Path:
    return Path(model_path).with_suffix(".json")


def sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read(model_path: str | os.PathLike) -> dict | None:
    """The card next to ``model_path``, or None if there is none (or it is not valid JSON)."""
    path = card_path(model_path)
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def write(model_path: str | os.PathLike, card: dict) -> Path:
    path = card_path(model_path)
    path.write_text(json.dumps(card, indent=2) + "\n")
    return path


def classification_report(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, Any]:
    """Accuracy, per-class accuracy and the confusion matrix (rows: true digit, columns: predicted)."""
    confusion = np.zeros((10, 10), dtype=int)
    np.add.at(confusion, (np.asarray(y_true, int), np.asarray(y_pred, int)), 1)
    per_class = confusion.diagonal() / np.maximum(confusion.sum(axis=1), 1)
    return {
        "images": int(len(y_true)),
        "accuracy": round(float(confusion.trace() / max(len(y_true), 1)), 5),
        "errors": int(len(y_true) - confusion.trace()),
        "per_class_accuracy": {str(d): round(float(a), 5) for d, a in enumerate(per_class)},
        "confusion_matrix": confusion.tolist(),
    }


def versions() -> dict[str, str]:
    import keras
    import tensorflow as tf

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
    }


def build(
    model_path: Path,
    model,
    x_test: np.ndarray,
    y_test: np.ndarray,
    training: dict,
    data_dir: str | None,
    handwriting_md5: dict | None = None,
) -> dict:
    """A fresh card for a just-saved model, with its MNIST test figures."""
    from digitrec.data.mnist import data_md5s

    probs = model.predict(x_test[..., None], batch_size=1000, verbose=0)
    return {
        "file": Path(model_path).name,
        "sha256": sha256(model_path),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "architecture": model.name,
        "parameters": int(model.count_params()),
        "input": "28x28x1 float32 in [0, 1], white ink on black, MNIST-framed (digitrec.preprocess)",
        "output": "10 softmax probabilities" if model.name != "seed" else "10 independent sigmoids",
        "mnist_test": classification_report(y_test, probs.argmax(axis=1)),
        "training": training,
        "versions": versions(),
        "data_md5": data_md5s(data_dir),
        "handwriting_md5": handwriting_md5,
    }


def trained_writers(card: dict | None) -> set[str]:
    """The real writers whose digits the model trained on (none for a model without a card)."""
    data = ((card or {}).get("training") or {}).get("data") or {}
    return set((data.get("real_handwriting") or {}).get("writers", ()))
