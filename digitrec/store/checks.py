"""What the drawing store accepts: a digit label, a user name, a source and a drawing that is no
blank, each checked (and cleaned) before anything is written. ``InvalidDrawing`` says what is wrong."""

from __future__ import annotations

import getpass
import re
from typing import Any

import numpy as np

from digitrec import imageio

MAX_PNG_BYTES = 512 * 1024  # one drawing, re-encoded as PNG (a 280x280 canvas is 3-10 KiB)
SOURCES = ("gradio", "flask", "pygame", "cli")
MAX_USER = 64


class InvalidDrawing(ValueError):
    """A label, user name or source that cannot be saved, or a blank drawing."""


def default_user() -> str:
    """The local user's login name (the default owner of saved drawings)."""
    try:
        return clean_user(getpass.getuser())
    except (OSError, KeyError, InvalidDrawing):  # no login name (some containers): still save
        return "local"


def clean_user(user: Any) -> str:
    """A user name as stored: 1-64 printable characters, spaces trimmed. Raises ``InvalidDrawing``."""
    if not isinstance(user, str):
        raise InvalidDrawing(f"the user name must be text, not {type(user).__name__}")
    user = user.strip()
    if not user or len(user) > MAX_USER or not user.isprintable():
        raise InvalidDrawing(f"the user name must be 1 to {MAX_USER} printable characters")
    return user


def whole_number(value: Any, max_digits: int) -> int | None:
    """``value`` as an int: an int (never a bool), or a string of 1 to ``max_digits`` ASCII digits
    0-9, spaces around it trimmed; None for anything else. The one rule for a label and a digit's
    position: other scripts' digits ("١", "３"), which ``int()`` would take, are refused."""
    if isinstance(value, str):
        text = value.strip()
        return int(text) if re.fullmatch(f"[0-9]{{1,{max_digits}}}", text) else None
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    return None


def check_label(label: Any) -> int:
    """A digit 0-9 (an int, or a string of one digit). Raises ``InvalidDrawing``."""
    digit = whole_number(label, 1)
    if digit is None or not 0 <= digit <= 9:
        raise InvalidDrawing(f"the label must be a digit from 0 to 9, not {label!r}"[:120])
    return digit


def check_source(source: str) -> str:
    """One of ``SOURCES`` (the front end a drawing came from). Raises ``InvalidDrawing``."""
    if source not in SOURCES:
        raise InvalidDrawing(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
    return source


def drawing_png(image: imageio.ImageLike) -> bytes:
    """Any drawing ``preprocess`` accepts -> the PNG bytes kept: the grey picture (and its alpha when
    the ink is in alpha), re-encoded so nothing but pixels is stored. Very large inputs are area-reduced
    as ``preprocess`` reduces them. Raises ``InvalidImage`` (the predictor's limits) or
    ``InvalidDrawing`` (blank, or too large once encoded)."""
    from digitrec.preprocess import preprocess

    grey, alpha = imageio.decode(image)
    planes = [grey] if alpha is None else [grey, alpha]
    pixels = np.round(np.stack(planes, axis=-1) * 255).astype(np.uint8)
    png = imageio.png_bytes(pixels[..., 0] if alpha is None else pixels)
    if preprocess(png) is None:
        raise InvalidDrawing("the drawing is blank: draw a digit before saving it")
    if len(png) > MAX_PNG_BYTES:
        raise InvalidDrawing(f"the drawing is too large to keep ({len(png) // 1024} KiB as PNG)")
    return png
