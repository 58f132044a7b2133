"""The Gradio app's page, driven in a browser as a user would: open it, draw a digit or write a number with
the mouse, read the answer.

Shared by the Gradio app's browser tests (tests/test_gradio_app.py, tests/test_gradio_numbers.py,
tests/test_number_feedback.py) and scripts/gradio_screenshot.py, so the screenshot shows what the tests check.
"""

from __future__ import annotations

import math

from playwright.sync_api import Page, expect

from digitrec.data.canvases import pen_paths
from gradio_app import CANVAS, HEIGHT


def draw(page: Page, digit: int, spacing: float = 12.0) -> None:
    """Draw ``digit`` on the Sketchpad with the mouse, stroke by stroke, as a user would.

    The pointer moves every ``spacing`` screen pixels along each stroke: the brush joins them into
    one continuous line, and each move costs a canvas render (slow in software WebGL).
    """
    box = page.locator("#sketchpad .pixi-target canvas").bounding_box()
    # The editor centres the canvas in its box at the zoom it shows ("128%").
    zoom = float(page.inner_text("#sketchpad .zoom-number").strip().rstrip("%")) / 100
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for stroke in pen_paths(digit, CANVAS):
        trace(page, [(cx + (x - CANVAS / 2) * zoom, cy + (y - CANVAS / 2) * zoom) for x, y in stroke], spacing)


def write_number(page: Page, text: str, spacing: float = 12.0) -> None:
    """``text`` on the number pad with the mouse, digit after digit, each 60% of the pad's height."""
    box = page.locator("#number-sketchpad .pixi-target canvas").bounding_box()
    zoom = float(page.inner_text("#number-sketchpad .zoom-number").strip().rstrip("%")) / 100
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for i, digit in enumerate(text):
        dx = (i - (len(text) - 1) / 2) * 0.62 * HEIGHT  # canvas pixels from the pad's middle
        for stroke in pen_paths(int(digit), HEIGHT):
            trace(page, [(cx + (x - HEIGHT / 2 + dx) * zoom, cy + (y - HEIGHT / 2) * zoom) for x, y in stroke], spacing)


def trace(page: Page, points: list[tuple[float, float]], spacing: float = 12.0) -> None:
    """One stroke through screen ``points``: pen down, a move every ``spacing`` pixels, pen up."""
    page.mouse.move(*points[0])
    page.mouse.down()
    last = points[0]
    for point in points[1:]:
        gap = math.dist(last, point)
        if gap >= spacing or point is points[-1]:
            page.mouse.move(*point, steps=max(1, round(gap / spacing)))
            last = point
    page.mouse.up()


def wait_for_brush(page: Page) -> None:
    """Wait until the brush is the selected tool; nothing here touches the toolbar."""
    from playwright.sync_api import TimeoutError

    try:
        page.locator("#sketchpad button.highlight[aria-label='Brush']").wait_for(timeout=60_000)
    except TimeoutError:
        # An AssertionError, so that a test reports it as a failure (not an error) without pytest here.
        message = "the Sketchpad has no brush selected: the user's first stroke would draw nothing"
        raise AssertionError(message) from None


def open_app(page: Page, url: str) -> None:
    page.goto(url)
    wait_for_brush(page)


def open_number_pad(page: Page, url: str) -> None:
    """Open the app and scroll to the number pad once its brush, too, is selected."""
    open_app(page, url)
    page.locator("#number-sketchpad button.highlight[aria-label='Brush']").wait_for(timeout=60_000)
    page.locator("#number-sketchpad").scroll_into_view_if_needed()


def expect_answer(page: Page, text: str) -> None:
    expect(page.locator("#prediction [data-testid=label-output-value]")).to_have_text(text, timeout=30_000)


def expect_number(page: Page, text: str) -> None:
    """Wait until the number pad reads ``text`` ("305 (>99.9% sure)")."""
    expect(page.locator("#number [data-testid=label-output-value]")).to_contain_text(f"{text} (", timeout=30_000)
