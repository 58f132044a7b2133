"""The CNN, by name: ``"seed"`` exactly as originally designed, ``"compact"`` with its fixes,
``"wide"`` with more capacity (the default: what ships in ``models/``).

``seed`` and ``compact`` share one convolutional stack. ``seed`` keeps the original sigmoid output,
whose ten "probabilities" need not sum to 1 under a softmax-style loss; ``compact`` adds batch
normalisation, dropout and a softmax output; ``wide`` doubles the convolutions per stage and
widens them (see the model card and the README for what each change measured).
"""

from __future__ import annotations

import keras
from keras import layers

from digitrec.engines.keras_net import output_activation
from digitrec.training import DEFAULT_ARCH, MODEL_NAMES

NUM_CLASSES = 10
INPUT_SHAPE = (28, 28, 1)


def _conv_stack(x, batch_norm: bool):
    """Conv 64 valid -> Conv 32 -> pool -> Conv 16 -> pool -> Conv 64 -> pool, all 3x3."""
    for filters, padding, pool in ((64, "valid", False), (32, "same", True), (16, "same", True), (64, "same", True)):
        if batch_norm:
            # BN makes the conv bias redundant; relu after normalising.
            x = layers.Conv2D(filters, 3, padding=padding, use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            x = layers.Activation("relu")(x)
        else:
            x = layers.Conv2D(filters, 3, padding=padding, activation="relu")(x)
        if pool:
            x = layers.MaxPooling2D(2)(x)
    return x


def build_seed() -> keras.Model:
    """The original design, unchanged: 108,154 parameters, Dense 10 sigmoid."""
    inputs = keras.Input(INPUT_SHAPE, name="digit")
    x = _conv_stack(inputs, batch_norm=False)
    x = layers.Flatten()(x)
    x = layers.Dense(128, activation="relu")(x)
    outputs = layers.Dense(NUM_CLASSES, activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name="seed")


def build_compact() -> keras.Model:
    """The same stack with batch norm, dropout before each dense layer, and a softmax output."""
    inputs = keras.Input(INPUT_SHAPE, name="digit")
    x = _conv_stack(inputs, batch_norm=True)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.25)(x)
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dropout(0.4)(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="compact")


def build_wide() -> keras.Model:
    """A VGG-style candidate for more capacity: two 3x3 convolutions with batch norm per stage,
    32-64-128 channels, each stage pooled; dense 256 (586k parameters, five times compact)."""
    inputs = keras.Input(INPUT_SHAPE, name="digit")
    x = inputs
    for filters in (32, 64, 128):
        for _ in range(2):
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            x = layers.Activation("relu")(x)
        x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.25)(x)
    x = layers.Dense(256, activation="relu")(x)
    x = layers.Dropout(0.4)(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="wide")


def smoothed_sparse_crossentropy(smoothing: float):
    """Sparse categorical cross-entropy against labels softened by ``smoothing``: the true class
    gets ``1 - smoothing + smoothing/10``, every other ``smoothing/10``, so the network is never
    pushed towards a certainty that unseen hands then break with confident mistakes."""

    def loss(y_true, y_pred):
        labels = keras.ops.one_hot(keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32"), NUM_CLASSES)
        return keras.losses.categorical_crossentropy(labels, y_pred, label_smoothing=smoothing)

    return loss


def build_model(name: str = DEFAULT_ARCH, learning_rate: float = 1e-3, label_smoothing: float = 0.0) -> keras.Model:
    """A compiled model by name: ``"seed"``, ``"compact"`` or ``"wide"`` (Adam, sparse categorical
    CE; ``label_smoothing`` > 0 softens the labels, for the improved models only)."""
    builders = {"seed": build_seed, "compact": build_compact, "wide": build_wide}
    if name not in builders:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODEL_NAMES)}")
    if label_smoothing and name == "seed":
        raise ValueError("the seed model keeps its original loss: label smoothing is for the improved models")
    model = builders[name]()
    loss = (
        smoothed_sparse_crossentropy(label_smoothing)
        if label_smoothing
        else keras.losses.SparseCategoricalCrossentropy()
    )
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss, metrics=["accuracy"])
    return model


def probabilities(model: keras.Model, x):
    """``model(x)`` as probabilities that sum to 1, for exports: a sigmoid output (the seed's) is
    divided by its sum, as ``Predictor.probabilities`` does; a softmax passes through."""
    p = model(x, training=False)
    if output_activation(model) == "softmax":
        return p
    return p / keras.ops.maximum(keras.ops.sum(p, axis=1, keepdims=True), 1e-12)
