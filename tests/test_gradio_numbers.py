"""Whole numbers in the Gradio demo: the read function, the server's /read_number API, a real browser."""

from __future__ import annotations

import gradio as gr
import numpy as np
import pytest
from playwright.sync_api import expect

import gradio_app
from digitrec.data.canvases import to_png
from gradio_app import BLANK_NUMBER, HEADERS, HEIGHT, WIDTH, read_number
from tests.harness.gradio_page import open_number_pad, write_number
from tests.harness.support import number_layer, sketch


def test_a_blank_pad_asks_for_a_number():
    assert read_number(None) == (BLANK_NUMBER, None, [])
    untouched = {"background": None, "layers": [np.zeros((HEIGHT, WIDTH, 4), np.uint8)], "composite": None}
    assert read_number(untouched) == (BLANK_NUMBER, None, [])


def test_a_number_is_read_with_its_boxes_and_a_row_per_digit():
    summary, (picture, boxes), rows = read_number(sketch("2026"))
    assert summary.startswith("2026 (") and summary.endswith("% sure)")
    assert picture.shape == (HEIGHT, WIDTH, 3) and picture.dtype == np.uint8  # the drawing, shown on white
    assert len(boxes) == 4 and [label[0] for _box, label in boxes] == list("2026")
    xs = [box[0] for box, _label in boxes]
    assert xs == sorted(xs) and all(0 <= box[0] < box[2] <= WIDTH for box, _ in boxes)
    assert [row[:2] for row in rows] == [[1, 2], [2, 0], [3, 2], [4, 6]] and len(rows[0]) == len(HEADERS)
    assert rows[0][2].endswith("%") and rows[0][3].count("%") == 2  # sure, then the next two likeliest


def test_bad_values_are_clear_gradio_errors():
    with pytest.raises(gr.Error, match="not a readable image"):
        read_number({"background": None, "layers": [], "composite": b"not an image"})


def test_the_single_digit_pad_is_untouched():
    ids = [c.elem_id for c in gradio_app.demo.blocks.values() if getattr(c, "elem_id", None)]
    assert "sketchpad" in ids and "number-sketchpad" in ids and ids.index("sketchpad") < ids.index("number-sketchpad")
    assert gradio_app.pad.canvas_size == (gradio_app.CANVAS, gradio_app.CANVAS)
    assert gradio_app.number_pad.canvas_size == (WIDTH, HEIGHT)


# --- the server, through its API and in a browser -------------------------------------------------------


@pytest.mark.slow
def test_api_reads_numbers(gradio_url, tmp_path):
    from gradio_client import Client, handle_file

    client = Client(gradio_url, verbose=False)
    path = tmp_path / "number.png"
    path.write_bytes(to_png(number_layer("47")))
    summary, annotated, table = client.predict(
        {"background": None, "layers": [handle_file(path)], "composite": None}, api_name="/read_number"
    )
    assert summary["label"].startswith("47 (")
    assert len(annotated["annotations"]) == 2
    assert [row[1] for row in table["data"]] == [4, 7]
    assert client.predict(None, api_name="/read_number")[0]["label"] == BLANK_NUMBER


@pytest.mark.slow
@pytest.mark.browser
def test_writing_a_number_in_the_browser(page, gradio_url):
    page.set_viewport_size({"width": 1200, "height": 1400})
    open_number_pad(page, gradio_url)
    write_number(page, "305")
    label = page.locator("#number [data-testid=label-output-value]")
    expect(label).to_contain_text("305 (", timeout=30_000)
    expect(page.locator("#number-boxes img").first).to_be_visible()
    expect(page.locator("#number-digits [role=grid]")).to_have_attribute("aria-rowcount", "4")  # a header, 3 digits
