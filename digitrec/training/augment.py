"""Training-time augmentation that runs inside the tf.data graph, never per image in Python.

Inference always sees MNIST-framed digits (``preprocess`` re-frames every drawing), so the shift
and zoom stay small; what varies a lot between writers is slant, proportions, wobble and pen
width, and that is what this varies. All geometry (rotation, shear, aspect, shift and an elastic
wobble) is folded into one sampling grid, so each image is interpolated once: chaining Keras's
Random* layers blurs the digit five times over (and their elastic layer mixes up images of a
batch inside tf.data, in Keras 3.15).

Randomness is stateless, keyed by (seed, batch number): the same seed gives the same images.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import tensorflow as tf


@dataclass(frozen=True)
class AugmentConfig:
    rotation_deg: float = 12.0
    shear: float = 0.25  # horizontal slant, as x += shear * y
    aspect: float = 0.15  # log-uniform stretch of each axis by up to ~15%
    zoom: float = 0.08
    shift_px: float = 1.5
    elastic_px: float = 1.3  # peak displacement of a smooth random field
    elastic_grid: int = 5  # the field's control grid: lower is smoother
    thicken: float = 0.7  # fraction of a 3x3 grey dilation, at most
    thin: float = 0.35  # fraction of a 3x3 grey erosion, at most

    def as_dict(self) -> dict:
        return asdict(self)


def _uniform(shape, lo, hi, seed):
    return tf.random.stateless_uniform(shape, seed=seed, minval=lo, maxval=hi)


def _bilinear(images: tf.Tensor, src_y: tf.Tensor, src_x: tf.Tensor) -> tf.Tensor:
    """Sample (B, H, W, 1) images at float source coordinates (B, H, W); zero outside."""
    shape = tf.shape(images)
    b, h, w = shape[0], shape[1], shape[2]
    padded = tf.pad(images[..., 0], [[0, 0], [1, 1], [1, 1]])  # a zero border for outside samples
    y = tf.clip_by_value(src_y + 1.0, 0.0, tf.cast(h, tf.float32) + 1.0)
    x = tf.clip_by_value(src_x + 1.0, 0.0, tf.cast(w, tf.float32) + 1.0)
    y0, x0 = tf.floor(y), tf.floor(x)
    wy, wx = y - y0, x - x0
    y0 = tf.cast(y0, tf.int32)
    x0 = tf.cast(x0, tf.int32)
    y1 = tf.minimum(y0 + 1, h + 1)
    x1 = tf.minimum(x0 + 1, w + 1)
    flat = tf.reshape(padded, [b, -1])
    stride = w + 2

    def at(yy, xx):
        return tf.gather(flat, yy * stride + xx, batch_dims=1)

    top = at(y0, x0) * (1 - wx) + at(y0, x1) * wx
    bottom = at(y1, x0) * (1 - wx) + at(y1, x1) * wx
    return (top * (1 - wy) + bottom * wy)[..., None]


def warp(images: tf.Tensor, seed: tf.Tensor, cfg: AugmentConfig = AugmentConfig()) -> tf.Tensor:
    """One random affine + elastic resampling per image of a (B, 28, 28, 1) float batch."""
    shape = tf.shape(images)
    b, h, w = shape[0], shape[1], shape[2]
    seeds = tf.random.experimental.stateless_split(seed, 8)
    deg = 3.141592653589793 / 180.0
    angle = _uniform([b], -cfg.rotation_deg * deg, cfg.rotation_deg * deg, seeds[0])
    shear = _uniform([b], -cfg.shear, cfg.shear, seeds[1])
    zoom = tf.exp(_uniform([b], -cfg.zoom, cfg.zoom, seeds[2]))
    sy = zoom * tf.exp(_uniform([b], -cfg.aspect, cfg.aspect, seeds[3]))
    sx = zoom * tf.exp(_uniform([b], -cfg.aspect, cfg.aspect, seeds[4]))
    shift = _uniform([b, 2], -cfg.shift_px, cfg.shift_px, seeds[5])

    cy = (tf.cast(h, tf.float32) - 1) / 2
    cx = (tf.cast(w, tf.float32) - 1) / 2
    gy, gx = tf.meshgrid(tf.range(h, dtype=tf.float32) - cy, tf.range(w, dtype=tf.float32) - cx, indexing="ij")
    gy, gx = gy[None], gx[None]  # (1, H, W) output coordinates around the centre
    cos, sin = tf.cos(angle)[:, None, None], tf.sin(angle)[:, None, None]
    # Where each output pixel samples from: the inverse of scale -> shear -> rotate.
    ry = cos * gy - sin * gx
    rx = sin * gy + cos * gx
    rx = rx - shear[:, None, None] * ry
    src_y = ry / sy[:, None, None] + cy - shift[:, 0, None, None]
    src_x = rx / sx[:, None, None] + cx - shift[:, 1, None, None]

    # Elastic wobble: a coarse random displacement field, smoothly upsampled.
    coarse = _uniform([b, cfg.elastic_grid, cfg.elastic_grid, 2], -1.0, 1.0, seeds[6])
    field = tf.image.resize(coarse, [h, w], method="bicubic") * cfg.elastic_px
    out = _bilinear(images, src_y + field[..., 0], src_x + field[..., 1])

    # Pen width: blend towards a 3x3 grey dilation (thicker) or erosion (thinner).
    dilated = tf.nn.max_pool2d(out, 3, 1, "SAME")
    eroded = -tf.nn.max_pool2d(-out, 3, 1, "SAME")
    t = _uniform([b, 1, 1, 1], -cfg.thin, cfg.thicken, seeds[7])
    out = tf.where(t > 0, out + t * (dilated - out), out - t * (eroded - out))
    return tf.clip_by_value(out, 0.0, 1.0)
