"""digitrec.training.model: the seed exactly as designed, and the improved default beside it."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("keras")

from digitrec import build_model


def layer_summary(model):
    return [(type(layer).__name__, tuple(layer.output.shape[1:])) for layer in model.layers]


def test_seed_is_the_original_design():
    model = build_model("seed")
    assert model.count_params() == 108_154
    assert layer_summary(model) == [
        ("InputLayer", (28, 28, 1)),
        ("Conv2D", (26, 26, 64)),
        ("Conv2D", (26, 26, 32)),
        ("MaxPooling2D", (13, 13, 32)),
        ("Conv2D", (13, 13, 16)),
        ("MaxPooling2D", (6, 6, 16)),
        ("Conv2D", (6, 6, 64)),
        ("MaxPooling2D", (3, 3, 64)),
        ("Flatten", (576,)),
        ("Dense", (128,)),
        ("Dense", (10,)),
    ]
    convs = [layer for layer in model.layers if type(layer).__name__ == "Conv2D"]
    assert [(c.filters, c.kernel_size, c.padding) for c in convs] == [
        (64, (3, 3), "valid"),
        (32, (3, 3), "same"),
        (16, (3, 3), "same"),
        (64, (3, 3), "same"),
    ]
    assert model.layers[-2].activation.__name__ == "relu"
    assert model.layers[-1].activation.__name__ == "sigmoid"
    assert type(model.optimizer).__name__ == "Adam"
    assert type(model.loss).__name__ == "SparseCategoricalCrossentropy"


def test_compact_keeps_the_stack_and_outputs_probabilities():
    model = build_model("compact")
    convs = [layer for layer in model.layers if type(layer).__name__ == "Conv2D"]
    assert [(c.filters, c.padding) for c in convs] == [(64, "valid"), (32, "same"), (16, "same"), (64, "same")]
    assert model.output_shape == (None, 10)
    p = model.predict(np.random.default_rng(0).random((4, 28, 28, 1), dtype=np.float32), verbose=0)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
    assert 100_000 < model.count_params() < 115_000


def test_unknown_name():
    with pytest.raises(ValueError, match="seed, compact, wide"):
        build_model("resnet")
