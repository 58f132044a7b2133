"""The line reader's network: a CRNN over the 32x256 strip, trained with CTC.

Five 3x3 convolutions with batch norm and ReLU, pooled 2x2, 2x2, then 2x1 three times: the height
goes to 1, the width to 64 frames of 4 columns each. A bidirectional GRU of 96 reads the frames
both ways (a digit's class often shows only in the strokes after its first column), and a dense
layer, fed the GRU's output and the convolutions' own features of the frame, gives 11 logits per
frame: the ten digits and CTC's blank (the last class, so class k is digit k). About 400k
parameters. CTC reads only the frames over the ink (``segment.line.ink_frames``), as the decoder does.

The GRU exports to LiteRT with the builtin operators alone (its loop becomes a ``WHILE``): no
``SELECT_TF_OPS``, so the apps' LiteRT runtime runs it (checked by ``tests/test_lines.py``).
"""

from __future__ import annotations

import os
from pathlib import Path

import keras
from keras import layers

from digitrec.segment.learned import BLANK, CLASSES
from digitrec.segment.line import FRAMES, LINE_HEIGHT, LINE_WIDTH

MAX_DIGITS = 12  # the longest number a label holds
BLOCKS = ((32, (2, 2)), (64, (2, 2)), (96, (2, 1)), (96, (2, 1)), (128, (2, 1)))  # filters, pooling
GRU_UNITS = 96


def build_crnn(learning_rate: float = 1e-3) -> keras.Model:
    """The CRNN, compiled with Adam and the CTC loss: (N, 32, 256, 1) in [0, 1] -> (N, 64, 11) logits."""
    strip = keras.Input((LINE_HEIGHT, LINE_WIDTH, 1), name="strip")
    x = strip
    for filters, pool in BLOCKS:
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization(momentum=0.9)(x)  # moving statistics settle in tens of steps
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D(pool)(x)
    local = layers.Reshape((FRAMES, BLOCKS[-1][0]))(x)
    x = layers.Bidirectional(layers.GRU(GRU_UNITS, return_sequences=True))(local)
    # The convolutions' own view of each frame beside the GRU's: the decision stays near its ink.
    logits = layers.Dense(CLASSES, name="frames")(layers.Concatenate()([x, local]))
    model = keras.Model(strip, logits, name="crnn")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate, clipnorm=5.0), loss=ctc_loss)
    return model


def ctc_loss(y_true, y_pred):
    """CTC over the frames over the ink. ``y_true`` packs each number as (length, frames, digit,
    digit, ..., padding): (N, 2 + MAX_DIGITS) ints (``digitrec.training.lines.data.pack``)."""
    y_true = keras.ops.cast(y_true, "int32")
    return keras.ops.ctc_loss(y_true[:, 2:], y_pred, y_true[:, 0], y_true[:, 1], mask_index=BLANK)


def export_tflite(model_file: str | os.PathLike, out: str | os.PathLike) -> Path:
    """The model as a LiteRT flatbuffer with the builtin operators only: one (1, 32, 256, 1) strip
    -> (1, 64, 11) probabilities (the softmax added here). Raises if any layer needs more."""
    import tensorflow as tf

    from digitrec.training.export import _quietly

    model = keras.models.load_model(model_file, compile=False)
    strip = keras.Input((LINE_HEIGHT, LINE_WIDTH, 1), batch_size=1, name="strip")
    converter = tf.lite.TFLiteConverter.from_keras_model(keras.Model(strip, keras.ops.softmax(model(strip))))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    path = Path(out)
    path.write_bytes(_quietly(converter.convert))
    return path
