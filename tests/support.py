"""What the tests share that is theirs alone: where the repository is.

Servers come from ``benchmarks.servers`` and the browser from ``scripts.browser``, which the
benchmarks and the screenshot scripts use too.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
