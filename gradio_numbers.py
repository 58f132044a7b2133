"""Whole numbers in the Gradio demo: a wide sketchpad, the number read, each digit's box drawn over
the drawing (``gr.AnnotatedImage``) and each digit's likeliest readings; then, a digit at a time,
"Right" or "Wrong, it was _" (pick the digit, press a button), which keeps that digit's own ink.

``gradio_app.py`` places it under the single-digit pad with ``gradio_numbers.section(...)``; the
reading, the boxes and the picture come from ``digitrec.present``, the saving from
``digitrec.feedback``: no image code here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import gradio as gr

from digitrec import InvalidImage, ModelError, Predictor, imageio, present
from digitrec.feedback import Feedback
from digitrec.present import format_percent
from digitrec.store import InvalidDrawing, StoreError

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
        [k, d.digit, format_percent(d.confidence), present.digit_label(d, 3).split(", ", 1)[1]]
        for k, d in enumerate(result.digits, start=1)
    ]
    return present.summary(result), (imageio.picture(image), present.annotations(result)), rows


def choices(rows: Any) -> Any:
    """The "which digit" choices from the table of digits: ("digit 1: 4", 0), ... (0-based positions,
    as ``POST /api/drawings`` takes them), the first one picked; none for a blank pad."""
    rows = rows.values.tolist() if hasattr(rows, "values") else list(rows or [])
    options = [(f"digit {int(k)}: {int(digit)}", int(k) - 1) for k, digit, *_rest in rows if str(k).strip()]
    return gr.Radio(choices=options, value=0 if options else None)


def save(
    value: dict | None, which: Any, user: str | None, predictor: Predictor, feedback: Feedback, label: int | None = None
) -> tuple[str, Any]:
    """ "Right" (``label`` None) or "Wrong, it was ``label``" for the digit at position ``which``
    (0-based) of the number on the pad: keep that digit's own ink. -> (the line to show, the next digit)."""
    if not feedback.allowed:
        return feedback.status(), which
    try:
        image = imageio.sketchpad_image(value)
        reading = None if image is None else predictor.read_number(image)
        if reading is None or reading.blank:
            return "Write a number first.", None
        if which is None:
            return "Pick a digit first.", None
        name = (user or "").strip() or None
        line = present.saved_line(feedback.save_digit(image, reading, which, label, name))
    except (InvalidImage, InvalidDrawing, StoreError, ModelError) as exc:
        raise gr.Error(str(exc)) from None
    return line, min(int(which) + 1, len(reading.digits) - 1)  # on to the next digit: a number is checked in one go


def section(
    demo: gr.Blocks,
    predictor: Callable[[], Predictor],
    select_brush: str,
    feedback: Callable[[], Feedback] | None = None,
    user: gr.Textbox | None = None,
) -> None:
    """The number pad and its answers, in ``demo`` as it is built. ``select_brush`` is the app's hook
    that picks the brush on its pad; it runs for this pad too. With ``feedback`` (the app's, made on
    first use) each digit can be confirmed or corrected, by the name in ``user``."""

    def value_of(payload: dict | None) -> dict | None:
        try:  # the raw payload, read here: a clear error where Gradio's has no message
            return pad.preprocess(pad.data_model.model_validate(payload)) if payload else None
        except Exception as exc:  # PIL raises many types for files that are not images
            raise gr.Error(f"Could not read the drawing: not an image ({type(exc).__name__})") from None

    def read_upload(payload: dict | None) -> tuple[str, tuple | None, list[list]]:
        return read(value_of(payload), predictor())

    def save_upload(
        payload: dict | None, which: Any, name: str | None = None, label: int | None = None
    ) -> tuple[str, Any]:
        return save(value_of(payload), which, name, predictor(), feedback(), label)

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
    read_event = pad.change(
        read_upload,
        pad,
        [number, boxes, digits],
        preprocess=False,
        trigger_mode="always_last",
        show_progress="hidden",
        api_name="read_number",
    )
    if feedback is not None:  # saving corrections, a digit at a time: digitrec.feedback
        with gr.Row(elem_id="number-feedback", equal_height=True):
            which = gr.Radio([], label="Which digit", elem_id="number-which", scale=2)
            right = gr.Button("Right", size="sm", min_width=60, elem_id="number-right", scale=0)
            gr.Markdown("Wrong, it was:")
        with gr.Row():
            wrong = [gr.Button(str(d), size="sm", min_width=30, elem_id=f"number-it-was-{d}") for d in range(10)]
        saved = gr.Markdown(elem_id="number-saved")
        read_event.then(choices, digits, which, api_name=False, show_progress="hidden")
        inputs = [pad, which] + ([user] if user is not None else [])  # no name field: the login name
        # preprocess=False: the pad's raw payload is read above, and a position an API client made up
        # gets Feedback's own sentence rather than Gradio's "not in the list of choices".
        right.click(save_upload, inputs, [saved, which], preprocess=False, api_name="save_number_right")
        for d, button in enumerate(wrong):
            handler = functools.partial(save_upload, label=d)
            button.click(handler, inputs, [saved, which], preprocess=False, api_name=f"save_number_{d}")
        demo.load(lambda name=None: feedback().status(name), user, saved, api_name=False)
    demo.load(None, js=select_brush.replace('"sketchpad"', '"number-sketchpad"'))
