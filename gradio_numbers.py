"""Whole numbers in the Gradio demo: a wide sketchpad, the number read, each digit's box drawn over
the drawing (``gr.AnnotatedImage``) and each digit's likeliest readings.

``gradio_app.py`` places it under the single-digit pad with ``gradio_numbers.section(...)``; the
reading, the boxes and the picture come from ``digitrec.reading``: no image code here.
"""

from __future__ import annotations

from collections.abc import Callable

import gradio as gr

from digitrec import InvalidImage, ModelError, Predictor, imageio
from digitrec import reading as numbers
from digitrec.present import format_percent

WIDTH, HEIGHT = 840, 280  # three digit canvases side by side, ten pixels per model pixel in height
BLANK = "write a number"
HEADERS = ["#", "digit", "sure", "then"]

pad = gr.Sketchpad(
    label="Your number",
    elem_id="number-sketchpad",
    canvas_size=(WIDTH, HEIGHT),
    fixed_canvas=True,
    brush=gr.Brush(default_size=12, colors=["#000000"], color_mode="fixed"),  # the single-digit pad's felt pen
    transforms=(),
    layers=False,
    buttons=[],
    height=420,
    render=False,
)


def read(value: dict | None, predictor: Predictor) -> tuple[str, tuple | None, list[list]]:
    """Sketchpad value -> (the number and how sure, the drawing with each digit's box, a row per digit)."""
    try:
        image = imageio.sketchpad_image(value)
        result = None if image is None else predictor.read_number(image)
    except (InvalidImage, ModelError) as exc:  # InvalidImage: malformed values from API clients too
        raise gr.Error(str(exc)) from None
    if result is None or result.blank:
        return BLANK, None, []
    rows = [
        [k, d.digit, format_percent(d.confidence), numbers.digit_label(d, 3).split(", ", 1)[1]]
        for k, d in enumerate(result.digits, start=1)
    ]
    return numbers.summary(result), (numbers.picture(image), numbers.annotations(result)), rows


def section(demo: gr.Blocks, predictor: Callable[[], Predictor], select_brush: str) -> None:
    """The number pad and its answers, in ``demo`` as it is built. ``select_brush`` is the app's hook
    that picks the brush on its pad; it runs for this pad too."""

    def read_upload(payload: dict | None) -> tuple[str, tuple | None, list[list]]:
        try:  # the raw payload, read here: a clear error where Gradio's has no message
            value = pad.preprocess(pad.data_model.model_validate(payload)) if payload else None
        except Exception as exc:  # PIL raises many types for files that are not images
            raise gr.Error(f"Could not read the drawing: not an image ({type(exc).__name__})") from None
        return read(value, predictor())

    gr.Markdown("## Or write a whole number\nA year, a phone number, a sum: each digit gets its box.")
    with gr.Row(equal_height=True):
        pad.render()
        with gr.Column():
            number = gr.Label(BLANK, label="Number", elem_id="number")
            # A fixed height: stretched by the row's equal heights, Gradio 6.31 draws the boxes off the picture.
            boxes = gr.AnnotatedImage(
                label="How it was read", elem_id="number-boxes", format="png", height=240, buttons=[]
            )
    digits = gr.Dataframe(headers=HEADERS, label="Each digit", elem_id="number-digits", interactive=False)
    pad.change(
        read_upload,
        pad,
        [number, boxes, digits],
        preprocess=False,
        trigger_mode="always_last",
        show_progress="hidden",
        api_name="read_number",
    )
    demo.load(None, js=select_brush.replace('"sketchpad"', '"number-sketchpad"'))
