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


def env_folder(env: str, given: str | os.PathLike | None = None, user: str | None = None) -> Path | None:
    """A folder: ``given`` if set, else ``$env``, else (with ``user`` "data" or "cache") the user's
    digitrec folder of that kind (``~/.local/share/digitrec``, ``~/.cache/digitrec`` on Linux); None
    when none of them applies. ``~`` is expanded. Every folder the project reads from a variable
    comes through here."""
    chosen = given or os.environ.get(env)
    if chosen:
        return Path(chosen).expanduser()
    if user is None:
        return None
    import platformdirs  # only when the user's own folder is wanted

    where = {"data": platformdirs.user_data_dir, "cache": platformdirs.user_cache_dir}[user]
    return Path(where("digitrec", appauthor=False))
