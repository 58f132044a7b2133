"""Reading and writing pictures: any input a front end sends -> checked float arrays, and back to PNG.

Everything that can arrive as a drawing passes through here first: PIL images, NumPy arrays of any
numeric dtype, encoded bytes (PNG, JPEG, WebP...), files (a ``pathlib.Path`` or a string that is not a
``data:`` URL) and ``data:`` URLs.
Limits are checked from the header before a pixel is decoded, and anything unusable raises
``InvalidImage`` (a ``ValueError``) with a message a user can act on. ``decode`` is the first step
of ``digitrec.preprocess``; the front ends' own picture chores (the picture in a Gradio Sketchpad value,
the PNG preview of what the model saw) live here too, so they hold no image code.
"""

from __future__ import annotations

import base64
import binascii
import io
import os
import re
import stat
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

MAX_PIXELS = int(os.environ.get("DIGITREC_MAX_PIXELS", 4096 * 4096))
MAX_SIDE = 16384
MAX_BYTES = 20 * 1024 * 1024
WORKING_SIDE = 512  # larger inputs are area-reduced first: no drawing needs more detail
ALLOWED_FORMATS = {"PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF", "PPM"}
WIDE_MODES = ("I;16", "I;16B", "I;16L", "I", "F")  # more than 8 bits per pixel
LEVELS = np.arange(256, dtype=np.float32) * np.float32(1 / 255)  # each 8-bit value in [0, 1]

ImageLike = Image.Image | np.ndarray | bytes | bytearray | memoryview | str | Path


class InvalidImage(ValueError):
    """The input is not a usable image; the message says why in words a user can act on.

    ``kind`` sorts the reasons for callers that answer differently (a web API's status code):
    ``"malformed"`` (no image data, not a data URL, bad base64), ``"too_large"`` (bytes or pixels
    over the limits, decompression bombs) or ``"unsupported"`` (not a readable image, or an array
    of the wrong shape, type or values).
    """

    def __init__(self, message: str, kind: str = "unsupported"):
        super().__init__(message)
        self.kind = kind


# --- data URLs -------------------------------------------------------------------------------------

_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[^,;]*)*),(?P<data>.*)$", re.S)


def decode_data_url(url: str) -> bytes:
    """The bytes of a ``data:image/...;base64,...`` URL."""
    match = _DATA_URL.match(url.strip())
    if not match:
        raise InvalidImage("expected a data URL like 'data:image/png;base64,...'", "malformed")
    mime = (match["mime"] or "").lower()
    if not mime.startswith("image/"):
        raise InvalidImage(f"data URL has MIME type {mime or 'none'!r}, expected image/png, image/jpeg...")
    if ";base64" not in match["params"].lower():
        raise InvalidImage("data URL is not base64-encoded", "malformed")
    data = match["data"]
    if len(data) > MAX_BYTES * 4 // 3 + 4:
        raise InvalidImage(f"image is larger than {MAX_BYTES // 2**20} MiB", "too_large")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidImage(f"data URL is not valid base64: {exc}", "malformed") from None


def encode_data_url(data: bytes, mime: str = "image/png") -> str:
    """``decode_data_url``'s inverse: ``data:<mime>;base64,...``, as a browser canvas's toDataURL gives."""
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


# --- encoded bytes -> a checked PIL image -----------------------------------------------------------


def open_image(data: bytes) -> Image.Image:
    """Decode encoded image bytes (PNG, JPEG, WebP, GIF...) with size limits checked first."""
    if not data:
        raise InvalidImage("empty file: no image data", "malformed")
    if len(data) > MAX_BYTES:
        raise InvalidImage(f"image is larger than {MAX_BYTES // 2**20} MiB", "too_large")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            if img.format not in ALLOWED_FORMATS:
                raise InvalidImage(f"unsupported image format {img.format}")
            check_size(*img.size)  # before decoding a single pixel: bombs stop here
            img.seek(0)  # animated images: the first frame
            img.load()
    except InvalidImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own limit (89 megapixels) fired first; say ours, which README documents.
        size = _declared_size(data)
        if size is not None:
            check_size(*size)
        raise InvalidImage(f"image is too large: {exc}", "too_large") from None
    except Exception as exc:  # PIL raises many types for broken files
        detail = re.sub(r"\s*<[^>]*>", "", str(exc)) or type(exc).__name__  # no object addresses
        raise InvalidImage(f"not a readable image ({detail})") from None
    ImageOps.exif_transpose(img, in_place=True)  # phone photos store their rotation in EXIF; no copy
    return img


def _declared_size(data: bytes) -> tuple[int, int] | None:
    """The width and height an image's header declares, read by its format's own Pillow parser
    without ``Image.open``'s bomb check; no pixel is decoded. None if no allowed format reads it."""
    Image.init()
    for fmt in sorted(ALLOWED_FORMATS):
        factory, accept = Image.OPEN.get(fmt, (None, None))
        accepted = factory is not None and (accept is None or accept(data[:16]))
        if not accepted or isinstance(accepted, str):  # a string is Pillow's reason for refusing
            continue
        try:
            return factory(io.BytesIO(data), "").size
        except Exception:  # not this format after all: try the next
            continue
    return None


def check_size(width: int, height: int) -> None:
    """Refuse empty, absurdly long or absurdly large images before touching their pixels."""
    if width < 1 or height < 1:
        raise InvalidImage(f"image is empty ({width}x{height})", "malformed")
    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
        raise InvalidImage(
            f"image is too large ({width}x{height}); the limit is {MAX_PIXELS:,} pixels and {MAX_SIDE} per side",
            "too_large",
        )


def load(image: ImageLike) -> Image.Image | np.ndarray:
    """Any supported input -> a decoded PIL image or an array, size-checked."""
    if isinstance(image, str):
        # A data URL, else a file path, as a Python caller means it. The web front ends never pass a
        # request's string here: they decode it with ``decode_data_url``, so a request cannot name a file.
        image = decode_data_url(image) if image.lstrip()[:5].lower() == "data:" else read_file(image)
    elif isinstance(image, Path):
        image = read_file(image)
    if isinstance(image, (bytes, bytearray, memoryview)):
        image = open_image(bytes(image))
    if isinstance(image, Image.Image):
        check_size(*image.size)
    elif not isinstance(image, np.ndarray):
        raise InvalidImage(f"cannot read a {type(image).__name__} as an image")
    return image


def read_file(path: str | os.PathLike) -> bytes:
    """The bytes of an image file, with a clear ``InvalidImage`` for a missing file, a folder, something
    that is not a regular file (a device, pipe or socket: never opened) or a file over ``MAX_BYTES``.
    The file is checked before it is opened and again once open (it may have been swapped or grown
    since), and no more than ``MAX_BYTES + 1`` bytes are ever read from it."""
    if isinstance(path, str) and not path.strip():
        raise InvalidImage(
            "empty string: expected a file path or a data URL like 'data:image/png;base64,...'", "malformed"
        )
    hint = " (a string is read as a file path unless it is a data URL like 'data:image/png;base64,...')"
    name, hint = str(path), (hint if isinstance(path, str) else "")
    try:
        _check_file(name, os.stat(path))
        # Non-blocking: a pipe put in the file's place since the check must not hang the open.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        try:
            _check_file(name, os.fstat(fd))
            chunks, left = [], MAX_BYTES + 1
            while left > 0 and (chunk := os.read(fd, min(left, 1 << 20))):
                chunks.append(chunk)
                left -= len(chunk)
        finally:
            os.close(fd)
    except InvalidImage:  # a ValueError, already worded
        raise
    except FileNotFoundError:
        raise InvalidImage(f"cannot read {name!r}: no such file{hint}", "malformed") from None
    except (OSError, ValueError) as exc:  # a name too long, a NUL byte, no permission...
        raise InvalidImage(f"cannot read {name!r}: {getattr(exc, 'strerror', None) or exc}", "malformed") from None
    if left <= 0:  # it grew past the limit after it was checked
        raise InvalidImage(f"image is larger than {MAX_BYTES // 2**20} MiB", "too_large")
    return b"".join(chunks)


def _check_file(name: str, info: os.stat_result) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise InvalidImage(f"{name!r} is a folder, not an image file", "malformed")
    if not stat.S_ISREG(info.st_mode):
        raise InvalidImage(f"{name!r} is not a regular file (a device, pipe or socket)", "malformed")
    if info.st_size > MAX_BYTES:
        raise InvalidImage(f"image is larger than {MAX_BYTES // 2**20} MiB", "too_large")


# --- decode: anything -> (grey, alpha) float32 arrays in [0, 1] -------------------------------------


def planes(img: Image.Image) -> tuple[Image.Image, Image.Image | None]:
    """An 8-bit image's grey plane and alpha plane (None when it has no alpha), converted in C."""
    if "A" in img.getbands() or "transparency" in img.info:
        # Pillow's own luma (the weights of _luminance, rounded to 8 bits) and the alpha channel,
        # both in C: a third of the time of converting all four channels to float first.
        rgba = img if img.mode == "RGBA" else img.convert("RGBA")  # convert would copy an RGBA image
        return rgba.convert("L"), rgba.getchannel("A")
    return img.convert("L"), None


def levels(plane: Image.Image) -> np.ndarray:
    """An 8-bit plane as float32 in [0, 1] (the values of LEVELS, without an index lookup)."""
    out = np.asarray(plane, dtype=np.float32)
    out *= np.float32(1 / 255)
    return out


def _pil_to_arrays(img: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    if img.mode in WIDE_MODES:
        return _array_to_arrays(np.asarray(img))
    grey, alpha = planes(img)
    return levels(grey), (None if alpha is None else levels(alpha))


def _luminance(rgb: np.ndarray) -> np.ndarray:
    return rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _scale_values(arr: np.ndarray) -> np.ndarray:
    """Any numeric array -> float32 in [0, 1], by its dtype's range or its own."""
    if arr.dtype == np.bool_:
        return arr.astype(np.float32)
    if arr.dtype.kind not in "uif":
        raise InvalidImage(f"unsupported array dtype {arr.dtype}")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise InvalidImage("image array contains NaN or infinity")
    kind, itemsize = arr.dtype.kind, arr.dtype.itemsize
    arr = arr.astype(np.float64)
    lo, hi = float(arr.min()), float(arr.max())
    if kind == "f" and lo >= 0 and hi <= 1:
        return arr.astype(np.float32)
    if (kind == "u" and itemsize == 1) or (kind in "ui" and lo >= 0 and hi <= 255):
        return (arr / 255.0).astype(np.float32)
    if kind == "u" and itemsize == 2:
        return (arr / 65535.0).astype(np.float32)
    if not np.isfinite(hi - lo):  # values near the float64 limits: bring them in range first
        arr, lo, hi = arr / 2.0, lo / 2.0, hi / 2.0
    # Floats outside [0, 1] (0..16 counts, [-1, 1] scans, 0..255) and odd integer ranges: stretch.
    return ((arr - lo) / (hi - lo or 1.0)).astype(np.float32)


def _array_to_arrays(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise InvalidImage(f"array of shape {arr.shape}; expected (H, W), (H, W, 3) or (H, W, 4)")
    check_size(arr.shape[1], arr.shape[0])
    arr = _scale_values(arr)
    if arr.ndim == 2:
        return arr, None
    grey = _luminance(arr[..., :3])
    return grey, (arr[..., 3] if arr.shape[2] == 4 else None)


def decode(image: ImageLike) -> tuple[np.ndarray, np.ndarray | None]:
    """Any supported input -> (grey, alpha), float32 in [0, 1]; alpha is None when opaque."""
    image = load(image)
    grey, alpha = _pil_to_arrays(image) if isinstance(image, Image.Image) else _array_to_arrays(image)
    if alpha is not None and alpha.min() > 0.99:
        alpha = None  # an opaque alpha channel says nothing
    return _reduce(grey, alpha)


def _reduce(grey: np.ndarray, alpha: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """Area-reduce very large inputs so the rest costs the same for a photo as for a canvas."""
    factor = int(np.ceil(max(grey.shape) / WORKING_SIDE))
    if factor <= 1:
        return grey, alpha

    def shrink(a: np.ndarray) -> np.ndarray:
        h, w = (a.shape[0] // factor) * factor, (a.shape[1] // factor) * factor
        if h == 0 or w == 0:  # a strip thinner than the factor: keep it as it is
            return a
        return a[:h, :w].reshape(h // factor, factor, w // factor, factor).mean(axis=(1, 3))

    if alpha is not None:
        # Average premultiplied colour, so transparent pixels' colour does not bleed into ink.
        a = shrink(alpha)
        return shrink(grey * alpha) / np.maximum(a, 1e-6), a
    return shrink(grey), None


# --- what the front ends show or send ---------------------------------------------------------------


def sketchpad_image(value: Mapping[str, Any] | None) -> Any:
    """The picture in a Gradio Sketchpad value (``background``, ``layers``, ``composite``); None if empty.

    The composite is what the user sees. API clients may leave it out: then the layers (PIL images
    or arrays, RGBA or not) are painted over the background here. A single image is returned as it
    is: its colours, polarity and alpha are left to ``preprocess``. Raises ``InvalidImage`` for
    layers that cannot be painted together. A string in the value is read only as a data URL, never as a
    file path: the value comes from a web client.
    """
    if not value:
        return None
    if value.get("composite") is not None:
        return _not_a_path(value["composite"])
    images = [_not_a_path(im) for im in (value.get("background"), *(value.get("layers") or [])) if im is not None]
    if len(images) <= 1:
        return images[0] if images else None
    try:
        canvas, *layers = [Image.fromarray(np.asarray(im)).convert("RGBA") for im in images]
        for layer in layers:
            canvas.alpha_composite(layer)
    except (TypeError, ValueError) as exc:  # layers that are not pictures, or larger than the background
        raise InvalidImage(f"cannot paint the drawing's layers together ({exc})") from None
    return canvas


def _not_a_path(image: Any) -> Any:
    """A string from a web client is only ever a data URL (its bytes here), never a file path."""
    return decode_data_url(image) if isinstance(image, str) else image


def png_bytes(pixels: np.ndarray) -> bytes:
    """A uint8 picture (H, W) or (H, W, 3|4) as PNG bytes: lossless, so pixels stay crisp."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def png_data_url(pixels: np.ndarray) -> str:
    """A uint8 picture as a PNG data URL (about 300 bytes for the 28x28 model input)."""
    return encode_data_url(png_bytes(pixels))


def picture(image: ImageLike) -> np.ndarray:
    """The drawing as an RGB uint8 array, a transparent canvas shown on white: what boxes are drawn over."""
    img = load(image)
    if isinstance(img, np.ndarray):
        img = Image.fromarray(img if img.dtype == np.uint8 else np.uint8(np.clip(img, 0, 1) * 255))
    rgba = img.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))
