"""Export for TensorFlow Serving: a SavedModel whose ``serving_default`` maps framed digits to
probabilities. Preprocessing stays with the client (``digitrec.preprocess``), so the server only
ever sees clean 28x28 inputs and the model file remains the single source of truth.
"""

from __future__ import annotations

import os
from pathlib import Path


def export_saved_model(model_file: str | os.PathLike, out_dir: str | os.PathLike) -> Path:
    """Write ``out_dir`` with signature ``serving_default``: ``digit`` (N,28,28,1) float32 -> ``probabilities`` (N,10)."""
    import keras
    import tensorflow as tf

    model = keras.models.load_model(model_file, compile=False)
    # A sigmoid output (the seed's) does not sum to 1: divide by the sum, as Predictor.probabilities does.
    activation = getattr(getattr(model.layers[-1], "activation", None), "__name__", "linear")
    normalize = activation != "softmax"

    class Serving(tf.Module):
        def __init__(self, net):
            super().__init__()
            self.net = net

        @tf.function(input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.float32, name="digit")])
        def serve(self, digit):
            p = self.net(digit, training=False)
            if normalize:
                p = p / tf.maximum(tf.reduce_sum(p, axis=1, keepdims=True), 1e-12)
            return {"probabilities": p}

    module = Serving(model)
    out = Path(out_dir)
    tf.saved_model.save(module, str(out), signatures={"serving_default": module.serve})
    return out
