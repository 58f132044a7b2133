"""Take docs/gradio.png: the Gradio demo in headless Chromium with a digit drawn by the mouse.

    python scripts/gradio_screenshot.py [--digit 3] [--out docs/gradio.png]

It starts the real app (``python gradio_app.py``) on a free port, draws the way the browser tests
do, waits for the answer, and saves the page.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.servers import free_port, serve
from scripts.browser import launch
from scripts.gradio_page import draw, expect_answer, open_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digit", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "gradio.png")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    with serve(["gradio_app.py", "--port", str(port)], url), sync_playwright() as pw:
        browser = launch(pw)
        page = browser.new_page(viewport={"width": 1100, "height": 720})
        open_app(page, url)
        draw(page, args.digit)
        expect_answer(page, str(args.digit))
        page.mouse.move(0, 0)  # no brush cursor over the drawing
        args.out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(args.out))
        browser.close()
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
