"""digitrec: handwritten digits from any drawing, with honest probabilities.

The public API. Importing it is cheap: TensorFlow loads only when a model is built or trained.
Two sides, by what they import:

- inference (never TensorFlow): ``imageio``, ``preprocess``, ``predict`` and its ``engines``,
  ``present``, ``feedback``, ``card``, ``segment``, ``store``, ``data``, ``evaluate``, ``cli``:
  what the apps load;
- training (TensorFlow and Keras): the ``digitrec.training`` subpackage.

    from digitrec import Predictor, preprocess
    Predictor.load().predict(image).digit
    Predictor.load().read_number(image).text   # a whole number: "2026"
"""

from __future__ import annotations

from typing import Any

from digitrec.data.mnist import DataError, load_mnist
from digitrec.imageio import InvalidImage
from digitrec.predict import DigitReading, ModelError, NumberReading, Prediction, Predictor
from digitrec.preprocess import preprocess

__all__ = [
    "DataError",
    "DigitReading",
    "InvalidImage",
    "ModelError",
    "NumberReading",
    "Prediction",
    "Predictor",
    "build_model",
    "load_mnist",
    "preprocess",
]
__version__ = "1.0.0"


def __getattr__(name: str) -> Any:
    if name == "build_model":  # imports Keras and TensorFlow: only on demand
        from digitrec.training.model import build_model

        return build_model
    raise AttributeError(f"module 'digitrec' has no attribute {name!r}")
