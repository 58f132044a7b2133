"""Draw a digit, see what the model reads: the digitrec Gradio demo. python gradio_app.py [--port N] [--share]"""

import argparse
import functools
import sys

import gradio as gr

import gradio_numbers
from digitrec import InvalidImage, ModelError, Predictor, drawings, imageio, present

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
predictor = functools.cache(Predictor.load)  # the model, loaded on first use, then shared: it is thread-safe


def predict(value: dict | None) -> tuple[dict[str, float] | str, object]:
    """Sketchpad value -> (the three likeliest digits, the 28x28 input the model saw, shown 8x)."""
    try:
        result = None if (image := imageio.sketchpad_image(value)) is None else predictor().predict(image)
    except (InvalidImage, ModelError) as exc:  # InvalidImage: malformed values from API clients too
        raise gr.Error(str(exc)) from None
    return (BLANK, None) if result is None or result.blank else (present.top_labels(result), result.model_image(8))


def predict_upload(payload: dict | None) -> tuple[dict[str, float] | str, object]:
    """The event handler: reads the upload itself, for a clear error where Gradio's has no message."""
    try:
        value = pad.preprocess(pad.data_model.model_validate(payload)) if payload else None
    except Exception as exc:  # PIL raises many types for files that are not images
        raise gr.Error(f"Could not read the drawing: not an image ({type(exc).__name__})") from None
    return predict(value)


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
        [[image] for image in drawings.examples()],
        inputs=pad,
        outputs=[label, seen],
        fn=predict,
        run_on_click=True,
        label="Or start from an example",
    )  # setting a value is no "change": run it
    demo.load(None, js=SELECT_BRUSH)
    gradio_numbers.section(demo, predictor, SELECT_BRUSH)  # a whole number on a wide pad: gradio_numbers.py
demo.queue(default_concurrency_limit=4, max_size=64)  # bounded, like the upload cache: a shared link faces the internet


def main(argv: list[str] | None = None) -> None:
    """Serve the demo until Ctrl+C: on 127.0.0.1 unless --host says otherwise, publicly with --share."""
    parser = argparse.ArgumentParser(description="Start the digitrec drawing demo.")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=None, help="port (default: 7860, or the next free one)")
    parser.add_argument("--share", action="store_true", help="also serve it on a public gradio.live link")
    args = parser.parse_args(argv)
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
