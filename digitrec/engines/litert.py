"""The network through LiteRT (TensorFlow Lite) and its XNNPACK kernels: the fastest CPU path.

A pass of the wide model takes ~0.17 ms on one core here with the shipped file's int8 weights
(~0.6 ms with float weights), against ~1.2 ms in the NumPy engine and ~3 ms in Keras. The
``.keras`` file stays the source of truth: ``digitrec.training.export.export_tflite`` writes
``<model>.tflite`` from it (at the end of training, or ``python -m digitrec export --tflite``) and
records the flatbuffer's SHA-256 in the model card, and ``Predictor.load`` runs it only when both
files match that card. Without the ``ai-edge-litert`` package (no wheel for some platforms) the
predictor uses the NumPy engine instead.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from digitrec.preprocess import SIZE
from digitrec.quiet import quiet_stderr


def tflite_path(model_path: str | os.PathLike) -> Path:
    """``models/digit_recognizer.keras`` -> ``models/digit_recognizer.tflite``."""
    return Path(model_path).with_suffix(".tflite")


def available() -> bool:
    """Whether the LiteRT runtime is installed."""
    try:
        import ai_edge_litert.interpreter  # noqa: F401
    except ImportError:
        return False
    return True


def open_interpreter(
    path: str | os.PathLike, threads: int, input_shape: tuple[int, ...], output_shape: tuple[int, ...]
) -> tuple[Any, int, int]:
    """A ready LiteRT interpreter for ``path`` with its input and output tensor indices; raises
    ``ValueError`` unless the file has exactly one input and one output of these shapes."""
    from ai_edge_litert.interpreter import Interpreter

    with quiet_stderr():  # its C++ side announces the XNNPACK delegate on every load
        interpreter = Interpreter(model_path=str(path), num_threads=threads)
        interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details(), interpreter.get_output_details()
    if (
        len(inp) != 1
        or tuple(inp[0]["shape"]) != input_shape
        or len(out) != 1
        or tuple(out[0]["shape"]) != output_shape
    ):
        raise ValueError(f"{path}: expected one {input_shape} input and one {output_shape} output")
    return interpreter, inp[0]["index"], out[0]["index"]


class LiteNet:
    """A ``.tflite`` digit model: (N, 28, 28, 1) float32 -> (N, 10) probabilities.

    One interpreter per instance, run one image at a time under a lock: an interpreter is not
    thread-safe, and the pass is so short that threads lose nothing by taking turns.
    """

    def __init__(self, path: str | os.PathLike, threads: int = 1):
        self._interpreter, self._input, self._output = open_interpreter(path, threads, (1, SIZE, SIZE, 1), (1, 10))
        self._lock = threading.Lock()
        self.path = Path(path)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float32).reshape(-1, 1, SIZE, SIZE, 1)
        out = np.empty((len(x), 10), dtype=np.float32)
        run = self._interpreter
        with self._lock:
            for i, image in enumerate(x):
                run.set_tensor(self._input, image)
                run.invoke()
                out[i] = run.get_tensor(self._output)[0]
        return out
