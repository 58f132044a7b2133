"""Where things live by default; every one can be overridden by an argument or variable."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
DEFAULT_MODEL = MODELS / "digit_recognizer.keras"
MODEL_ENV = "DIGITREC_MODEL"


def model_path(path: str | os.PathLike | None = None) -> Path:
    """The model file: ``path`` if given, else ``$DIGITREC_MODEL``, else the committed model."""
    return Path(path or os.environ.get(MODEL_ENV) or DEFAULT_MODEL).expanduser()
