"""The Flask app's page, driven in a browser as a user would: open it, draw a digit or write a number
with the mouse, press Predict, count the ink on its canvas.

Shared by the Flask page's browser tests (tests/test_flask_browser.py, tests/test_flask_numbers.py,
tests/test_number_feedback.py), as ``gradio_page`` is by the Gradio app's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from digitrec.data.canvases import pen_paths
from digitrec.preprocess import CANVAS

if TYPE_CHECKING:
    from playwright.sync_api import Page

STEPS = 6  # mouse moves between two points of a path: short segments, like a real hand


def open_page(page: Page, url: str) -> None:
    """Load the page and wait until it is idle with its canvas shown."""
    page.goto(url)
    page.wait_for_load_state("networkidle")
    assert page.locator("#canvas").is_visible()


def open_number_mode(page: Page, url: str) -> None:
    """Load the page, Live off (one request per Predict), number mode on: the wide canvas, empty."""
    open_page(page, url)
    page.uncheck("#live")
    page.check("#number-mode")


def trace(page: Page, points: list[tuple[float, float]]) -> None:
    """One stroke through screen ``points``: pen down, STEPS mouse moves between each two, pen up."""
    page.mouse.move(*points[0])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(x, y, steps=STEPS)
    page.mouse.up()


def strokes_on_screen(page: Page, digit: int) -> list[list[tuple[float, float]]]:
    """``pen_paths`` for ``digit``, scaled from a 280 px canvas to the canvas's box on the page."""
    box = page.locator("#canvas").bounding_box()
    k = box["width"] / CANVAS
    return [[(box["x"] + x * k, box["y"] + y * k) for x, y in stroke] for stroke in pen_paths(digit)]


def draw_with_mouse(page: Page, digit: int) -> None:
    """Draw ``digit`` across the whole (square) canvas with the mouse, stroke by stroke."""
    for stroke in strokes_on_screen(page, digit):
        trace(page, stroke)


def write_number(page: Page, text: str) -> None:
    """``text``'s digits with the mouse, side by side across number mode's wide canvas, each as tall as 60% of
    it."""
    box = page.locator("#canvas").bounding_box()
    side = box["height"]
    k = side / CANVAS
    for i, digit in enumerate(text):
        left = box["x"] + box["width"] * 0.08 + i * side * 0.62
        for stroke in pen_paths(int(digit)):
            trace(page, [(left + (x - 70) * k, box["y"] + y * k) for x, y in stroke])


def press_predict(page: Page, result: str, answer: str) -> str:
    """Press Predict and wait until the ``result`` element holds the answer to the drawing as it is now (its
    state no longer idle, ``#result`` no longer busy): the text of ``answer``."""
    page.click("#predict")
    # A function, not an expression string: the page's CSP (rightly) forbids eval.
    page.wait_for_function(
        "r => document.querySelector(r).dataset.state !== 'idle'"
        " && !document.querySelector('#result').hasAttribute('aria-busy')",
        arg=result,
    )
    return page.locator(answer).text_content()


def predicted(page: Page) -> str:
    """Press Predict and wait for the digit read in the drawing as it is now."""
    return press_predict(page, "#result", "#digit")


def read_number(page: Page) -> str:
    """In number mode: press Predict and wait for the number read in the drawing as it is now."""
    return press_predict(page, "#number-result", "#number")


def ink_pixels(page: Page) -> int:
    """How many of the canvas's pixels hold any ink."""
    return page.evaluate("""() => {
        const c = document.querySelector('#canvas');
        const a = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < a.length; i += 4) n += a[i] > 0;
        return n;
    }""")
