"""What the tests share that is theirs alone: where the repository is, and which browser to drive.

Servers come from ``benchmarks.servers``, which the benchmarks use too.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("DIGITREC_CHROMIUM", "/usr/bin/chromium")
# Flags for a sandboxed CI machine without network: no first-run, sync or background requests.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
