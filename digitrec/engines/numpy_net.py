"""The network's forward pass in NumPy, read straight from the ``.keras`` file.

Why not ``model.predict``? For one 28x28 drawing it spends tens of milliseconds in Keras and
TensorFlow overhead on a pass of ~25 MFLOP, and importing TensorFlow alone takes seconds. A
``.keras`` file is a zip of ``config.json`` (the layers) and ``model.weights.h5`` (their weights),
so the small set of layers our CNNs use can run as a few matrix products. The ``.keras`` file stays
the one source of truth; ``tests/test_predict.py`` (``test_fast_paths_equal_keras``) checks the
answers equal Keras's.

Anything outside that set raises ``UnsupportedModel`` and the predictor falls back to Keras.
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from collections.abc import Callable

import numpy as np

Op = Callable[[np.ndarray], np.ndarray]
CHUNK = 16  # images per pass: small enough that the temporaries stay in cache
BLAS_THREADS_ENV = "DIGITREC_BLAS_THREADS"


class UnsupportedModel(ValueError):
    """The file holds a layer or setting this engine does not implement."""


def limit_blas_threads() -> None:
    """One BLAS thread per call, process-wide (``$DIGITREC_BLAS_THREADS`` to change it).

    The engine's matrix products are small: splitting them over cores saves little, and when a
    server runs several predictions at once (or the machine is busy) OpenBLAS's spinning worker
    threads fight each other: 113 ms per drawing instead of 9 ms on a loaded 2-core machine.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=int(os.environ.get(BLAS_THREADS_ENV, "1")), user_api="blas")


def _snake_case(name: str) -> str:
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # stable for large |x|


ACTIVATIONS: dict[str, Op] = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0.0, out=x),
    "softmax": _softmax,
    "sigmoid": _sigmoid,
}


def _activation(name: str | dict) -> Op:
    if isinstance(name, dict):  # a serialised activation object
        name = name.get("config", {}).get("name", name.get("class_name", "?"))
    if name not in ACTIVATIONS:
        raise UnsupportedModel(f"activation {name!r}")
    return ACTIVATIONS[name]


def conv2d(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray, padding: str) -> np.ndarray:
    """A stride-1 2D convolution (N, H, W, C) -> (N, H', W', F).

    One matrix product per kernel tap, summed, on the images flattened to rows of channels: tap
    (i, j) of every output pixel is the input row ``i * W + j`` further on, so each product reads
    a contiguous slice and nothing is copied. Outputs whose taps wrap past the right or bottom edge
    are computed too, then dropped: a few percent more arithmetic, for no gathering at all.
    """
    kh, kw, c, f = kernel.shape
    if padding == "same":
        x = np.pad(x, ((0, 0), (kh // 2, (kh - 1) // 2), (kw // 2, (kw - 1) // 2), (0, 0)))
    n, h, w, _ = x.shape
    ho, wo = h - kh + 1, w - kw + 1
    if kh * kw * c <= 64:  # few input channels (the first layer): one product over all taps
        cols = np.concatenate([x[:, i : i + ho, j : j + wo, :] for i in range(kh) for j in range(kw)], axis=-1)
        out = cols.reshape(-1, kh * kw * c) @ kernel.reshape(kh * kw * c, f)
        out += bias
        return out.reshape(n, ho, wo, f)
    flat = np.ascontiguousarray(x).reshape(n * h * w, c)
    rows = n * h * w - (kh - 1) * w - (kw - 1)  # the starts whose every tap lies inside the array
    out = np.empty((n * h * w, f), dtype=np.float32)
    acc, tap = out[:rows], np.empty((rows, f), dtype=np.float32)
    acc[:] = bias
    for i in range(kh):
        for j in range(kw):
            np.matmul(flat[i * w + j : i * w + j + rows], kernel[i, j], out=tap)
            acc += tap
    return out.reshape(n, h, w, f)[:, :ho, :wo]


def max_pool(x: np.ndarray, size: int) -> np.ndarray:
    n, h, w, c = x.shape
    h2, w2 = h // size, w // size
    return x[:, : h2 * size, : w2 * size].reshape(n, h2, size, w2, size, c).max(axis=(2, 4))


class NumpyNet:
    """A feed-forward Keras CNN as a list of NumPy operations."""

    def __init__(
        self, ops: list[Op], input_shape: tuple[int, ...], output_activation: str, head_start: int | None = None
    ):
        self.ops = ops
        self.input_shape = input_shape
        self.output_activation = output_activation
        # Where the last Dense layer's op sits: ``features`` runs the ops before it, ``head`` the rest.
        self.head_start = len(ops) - 1 if head_start is None else head_start

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """(N, 28, 28, 1) float32 -> (N, classes) float32."""
        return _run(self.ops, x)

    def features(self, x: np.ndarray) -> np.ndarray:
        """(N, 28, 28, 1) float32 -> (N, units): the last hidden layer, the final Dense layer's input."""
        return _run(self.ops[: self.head_start], x)

    def head(self, features: np.ndarray) -> np.ndarray:
        """The final Dense layer (and what follows it) on ``features``: ``head(features(x)) == self(x)``."""
        return _run(self.ops[self.head_start :], features)

    @classmethod
    def from_keras_file(cls, path: str | os.PathLike | io.BytesIO) -> NumpyNet:
        """Build from a ``.keras`` zip (a path, or its bytes in a ``BytesIO``); raises ``UnsupportedModel``
        or ``OSError``/``KeyError``."""
        import h5py  # Keras's own dependency; far lighter than TensorFlow

        with zipfile.ZipFile(path) as zf:
            config = json.loads(zf.read("config.json"))
            weights_blob = zf.read("model.weights.h5")
        with h5py.File(io.BytesIO(weights_blob), "r") as h5:

            def weights_of(key: str) -> list[np.ndarray]:
                group = h5[f"layers/{key}/vars"]
                return [np.asarray(group[str(i)]) for i in range(len(group))]

            return cls.from_config(config, weights_of)

    @classmethod
    def from_config(cls, config: dict, weights_of: Callable[[str], list[np.ndarray]]) -> NumpyNet:
        if config.get("class_name") not in ("Functional", "Sequential"):
            raise UnsupportedModel(f"model class {config.get('class_name')!r}")
        layers = config["config"]["layers"]
        ops: list[Op] = []
        pending: dict | None = None  # a conv waiting to see whether batch norm follows it
        input_shape: tuple[int, ...] = ()
        last_activation = "linear"
        head_start = None

        def flush():
            nonlocal pending
            if pending is not None:
                k, b, pad, act = pending["kernel"], pending["bias"], pending["padding"], pending["act"]
                ops.append(lambda x, k=k, b=b, pad=pad, act=act: act(conv2d(x, k, b, pad)))
                pending = None

        seen: dict[str, int] = {}
        for layer in layers:
            kind, cfg, name = layer["class_name"], layer["config"], layer["config"].get("name", "")
            # The weights file names layers by type and order (conv2d, conv2d_1...), not by their names.
            base = _snake_case(kind)
            count = seen[base] = seen.get(base, -1) + 1
            key = base if count == 0 else f"{base}_{count}"
            inbound = layer.get("inbound_nodes") or []
            if len(inbound) > 1 or any(len(node.get("args", [])) > 1 for node in inbound if isinstance(node, dict)):
                raise UnsupportedModel(f"layer {name} has several inputs: not a plain stack")
            if kind == "InputLayer":
                input_shape = tuple(cfg.get("batch_shape") or cfg.get("batch_input_shape"))[1:]
            elif kind == "Conv2D":
                flush()
                if (
                    tuple(cfg["strides"]) != (1, 1)
                    or tuple(cfg["dilation_rate"]) != (1, 1)
                    or cfg.get("groups", 1) != 1
                    or cfg.get("data_format", "channels_last") != "channels_last"
                ):
                    raise UnsupportedModel(f"Conv2D {name}: only stride 1, no dilation, channels_last")
                w = weights_of(key)
                kernel = w[0].astype(np.float32)
                bias = w[1].astype(np.float32) if cfg["use_bias"] else np.zeros(kernel.shape[-1], np.float32)
                pending = {
                    "kernel": kernel,
                    "bias": bias,
                    "padding": cfg["padding"],
                    "act": _activation(cfg["activation"]),
                }
                last_activation = "linear"
            elif kind == "BatchNormalization":
                if cfg.get("axis", -1) not in (-1, 3, [-1], [3]):
                    raise UnsupportedModel(f"BatchNormalization {name} on axis {cfg['axis']}")
                w = weights_of(key)
                gamma = w.pop(0) if cfg.get("scale", True) else 1.0
                beta = w.pop(0) if cfg.get("center", True) else 0.0
                mean, var = w[0], w[1]
                scale = (gamma / np.sqrt(var + cfg["epsilon"])).astype(np.float32)
                shift = (beta - mean * scale).astype(np.float32)
                if pending is not None and pending["act"] is ACTIVATIONS["linear"]:
                    # Fold into the conv: w' = w * scale, b' = b * scale + shift. Same maths, one op less.
                    pending["kernel"] = pending["kernel"] * scale
                    pending["bias"] = pending["bias"] * scale + shift
                else:
                    flush()
                    ops.append(lambda x, s=scale, t=shift: x * s + t)
            elif kind == "Activation":
                act = _activation(cfg["activation"])
                if pending is not None and pending["act"] is ACTIVATIONS["linear"]:
                    pending["act"] = act
                else:
                    flush()
                    ops.append(act)
                last_activation = cfg["activation"]
            elif kind == "MaxPooling2D":
                flush()
                size = tuple(cfg["pool_size"])
                if size[0] != size[1] or tuple(cfg["strides"] or size) != size or cfg["padding"] != "valid":
                    raise UnsupportedModel(f"MaxPooling2D {name}: only square, non-overlapping, valid")
                ops.append(lambda x, s=size[0]: max_pool(x, s))
            elif kind == "Flatten":
                flush()
                ops.append(lambda x: x.reshape(len(x), -1))
            elif kind == "Dense":
                flush()
                w = weights_of(key)
                kernel = w[0].astype(np.float32)
                bias = w[1].astype(np.float32) if cfg["use_bias"] else np.zeros(kernel.shape[-1], np.float32)
                act = _activation(cfg["activation"])
                head_start = len(ops)
                ops.append(lambda x, k=kernel, b=bias, a=act: a(x @ k + b))
                last_activation = cfg["activation"]
            elif kind in ("Dropout", "SpatialDropout2D", "GaussianNoise", "GaussianDropout"):
                continue  # identity at inference
            else:
                raise UnsupportedModel(f"layer type {kind}")
        flush()
        if not ops:
            raise UnsupportedModel("no layers")
        activation = last_activation if isinstance(last_activation, str) else "linear"
        return cls(ops, input_shape, activation, head_start)


def _run(ops: list[Op], x: np.ndarray) -> np.ndarray:
    """``ops`` in turn on ``x``, CHUNK images at a time."""
    x = np.asarray(x, dtype=np.float32)
    outs = []
    for start in range(0, max(len(x), 1), CHUNK):
        y = x[start : start + CHUNK]
        for op in ops:
            y = op(y)
        outs.append(y)
    return np.concatenate(outs).astype(np.float32, copy=False)
