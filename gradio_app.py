"""Draw a digit, see what the model reads: the digitrec Gradio demo.

    python gradio_app.py                    # http://127.0.0.1:7860
    python gradio_app.py --port 8000 --share
"""

from __future__ import annotations

import argparse
import functools
import sys

import gradio as gr
import numpy as np
from PIL import Image

from digitrec import InvalidImage, ModelError, Predictor
from digitrec.drawings import pen_digit

CANVAS = 280  # ten pixels of canvas per pixel of the model's 28x28 input
BLANK = "draw a digit"

# Gradio 6.31's Sketchpad starts, and starts again after "Clear canvas", with no tool selected
# ("select the draw tool to start"), so a first stroke silently does nothing. No prop chooses the
# starting tool, so whenever no tool is highlighted, this presses the first one: the brush.
SELECT_BRUSH = """
() => {
  const pad = document.getElementById("sketchpad");
  if (!pad) return;
  const select = () => {
    const brush = pad.querySelector(".toolbar-wrap button");
    if (brush && !pad.querySelector("button.highlight")) brush.click();
  };
  new MutationObserver(select).observe(pad, {subtree: true, childList: true, attributeFilter: ["class"]});
  select();
}
"""


@functools.cache
def predictor() -> Predictor:
    """The model, loaded on first use; one instance serves every request (it is thread-safe)."""
    return Predictor.load()


def drawing(value: dict | None) -> np.ndarray | Image.Image | None:
    """The picture on a Sketchpad value, or None when there is none.

    The composite is what the user sees. API clients may leave it out: then the layers are
    painted over the background here. Ink only in a layer's alpha channel, any background colour
    and any polarity are left to ``digitrec.preprocess``.
    """
    if not value:
        return None
    if value.get("composite") is not None:
        return value["composite"]
    images = [im for im in (value.get("background"), *(value.get("layers") or [])) if im is not None]
    if len(images) <= 1:
        return images[0] if images else None
    canvas, *layers = [Image.fromarray(np.asarray(im)).convert("RGBA") for im in images]
    for layer in layers:
        canvas.alpha_composite(layer)
    return canvas


def predict(value: dict | None) -> tuple[dict[str, float] | str, np.ndarray | None]:
    """Sketchpad value -> (the three likeliest digits, the 28x28 input the model saw, enlarged)."""
    try:
        image = drawing(value)
        result = predictor().predict(image) if image is not None else None
    except (InvalidImage, ModelError) as exc:
        raise gr.Error(str(exc)) from None
    except (TypeError, ValueError) as exc:  # a malformed value sent through the API
        raise gr.Error(f"Could not read the drawing: {exc}") from None
    if result is None or result.blank:
        return BLANK, None
    seen = result.model_image().repeat(8, axis=0).repeat(8, axis=1)  # enlarged, pixels stay square
    return {str(d): p for d, p in result.top(3)}, seen


def predict_upload(payload: dict | None) -> tuple[dict[str, float] | str, np.ndarray | None]:
    """The event handler: read what the browser or an API client sent, then ``predict``.

    Gradio's own reading (``preprocess``) turns a file that is not an image into an error without
    a message; doing that reading here makes it a clear gr.Error.
    """
    try:
        value = pad.preprocess(pad.data_model.model_validate(payload)) if payload else None
    except Exception as exc:  # PIL raises many types for files that are not images
        raise gr.Error(f"Could not read the drawing: not an image ({type(exc).__name__})") from None
    return predict(value)


with gr.Blocks(title="digitrec: draw a digit", analytics_enabled=False) as demo:
    gr.Markdown("# Draw a digit\nDraw one digit, 0 to 9, as large as you like. The answer updates as you draw.")
    with gr.Row(equal_height=True):
        pad = gr.Sketchpad(
            label="Your digit", elem_id="sketchpad", canvas_size=(CANVAS, CANVAS), fixed_canvas=True,
            brush=gr.Brush(default_size=12, colors=["#000000"], color_mode="fixed"),  # a felt pen
            transforms=(), layers=False, buttons=[], height=420,
        )
        with gr.Column():
            label = gr.Label(BLANK, num_top_classes=3, label="Prediction", elem_id="prediction")
            seen = gr.Image(label="What the model sees (28x28)", elem_id="model-input", interactive=False,
                            height=224, buttons=[], format="png")  # lossless: crisp pixels
    # The predictor answers in about two milliseconds: run every change, but only the latest of a burst.
    pad.change(predict_upload, pad, [label, seen], preprocess=False, trigger_mode="always_last",
               show_progress="hidden", api_name="predict")
    rng = np.random.default_rng(7)
    # An example sets the Sketchpad's value without a "change": run_on_click predicts it.
    gr.Examples([[pen_digit(d, rng, pen_px=22)] for d in (2, 5, 7, 8)], inputs=pad, outputs=[label, seen],
                fn=predict, run_on_click=True, label="Or start from an example")
    demo.load(None, js=SELECT_BRUSH)
demo.queue(default_concurrency_limit=4, max_size=64)  # bounded: a shared link faces the internet


def main(argv: list[str] | None = None) -> None:
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
        print("WARNING: --share puts this app on a public URL: anyone with the link can use it "
              "for as long as it runs.", file=sys.stderr)
    demo.launch(server_name=args.host, server_port=args.port, share=args.share, max_file_size="5mb")


if __name__ == "__main__":
    main()
