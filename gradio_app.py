"""Draw a digit, or write a whole number, and see what the model reads: the digitrec Gradio demo.

python gradio_app.py [--host H] [--port N] [--share] [--model PATH] [--db URL] [--allow-saving | --no-saving]

Two pads, built alike by ``sketchpad``: a digit pad (the three likeliest digits and the 28x28 picture
the model saw) and, under it, a pad three times as wide for a whole number (the number, each digit's
box over the drawing, a row per digit). Under each, "Right" or "Wrong, it was _" keeps the drawing (for
a number, the digit picked under "Which digit") for fine-tuning; "Forget me", beside the name, deletes
every drawing saved under that name, and "Learn my handwriting" fine-tunes a model of that name's own
in a worker process (progress, then the figures before and after). Both pads read with that name's
personal model, once learnt, and saved drawings (``Feedback.answering``): a correction changes the
next similar answer at once. The reading comes from
``digitrec.predict``, the wording from ``digitrec.present``, the pictures from ``digitrec.imageio`` and
the saving from ``digitrec.feedback``: no image code here. A visitor elsewhere, or one a reverse proxy
passed on, is told the drawings are kept "on the server", never the store's path.
"""

import argparse
import dataclasses
import functools
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import pydantic
from gradio.components.image_editor import EditorData
from starlette.middleware import Middleware

from digitrec import InvalidImage, ModelError, Predictor, identity, imageio, listen, present
from digitrec.data import canvases
from digitrec.feedback import (
    SAVING_OFF,
    Feedback,
    NothingDrawn,
    SavingOff,
    forgot_line,
    is_loopback,
    is_remote,
    saving_allowed,
)
from digitrec.learning import Learner, LearnRefused, TooFewDrawings
from digitrec.listen import add_saving_flags
from digitrec.preprocess import CANVAS, NUMBER_CANVAS
from digitrec.store import InvalidDrawing, StoreError, clean_user, default_user

WIDTH, HEIGHT = NUMBER_CANVAS  # the number pad: three digit canvases (CANVAS, the digit pad) side by side
BLANK = "draw a digit"
BLANK_NUMBER = "write a number"
NO_ID = "This browser has no visitor id yet: reload the page, with cookies on, to save or forget your drawings."
HEADERS = ["#", "digit", "sure", "then"]
LEARN_POLL_S = 1.0  # how often "Learn my handwriting" looks at its job
NOT_A_DRAWING = (
    "Not a drawing: send the pad's value, a dict with 'background', 'layers' and 'composite' "
    "(each an image file or None), or None for an empty pad."
)
# Gradio 6.31's Sketchpad starts, and starts again after "Clear canvas", with no tool selected
# ("select the draw tool to start"), so a first stroke silently does nothing. No prop chooses the
# starting tool, so whenever no tool is highlighted on a pad, this presses its first one: the brush.
SELECT_BRUSH = """() => document.querySelectorAll("#sketchpad, #number-sketchpad").forEach((el) => {
  const select = () => el.querySelector("button.highlight") || el.querySelector(".toolbar-wrap button")?.click();
  new MutationObserver(select).observe(el, {subtree: true, childList: true, attributeFilter: ["class"]});
  select(); })"""


class PadValue(EditorData):
    # A pad's value as Gradio checks it before any handler runs, preprocess=False or not: anything else
    # is a gr.Error that says what is expected (Gradio's own check answers a bare "error": null). The
    # API's schema is EditorData's, unchanged (a docstring here would become its description).
    model_config = pydantic.ConfigDict(title="EditorData")

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> EditorData:
        if isinstance(obj, dict) and not obj.keys() & {"background", "layers", "composite", "id"}:
            raise gr.Error(NOT_A_DRAWING)  # {} or {"foo": 1}: pydantic would fill in an empty pad
        try:
            return super().model_validate(obj, **kwargs)
        except pydantic.ValidationError:
            raise gr.Error(NOT_A_DRAWING) from None


def sketchpad(label: str, elem_id: str, width: int) -> gr.Sketchpad:
    """A pad ``width`` x ``CANVAS`` pixels with a felt pen, placed on the page where ``render()`` is called."""
    pad = gr.Sketchpad(
        label=label,
        elem_id=elem_id,
        canvas_size=(width, CANVAS),
        fixed_canvas=True,
        brush=gr.Brush(default_size=12, colors=["#000000"], color_mode="fixed"),
        transforms=(),
        layers=False,
        buttons=[],
        height=420,
        render=False,
    )
    pad.data_model = PadValue  # what Gradio checks a value against: a clear error for what is not one
    return pad


pad = sketchpad("Your digit", "sketchpad", CANVAS)
number_pad = sketchpad("Your number", "number-sketchpad", WIDTH)
# main() sets these from the command line; imported (tests), the app is local and saves.
settings = {"model": None, "db": None, "allow_saving": True, "remote": False}
predictor = functools.cache(lambda: Predictor.load(settings["model"]))  # loaded on first use, then shared: thread-safe
feedback = functools.cache(
    lambda: Feedback(
        predictor(), "gradio", db=settings["db"], allowed=settings["allow_saving"], remote=settings["remote"]
    )
)


def read_upload(pad: gr.Sketchpad, payload: dict | None) -> dict | None:
    """A pad's raw payload (the events take it with ``preprocess=False``) -> its Sketchpad value, each
    picture read by ``digitrec.imageio``: its size limits are checked before a pixel is decoded, and
    an unreadable or oversized file gets the project's message rather than PIL's exception."""
    if not payload:
        return None
    value = pad.data_model.model_validate(payload)
    # The browser sends its canvases as blobs first (Sketchpad.accept_blobs) and then their id.
    files = value if value.id is None else pad.blob_storage.pop(value.id, None)
    if files is None:
        return None

    def load(file: Any) -> Any:
        try:
            return imageio.load(file if isinstance(file, bytes) else Path(file.path))
        except InvalidImage as exc:
            why = exc if exc.kind == "too_large" else f"not an image ({exc})"
            raise gr.Error(f"Could not read the drawing: {why}") from None

    layers = [load(layer) for layer in files.layers or [] if layer is not None]
    background, composite = (None if f is None else load(f) for f in (files.background, files.composite))
    return {"background": background, "layers": layers, "composite": composite}


# --- the digit pad ---------------------------------------------------------------------------------


def elsewhere(request: gr.Request | None) -> bool:
    """Whether the visitor who sent ``request`` is elsewhere: another machine, or behind a reverse proxy
    (which connects from 127.0.0.1 for everyone). A call without a request is this machine's own."""
    return request is not None and is_remote(getattr(request.client, "host", None), request.headers)


def acting(name: str | None, request: gr.Request | None) -> identity.Visitor | None:
    """Whom an event acts for (``digitrec.identity``): the name typed, at this machine; served beyond it (a
    --host, --share) or through a proxy, while saving is on, the id in the visitor's cookie (``CookieMiddleware``
    hands it out in ``main``), whatever name they typed. None: a visitor from elsewhere without one."""
    typed = (name or "").strip() or None
    if not (settings["allow_saving"] and (settings["remote"] or elsewhere(request))):
        return identity.Visitor(typed)
    held = identity.held_id(dict(getattr(request, "headers", None) or {}).get("cookie"))
    return identity.Visitor(held, remote=True) if held else None


def answering(user: str | None, request: gr.Request | None = None) -> tuple[Predictor, Any]:
    """Who answers whom the event acts for (``acting``; ``Feedback.answering``): their personal model after
    "Learn my handwriting", else the app's, with their saved drawings; the app's network alone for no name,
    one who saved nothing, or with saving off."""
    who = acting(user, request)
    return feedback().answering(who.user) if who is not None and who.user else (predictor(), None)


def predict(
    value: dict | None, user: str | None = None, request: gr.Request | None = None
) -> tuple[dict[str, float] | str, object]:
    """Sketchpad value (and the name typed) -> (the three likeliest digits, the 28x28 input the model
    saw, shown 8x)."""
    try:
        image = imageio.sketchpad_image(value)
        answerer, memory = answering(user, request)
        result = None if image is None else answerer.predict(image, memory=memory)
    except (InvalidImage, ModelError) as exc:  # InvalidImage: malformed values from API clients too
        raise gr.Error(str(exc)) from None
    return (BLANK, None) if result is None or result.blank else (present.top_labels(result), result.model_image(8))


def predict_upload(
    payload: dict | None, user: str | None = None, request: gr.Request | None = None
) -> tuple[dict[str, float] | str, object]:
    """The event handler: reads the upload itself."""
    return predict(read_upload(pad, payload), user, request)


def save(payload: dict | None, user: str | None, label: int | None = None, request: gr.Request | None = None) -> str:
    """ "Right" (``label`` None) or "Wrong, it was ``label``": keep the drawing; the line to show."""
    try:
        image = imageio.sketchpad_image(read_upload(pad, payload))
        if image is None:
            return "Draw a digit first."
        who = acting(user, request)
        if who is None:
            return NO_ID
        remote = elsewhere(request)
        saved = (
            feedback().right(image, who.user, remote=remote)
            if label is None
            else feedback().save(image, label, who.user, remote=remote)
        )
        return present.saved_line(dataclasses.replace(saved, user=who.shown) if who.remote else saved)
    except (SavingOff, NothingDrawn) as exc:
        return str(exc)
    except (InvalidImage, InvalidDrawing, StoreError) as exc:
        raise gr.Error(str(exc)) from None


# --- the number pad --------------------------------------------------------------------------------


def read_number(
    value: dict | None, user: str | None = None, request: gr.Request | None = None
) -> tuple[str, tuple | None, list[list]]:
    """Sketchpad value (and the name typed) -> (the number and how sure, the drawing with each digit's
    box, a row per digit)."""
    try:
        image = imageio.sketchpad_image(value)
        answerer, memory = answering(user, request)
        result = None if image is None else answerer.read_number(image, memory=memory)
    except (InvalidImage, ModelError) as exc:  # InvalidImage: malformed values from API clients too
        raise gr.Error(str(exc)) from None
    if result is None or result.blank:
        return BLANK_NUMBER, None, []
    rows = [
        [k, d.digit, present.format_percent(d.confidence), present.digit_label(d, 3).split(", ", 1)[1]]
        for k, d in enumerate(result.digits, start=1)
    ]
    return present.summary(result), (imageio.picture(image), present.annotations(result)), rows


def read_number_upload(
    payload: dict | None, user: str | None = None, request: gr.Request | None = None
) -> tuple[str, tuple | None, list[list]]:
    """The event handler: reads the upload itself."""
    return read_number(read_upload(number_pad, payload), user, request)


def choices(rows: Any) -> Any:
    """The "which digit" choices from the table of digits: ("digit 1: 4", 0), ... (0-based positions,
    as ``POST /api/drawings`` takes them), the first one picked; none for a blank pad."""
    rows = rows.values.tolist() if hasattr(rows, "values") else list(rows or [])
    options = [(f"digit {int(k)}: {int(digit)}", int(k) - 1) for k, digit, *_rest in rows if str(k).strip()]
    return gr.Radio(choices=options, value=0 if options else None)


def save_number(
    payload: dict | None,
    which: Any,
    name: str | None = None,
    label: int | None = None,
    request: gr.Request | None = None,
) -> tuple[str, Any]:
    """ "Right" (``label`` None) or "Wrong, it was ``label``" for the digit at position ``which``
    (0-based) of the number on the pad: keep that digit's own ink. -> (the line to show, the next digit)."""
    try:
        image = imageio.sketchpad_image(read_upload(number_pad, payload))
        answerer, memory = answering(name, request)
        reading = None if image is None else answerer.read_number(image, memory=memory)  # as shown
        if reading is None or reading.blank:
            return "Write a number first.", None
        if which is None:
            return "Pick a digit first.", None
        who = acting(name, request)
        if who is None:
            return NO_ID, which
        saved = feedback().save_digit(image, reading, which, label, who.user, remote=elsewhere(request))
        line = present.saved_line(dataclasses.replace(saved, user=who.shown) if who.remote else saved)
    except SavingOff as exc:
        return str(exc), which
    except (InvalidImage, InvalidDrawing, StoreError, ModelError) as exc:
        raise gr.Error(str(exc)) from None
    return line, min(int(which) + 1, len(reading.digits) - 1)  # on to the next digit: a number is checked in one go


# The "Wrong, it was N" buttons' handlers: functions, not functools.partial, whose annotations Gradio
# reads to pass each the request.


def save_as(label: int):
    def handler(payload: dict | None, user: str | None, request: gr.Request | None = None) -> str:
        return save(payload, user, label, request)

    return handler


def save_number_as(label: int):
    def handler(payload: dict | None, which: Any, name: str | None = None, request: gr.Request | None = None):
        return save_number(payload, which, name, label, request)

    return handler


def forget(name: str | None, request: gr.Request | None = None) -> str:
    """ "Forget me": delete every drawing saved under the name typed; "Forgot ana: 12 drawings deleted."
    Who may forget whom is who may save (``acting``): the name in the field here, the cookie's id from elsewhere."""
    who = acting(name, request)
    try:
        if who is None:
            return NO_ID
        return forgot_line(who.shown, feedback().erase(who.user)[1]) if who.remote else feedback().forget(name)
    except SavingOff as exc:
        return str(exc)
    except (InvalidDrawing, StoreError) as exc:
        raise gr.Error(str(exc)) from None


def learn(name: str | None, request: gr.Request | None = None) -> Iterator[str]:
    """ "Learn my handwriting": a fine-tune on the saved drawings of whom the event acts for (``acting``)
    in a worker process (``digitrec.learning``); the lines to show, as it goes: waiting, the percent, then
    before / after."""
    fb = feedback()
    if not fb.allowed:
        yield SAVING_OFF
        return
    who = acting(name, request)
    if who is None:
        yield NO_ID
        return
    try:
        user = clean_user(who.user or "")
        job = learner().submit(user)
    except (InvalidDrawing, LearnRefused, TooFewDrawings, StoreError) as exc:
        yield who.hide(f"Not learnt: {exc}")
        return
    while job.state in ("queued", "running"):
        yield who.hide(present.learn_line(job.to_dict()))
        time.sleep(LEARN_POLL_S)
        job = learner().status(user) or job
    yield who.hide(present.learn_line(job.to_dict()))


learner = functools.cache(lambda: Learner(predictor().path, lambda: feedback().store, on_done=feedback().personal.drop))


def status(name: str | None, request: gr.Request | None = None) -> list[str]:
    """The saving line under each pad when the page opens."""
    who = acting(name, request)
    line = feedback().status(None if who is None else who.user, remote=elsewhere(request))
    return [line if who is None else who.hide(line)] * 2


# --- the page --------------------------------------------------------------------------------------

with gr.Blocks(title="digitrec: draw a digit", analytics_enabled=False, delete_cache=(600, 600)) as demo:
    gr.Markdown("# Draw a digit\nDraw one digit, 0 to 9, as large as you like. The answer updates as you draw.")
    with gr.Row(equal_height=True):
        pad.render()
        with gr.Column():
            label = gr.Label(BLANK, num_top_classes=3, label="Prediction", elem_id="prediction")
            seen = gr.Image(
                label="What the model sees (28x28)",
                elem_id="model-input",
                interactive=False,
                height=224,
                buttons=[],
                format="png",
            )  # lossless: crisp pixels
            with gr.Row(elem_id="feedback", equal_height=True):  # saving corrections: digitrec.feedback
                right = gr.Button("Right", size="sm", min_width=60, elem_id="right", scale=0)
                gr.Markdown("Wrong, it was:")
            with gr.Row():
                wrong = [gr.Button(str(d), size="sm", min_width=30, elem_id=f"it-was-{d}") for d in range(10)]
            with gr.Row(equal_height=True):
                user = gr.Textbox(default_user(), label="Your name", max_length=64, elem_id="user", scale=3)
                learn_me = gr.Button("Learn my handwriting", size="sm", min_width=90, elem_id="learn", scale=0)
                forget_me = gr.Button("Forget me", size="sm", min_width=90, elem_id="forget", scale=0)
            saved = gr.Markdown(elem_id="saved")
    pad.change(
        predict_upload,
        [pad, user],  # the name typed: its saved drawings help (Feedback.memory)
        [label, seen],
        preprocess=False,
        trigger_mode="always_last",
        show_progress="hidden",
        api_name="predict",
    )  # answers take ~2 ms: each change, latest of a burst
    gr.Examples(
        [[image] for image in canvases.examples()],
        inputs=pad,
        outputs=[label, seen],
        fn=predict,
        run_on_click=True,
        label="Or start from an example",
    )  # setting a value is no "change": run it
    right.click(save, [pad, user], saved, preprocess=False, api_name="save_right")
    for d, button in enumerate(wrong):
        button.click(save_as(d), [pad, user], saved, preprocess=False, api_name=f"save_{d}")
    forget_me.click(forget, user, saved, api_name="forget")  # every drawing of the name typed, gone
    learn_me.click(learn, user, saved, api_name="learn", concurrency_limit=None)  # progress, then before / after

    gr.Markdown("## Or write a whole number\nA year, a phone number, a sum: each digit gets its box.")
    with gr.Row(equal_height=True):
        number_pad.render()
        with gr.Column():
            number = gr.Label(BLANK_NUMBER, label="Number", elem_id="number")
            # A fixed height: stretched by the row's equal heights, Gradio 6.31 draws the boxes off the picture.
            boxes = gr.AnnotatedImage(
                label="How it was read", elem_id="number-boxes", format="png", height=240, buttons=[]
            )
    digits = gr.Dataframe(headers=HEADERS, label="Each digit", elem_id="number-digits", interactive=False)
    with gr.Row(elem_id="number-feedback", equal_height=True):  # saving corrections, a digit at a time
        which = gr.Radio([], label="Which digit", elem_id="number-which", scale=2)
        number_right = gr.Button("Right", size="sm", min_width=60, elem_id="number-right", scale=0)
        gr.Markdown("Wrong, it was:")
    with gr.Row():
        number_wrong = [gr.Button(str(d), size="sm", min_width=30, elem_id=f"number-it-was-{d}") for d in range(10)]
    number_saved = gr.Markdown(elem_id="number-saved")
    number_pad.change(
        read_number_upload,
        [number_pad, user],
        [number, boxes, digits],
        preprocess=False,
        trigger_mode="always_last",
        show_progress="hidden",
        api_name="read_number",
    ).then(choices, digits, which, api_name=False, show_progress="hidden")
    # preprocess=False: the pad's raw payload is read above, and a position an API client made up
    # gets Feedback's own sentence rather than Gradio's "not in the list of choices".
    number_inputs = [number_pad, which, user]
    number_right.click(
        save_number, number_inputs, [number_saved, which], preprocess=False, api_name="save_number_right"
    )
    for d, button in enumerate(number_wrong):
        handler = save_number_as(d)
        button.click(handler, number_inputs, [number_saved, which], preprocess=False, api_name=f"save_number_{d}")

    demo.load(status, user, [saved, number_saved], api_name=False)
    demo.load(None, js=SELECT_BRUSH)
demo.queue(default_concurrency_limit=4, max_size=64)  # bounded, like the upload cache: a shared link faces the internet


def main(argv: list[str] | None = None) -> None:
    """Serve the demo until Ctrl+C: on 127.0.0.1 unless --host says otherwise, publicly with --share."""
    parser = argparse.ArgumentParser(description="Start the digitrec drawing demo.")
    parser.add_argument(
        "--host", type=listen.host, default="127.0.0.1", help="interface to listen on (default: %(default)s)"
    )
    parser.add_argument("--port", type=listen.port, default=None, help="port (default: 7860, or the next free one)")
    parser.add_argument("--share", action="store_true", help="also serve it on a public gradio.live link")
    parser.add_argument("--model", help="model file (default: $DIGITREC_MODEL, else models/digit_recognizer.keras)")
    parser.add_argument("--db", help="drawing store: a database URL or SQLite file (default: $DIGITREC_DB)")
    add_saving_flags(parser)
    args = parser.parse_args(argv)
    settings.update(
        model=args.model,
        db=args.db,
        allow_saving=saving_allowed(args.host, args.share, args.saving),
        remote=args.share or not is_loopback(args.host),
    )
    try:
        predictor()  # fail now, with the reason, rather than on the first stroke
    except ModelError as exc:
        sys.exit(f"gradio_app: {exc}")
    if args.share:
        print("WARNING: --share makes this app public: anyone with the link can use it while it runs.", file=sys.stderr)
    # A visitor from elsewhere saves under a random id in a cookie (digitrec.identity), not the name they type.
    cookies = Middleware(identity.CookieMiddleware, remote=lambda a, h: settings["remote"] or is_remote(a, h))
    try:
        demo.launch(
            server_name=args.host,
            server_port=args.port,
            share=args.share,
            max_file_size="5mb",
            quiet=True,
            prevent_thread_lock=True,
            app_kwargs={"middleware": [cookies]} if settings["allow_saving"] else None,
        )  # quiet: Gradio's hint names launch(share=True), ours --share
    except OSError as exc:  # a port in use, an address this machine does not have
        print(listen.cannot_listen(f"{args.host}:{args.port or 'any of 7860-7959'}", exc), file=sys.stderr)
        sys.exit(2)
    hint = "" if args.share else "\n* To create a public link, run: python gradio_app.py --share"
    print(f"* Running on local URL:  {demo.local_url}{hint}", flush=True)  # logs see it now, not at exit
    demo.block_thread()


if __name__ == "__main__":
    main()
