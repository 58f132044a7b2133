"""Where things live by default; every one can be overridden by an argument or variable.

The committed models sit in the repository's top-level ``models/`` folder. A wheel ships the same
files as the package data of ``digitrec.models`` (pyproject.toml maps that package onto
``models/``), so they land in ``digitrec/models/`` inside site-packages. ``MODELS`` is whichever
of the two holds the model: the installed copy when there is one (a wheel), else the checkout's
folder (a checkout, with or without ``pip install -e .``).
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent  # the checkout's root (site-packages, in an installed wheel)
INSTALLED_MODELS = PACKAGE / "models"
MODEL_NAME = "digit_recognizer.keras"
MODELS = INSTALLED_MODELS if (INSTALLED_MODELS / MODEL_NAME).is_file() else ROOT / "models"
DEFAULT_MODEL = MODELS / MODEL_NAME
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


def why_not_written(path: str | os.PathLike, exc: OSError) -> str:
    """Why ``path`` (a folder or file) could not be made or written, in words: the file in the way
    when one of its folders is a file ("/x/notes is not a folder"), else the system's reason."""
    path = Path(path)
    blocker = next((p for p in (path, *path.parents) if p.exists() or p.is_symlink()), None)
    if blocker is not None and not blocker.is_dir() and (blocker != path or isinstance(exc, FileExistsError)):
        return f"{blocker} is not a folder"
    return exc.strerror or str(exc)
