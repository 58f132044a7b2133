"""The network through Keras itself: slow to start (TensorFlow), but it runs any Keras model.

Only ``pick.load_keras`` and training import this module: the apps run LiteRT or the NumPy engine.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from digitrec.preprocess import SIZE


def load_model(path: str | os.PathLike):
    """The Keras model in ``path``, uncompiled (only its forward pass is needed)."""
    import keras

    return keras.models.load_model(path, compile=False)


def output_activation(model) -> str:
    """The name of the last layer's activation: "softmax" (default), "sigmoid" (seed), "linear"..."""
    return getattr(getattr(model.layers[-1], "activation", None), "__name__", "linear")


def forward(model) -> Callable[[np.ndarray], np.ndarray]:
    """(N, 28, 28, 1) float32 -> (N, 10), traced once for that signature (no retracing per batch size)."""
    import tensorflow as tf

    fn = tf.function(
        lambda x: model(x, training=False), input_signature=[tf.TensorSpec([None, SIZE, SIZE, 1], tf.float32)]
    )
    return lambda x: fn(tf.constant(x)).numpy()
