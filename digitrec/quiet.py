"""Silence native libraries that write straight to file descriptor 2.

TensorFlow's start-up notices and LiteRT's "Created TensorFlow Lite XNNPACK delegate" line come
from C++ code that bypasses Python's ``sys.stderr`` and offers no switch: only redirecting the
descriptor itself, for as long as the noisy call lasts, hides them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def quiet_stderr() -> Iterator[None]:
    """Send file descriptor 2 to the null device inside the ``with`` block, then restore it."""
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
