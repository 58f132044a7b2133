"""Exports of a ``.keras`` model, which stays the single source of truth.

- For TensorFlow Serving: a SavedModel whose ``serving_default`` maps framed digits to
  probabilities. Preprocessing stays with the client (``digitrec.preprocess``), so the server only
  ever sees clean 28x28 inputs.
- For the predictor's fastest path: a LiteRT flatbuffer next to the model, recorded in its card.
"""

from __future__ import annotations

import os
from pathlib import Path


def export_saved_model(model_file: str | os.PathLike, out_dir: str | os.PathLike) -> Path:
    """Write ``out_dir`` with signature ``serving_default``: ``digit`` (N,28,28,1) float32 ->
    ``probabilities`` (N,10)."""
    import keras
    import tensorflow as tf

    from digitrec.training.model import probabilities

    model = keras.models.load_model(model_file, compile=False)

    class Serving(tf.Module):
        def __init__(self, net):
            super().__init__()
            self.net = net

        @tf.function(input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.float32, name="digit")])
        def serve(self, digit):
            return {"probabilities": probabilities(self.net, digit)}

    module = Serving(model)
    out = Path(out_dir)
    tf.saved_model.save(module, str(out), signatures={"serving_default": module.serve})
    return out


def export_tflite(
    model_file: str | os.PathLike, out: str | os.PathLike | None = None, *, quantize: bool = True
) -> Path:
    """Write the model as a LiteRT flatbuffer (default: next to it, ``.tflite``) for the predictor's
    fastest path, and record its SHA-256 in the model card so the predictor knows it belongs.

    One image per call, (1, 28, 28, 1) float32 -> (1, 10) probabilities that sum to 1 (a sigmoid
    output is divided by its sum here, as ``Predictor.probabilities`` does).

    ``quantize``: the weights stored as int8 (dynamic-range quantization: activations stay float),
    which makes the network about 3.8x faster on these CPUs; on the shipped model it changed one
    answer in 2,782 test-writer scans and one in 10,000 MNIST digits, and none of the canvas
    renderings (docs/performance.md). Personal models (``finetune``, Learn) keep float weights:
    their gain was measured with them.
    """
    import keras
    import tensorflow as tf

    from digitrec import card as model_card
    from digitrec.engines.litert import tflite_path
    from digitrec.training.model import probabilities

    model = keras.models.load_model(model_file, compile=False)
    digit = keras.Input((28, 28, 1), batch_size=1, name="digit")
    converter = tf.lite.TFLiteConverter.from_keras_model(keras.Model(digit, probabilities(model, digit)))
    if quantize:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]  # no representative data: weights only
    path = Path(out) if out is not None else tflite_path(model_file)
    path.write_bytes(_quietly(converter.convert))
    card = model_card.read(model_file)
    if card is not None and out is None:
        card["tflite"] = {
            "file": path.name,
            "sha256": model_card.sha256(path),
            "source_sha256": model_card.sha256(model_file),
            "weights": "int8 (dynamic-range quantization)" if quantize else "float32",
        }
        model_card.write(model_file, card)
    return path


def _quietly(convert):
    """Run the converter without its chatter: it prints the temporary SavedModel's signature to
    stdout, logs "Assets written" through TensorFlow's logger, and its C++ side writes to fd 2.
    Failures still raise, with their message."""
    import contextlib
    import io
    import logging

    from digitrec.quiet import quiet_stderr

    tf_log = logging.getLogger("tensorflow")
    level = tf_log.level
    tf_log.setLevel(logging.ERROR)
    try:
        with quiet_stderr(), contextlib.redirect_stdout(io.StringIO()):
            return convert()
    finally:
        tf_log.setLevel(level)
