"""Draw a digit, see what the model reads: the digitrec Gradio demo.

python gradio_app.py [--port N] [--share] [--model PATH] [--db URL] [--allow-saving]
"""

import argparse
import functools
import sys

import gradio as gr

import gradio_numbers
from digitrec import InvalidImage, ModelError, Predictor, imageio, present
from digitrec.data import canvases
from digitrec.feedback import Feedback, NothingDrawn, SavingOff, is_loopback, saving_allowed
from digitrec.store import InvalidDrawing, StoreError, default_user

CANVAS = 280  # ten pixels of canvas per pixel of the model's 28x28 input
BLANK = "draw a digit"
# Gradio 6.31's Sketchpad starts, and starts again after "Clear canvas", with no tool selected
# ("select the draw tool to start"), so a first stroke silently does nothing. No prop chooses the
# starting tool, so whenever no tool is highlighted, this presses the first one: the brush.
SELECT_BRUSH = """() => { const el = document.getElementById("sketchpad"); if (!el) return;
  const select = () => el.querySelector("button.highlight") || el.querySelector(".toolbar-wrap button")?.click();
  new MutationObserver(select).observe(el, {subtree: true, childList: true, attributeFilter: ["class"]}); select(); }"""
pad = gr.Sketchpad(
    label="Your digit",
    elem_id="sketchpad",
    canvas_size=(CANVAS, CANVAS),
    fixed_canvas=True,
    brush=gr.Brush(default_size=12, colors=["#000000"], color_mode="fixed"),  # a felt pen
    transforms=(),
    layers=False,
    buttons=[],
    height=420,
    render=False,
)  # placed on the page below
# main() sets these from the command line; imported (tests), the app is local and saves.
settings = {"model": None, "db": None, "allow_saving": True, "remote": False}
predictor = functools.cache(lambda: Predictor.load(settings["model"]))  # loaded on first use, then shared: thread-safe
feedback = functools.cache(
    lambda: Feedback(
        predictor(), "gradio", db=settings["db"], allowed=settings["allow_saving"], remote=settings["remote"]
    )
)


def predict(value: dict | None) -> tuple[dict[str, float] | str, object]:
    """Sketchpad value -> (the three likeliest digits, the 28x28 input the model saw, shown 8x)."""
    try:
        result = None if (image := imageio.sketchpad_image(value)) is None else predictor().predict(image)
    except (InvalidImage, ModelError) as exc:  # InvalidImage: malformed values from API clients too
        raise gr.Error(str(exc)) from None
    return (BLANK, None) if result is None or result.blank else (present.top_labels(result), result.model_image(8))


def read_upload(payload: dict | None) -> dict | None:
    """The Sketchpad value from its raw payload, for a clear error where Gradio's has no message."""
    try:
        return pad.preprocess(pad.data_model.model_validate(payload)) if payload else None
    except Exception as exc:  # PIL raises many types for files that are not images
        raise gr.Error(f"Could not read the drawing: not an image ({type(exc).__name__})") from None


def predict_upload(payload: dict | None) -> tuple[dict[str, float] | str, object]:
    """The event handler: reads the upload itself."""
    return predict(read_upload(payload))


def save(payload: dict | None, user: str | None, label: int | None = None) -> str:
    """ "Right" (``label`` None) or "Wrong, it was ``label``": keep the drawing; the line to show."""
    try:
        image = imageio.sketchpad_image(read_upload(payload))
        if image is None:
            return "Draw a digit first."
        name = (user or "").strip() or None
        return present.saved_line(
            feedback().right(image, name) if label is None else feedback().save(image, label, name)
        )
    except (SavingOff, NothingDrawn) as exc:
        return str(exc)
    except (InvalidImage, InvalidDrawing, StoreError) as exc:
        raise gr.Error(str(exc)) from None


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
            user = gr.Textbox(default_user(), label="Your name", max_length=64, elem_id="user")
            saved = gr.Markdown(elem_id="saved")
    pad.change(
        predict_upload,
        pad,
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
        button.click(functools.partial(save, label=d), [pad, user], saved, preprocess=False, api_name=f"save_{d}")
    demo.load(lambda name: feedback().status(name), user, saved, api_name=False)
    demo.load(None, js=SELECT_BRUSH)
    gradio_numbers.section(demo, predictor, SELECT_BRUSH, feedback, user)  # a whole number on a wide pad
demo.queue(default_concurrency_limit=4, max_size=64)  # bounded, like the upload cache: a shared link faces the internet


def main(argv: list[str] | None = None) -> None:
    """Serve the demo until Ctrl+C: on 127.0.0.1 unless --host says otherwise, publicly with --share."""
    parser = argparse.ArgumentParser(description="Start the digitrec drawing demo.")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=None, help="port (default: 7860, or the next free one)")
    parser.add_argument("--share", action="store_true", help="also serve it on a public gradio.live link")
    parser.add_argument("--model", help="model file (default: $DIGITREC_MODEL, else models/digit_recognizer.keras)")
    parser.add_argument("--db", help="drawing store: a database URL or SQLite file (default: $DIGITREC_DB)")
    parser.add_argument("--allow-saving", action="store_true", help="save drawings even when served beyond 127.0.0.1")
    args = parser.parse_args(argv)
    settings.update(
        model=args.model,
        db=args.db,
        allow_saving=saving_allowed(args.host, args.share, args.allow_saving),
        remote=args.share or not is_loopback(args.host),
    )
    try:
        predictor()  # fail now, with the reason, rather than on the first stroke
    except ModelError as exc:
        sys.exit(f"gradio_app: {exc}")
    if args.share:
        print("WARNING: --share makes this app public: anyone with the link can use it while it runs.", file=sys.stderr)
    demo.launch(
        server_name=args.host,
        server_port=args.port,
        share=args.share,
        max_file_size="5mb",
        quiet=True,
        prevent_thread_lock=True,
    )  # quiet: Gradio's hint names launch(share=True), ours --share
    hint = "" if args.share else "\n* To create a public link, run: python gradio_app.py --share"
    print(f"* Running on local URL:  {demo.local_url}{hint}", flush=True)  # logs see it now, not at exit
    demo.block_thread()


if __name__ == "__main__":
    main()
