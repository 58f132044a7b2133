"""Headless Chromium for the browser tests and the screenshot scripts: which binary, which flags."""

from __future__ import annotations

import os
from typing import Any

# Debian's Chromium (scripts/install-chromium.sh); Playwright's own browser download is not used.
CHROMIUM = os.environ.get("DIGITREC_CHROMIUM", "/usr/bin/chromium")
# Flags for a sandboxed CI machine without network: no first-run, sync or background requests.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def launch(playwright: Any) -> Any:
    """A headless ``CHROMIUM`` started by a ``sync_playwright()`` instance; the caller closes it."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
