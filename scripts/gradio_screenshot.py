"""Take docs/gradio.png or docs/gradio_number.png: the Gradio demo in headless Chromium, drawn on by the mouse.

    python -m scripts.gradio_screenshot [--digit 3] [--out docs/gradio.png]
    python -m scripts.gradio_screenshot --number 305 [--out docs/gradio_number.png]

Run from the repository root. It starts the real app (``python gradio_app.py``) on a free port, saving
into a fresh ``digitrec-screenshot`` folder in the system's temporary folder (so the saving controls
show, no real drawing store is touched, and the saved line names the same path every run: on Linux
``/tmp/digitrec-screenshot/drawings.sqlite3``), draws the way the browser tests do,
waits for the answer, and saves the page. With ``--number`` it writes on the number pad, picks the
second digit under "Which digit" and saves the number section: the pad, its boxes, the per-digit
table, the Right / Wrong buttons and the saved line.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.harness.browser import launch
from tests.harness.gradio_page import draw, expect_answer, expect_number, open_app, open_number_pad, write_number
from tests.harness.processes import ROOT
from tests.harness.servers import free_port, serve

USER = "ana"  # the name the saved line shows: never the login name of whoever takes the screenshot
MARGIN = 16  # page pixels kept around what is shown


def shoot_digit(page: Page, url: str, digit: int, out: Path) -> None:
    """The top of the page with ``digit`` drawn on the Sketchpad, its answer and the saving controls
    (down to the line saying where drawings are kept)."""
    page.set_viewport_size({"width": 1100, "height": 2400})  # nothing scrolls: boxes are page coordinates
    open_app(page, url)
    draw(page, digit)
    expect_answer(page, str(digit))
    page.mouse.move(0, 0)  # no brush cursor over the drawing
    bottom = page.locator("#saved").bounding_box()
    page.screenshot(
        path=str(out), clip={"x": 0, "y": 0, "width": 1100, "height": bottom["y"] + bottom["height"] + MARGIN}
    )


def shoot_number(page: Page, url: str, number: str, out: Path) -> None:
    """The number section with ``number`` written, read, and its second digit (if any) picked for saving."""
    # Tall enough for the whole page: nothing scrolls, so bounding boxes are page coordinates for the clip.
    page.set_viewport_size({"width": 1100, "height": 2400})
    open_number_pad(page, url)
    write_number(page, number)
    expect_number(page, number)
    radios = page.locator("#number-which input[type=radio]")
    expect(radios).to_have_count(len(number), timeout=30_000)
    radios.nth(min(1, len(number) - 1)).check()
    expect(page.locator("#number-saved")).to_contain_text("saved by", timeout=30_000)
    page.mouse.move(0, 0)
    top = page.get_by_role("heading", name="Or write a whole number").bounding_box()
    bottom = page.locator("#number-saved").bounding_box()
    y = top["y"] - MARGIN
    page.screenshot(
        path=str(out), clip={"x": 0, "y": y, "width": 1100, "height": bottom["y"] + bottom["height"] + MARGIN - y}
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digit", type=int, default=3)
    parser.add_argument("--number", help="write this number on the number pad instead (e.g. 305)")
    parser.add_argument("--out", type=Path, help="default docs/gradio.png, with --number docs/gradio_number.png")
    args = parser.parse_args()
    if args.number is not None and not args.number.isdecimal():
        parser.error(f"--number must be digits, not {args.number!r}")
    out = args.out or ROOT / "docs" / ("gradio_number.png" if args.number else "gradio.png")
    out.parent.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    data = Path(tempfile.gettempdir()) / "digitrec-screenshot"  # a fixed name: the saved line shows it
    shutil.rmtree(data, ignore_errors=True)  # empty, so the count reads 0 every run
    data.mkdir()
    try:
        command = ["gradio_app.py", "--port", str(port), "--db", str(data / "drawings.sqlite3")]
        # getpass reads LOGNAME first: the app's default user name
        with serve(command, url, env={"LOGNAME": USER, "USER": USER}), sync_playwright() as pw:
            browser = launch(pw)
            page = browser.new_page()
            if args.number:
                shoot_number(page, url, args.number, out)
            else:
                shoot_digit(page, url, args.digit, out)
            browser.close()
    finally:
        shutil.rmtree(data, ignore_errors=True)
    print(f"saved {out}")


if __name__ == "__main__":
    main()
