"""What the tests share that is theirs alone: where the repository is and the CLI run as a user
runs it.

Servers come from ``benchmarks.servers`` and the browser from ``scripts.browser``, which the
benchmarks and the screenshot scripts use too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, timeout: float = 600, **env: str) -> subprocess.CompletedProcess:
    """``python -m digitrec ARGS...`` in a real subprocess from the repository, with ``env`` added to
    the environment; its output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "digitrec", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **env},
    )
