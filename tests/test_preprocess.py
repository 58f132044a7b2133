"""digitrec.preprocess: every kind of input a front end sends, framed the way MNIST was."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from digitrec import InvalidImage, imageio, preprocess
from digitrec.data.canvases import paste, pen_digit, to_png
from digitrec.data.strokes import LOOKS, look_of
from digitrec.imageio import MAX_PIXELS, MAX_SIDE, encode_data_url
from digitrec.preprocess import BOX, SIZE


def ink_seven(canvas: int = 280, pen: int = 18) -> np.ndarray:
    """A plain 7 as a white-on-black uint8 ink map."""
    from PIL import ImageDraw

    img = Image.new("L", (canvas, canvas), 0)
    d = ImageDraw.Draw(img)
    s = canvas / 280
    d.line(
        [(80 * s, 60 * s), (200 * s, 60 * s), (120 * s, 230 * s)], fill=255, width=max(1, int(pen * s)), joint="curve"
    )
    return np.asarray(img)


def assert_framed(out: np.ndarray | None) -> np.ndarray:
    """MNIST framing: 28x28 float32 in [0, 1], ink inside a 20x20 box, centre of mass in the middle."""
    assert out is not None
    assert out.shape == (SIZE, SIZE) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() == pytest.approx(1.0, abs=1e-6)
    rows = np.flatnonzero(out.max(axis=1) > 0)
    cols = np.flatnonzero(out.max(axis=0) > 0)
    assert max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1) <= BOX + 1
    com = ndimage.center_of_mass(out)
    assert abs(com[0] - 14) <= 1.0 and abs(com[1] - 14) <= 1.0
    return out


REFERENCE = None


def reference() -> np.ndarray:
    global REFERENCE
    if REFERENCE is None:
        REFERENCE = assert_framed(preprocess(ink_seven()))
    return REFERENCE


def similar(a: np.ndarray, b: np.ndarray, tol: float = 0.12) -> bool:
    return float(np.abs(a - b).mean()) < tol


# --- input kinds ----------------------------------------------------------------------------------


@pytest.mark.parametrize("how", LOOKS)
def test_every_canvas_look_frames_the_same_digit(how):
    out = assert_framed(preprocess(look_of(ink_seven(), how)))
    assert similar(out, reference())


def test_pil_image_numpy_array_png_bytes_and_data_url_agree():
    rgb = look_of(ink_seven(), "dark_on_light")
    png = to_png(rgb)
    url = encode_data_url(png)
    outs = [preprocess(x) for x in (rgb, Image.fromarray(rgb), png, bytearray(png), memoryview(png), url)]
    for out in outs:
        np.testing.assert_allclose(out, outs[0], atol=1e-6)


def test_transparent_layer_with_ink_only_in_alpha():
    """Browser canvases and Gradio layers: transparent black background, black ink in alpha."""
    rgba = look_of(ink_seven(), "transparent")
    assert (rgba[..., :3] == 0).all()  # a naive greyscale conversion would be all black
    out = assert_framed(preprocess(rgba))
    assert similar(out, reference())
    assert similar(assert_framed(preprocess(Image.fromarray(rgba, "RGBA"))), reference())


def test_transparent_layer_with_white_ink():
    ink = ink_seven()
    rgba = np.zeros(ink.shape + (4,), np.uint8)
    rgba[..., :3] = 255
    rgba[..., 3] = ink
    assert similar(assert_framed(preprocess(rgba)), reference())


def test_palette_png_with_transparency_keyword():
    img = Image.fromarray(look_of(ink_seven(), "dark_on_light")).convert("P")
    img.info["transparency"] = 255
    buf = io.BytesIO()
    img.save(buf, format="PNG", transparency=img.getpixel((0, 0)))
    assert similar(assert_framed(preprocess(buf.getvalue())), reference())


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA", "P", "CMYK", "1", "I;16", "I", "F"])
def test_pil_modes(mode):
    img = Image.fromarray(look_of(ink_seven(), "dark_on_light"))
    if mode == "I;16":
        img = Image.fromarray(np.asarray(img.convert("L"), np.uint16) * 257)
    elif mode in ("I", "F"):
        img = img.convert("L").convert(mode)
    else:
        img = img.convert(mode)
    assert similar(assert_framed(preprocess(img)), reference(), tol=0.15)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int32, np.int64, np.float32, np.float64, bool])
def test_array_dtypes(dtype):
    ink = ink_seven().astype(np.float64) / 255.0
    if dtype is bool:
        arr = ink > 0.5
    elif np.issubdtype(dtype, np.floating):
        arr = ink.astype(dtype)
    else:
        arr = np.round(ink * (65535 if dtype == np.uint16 else 255)).astype(dtype)
    assert similar(assert_framed(preprocess(arr)), reference(), tol=0.15)


@pytest.mark.parametrize("shape", ["HW", "HW1", "HW3", "HW4"])
def test_array_shapes(shape):
    ink = ink_seven()
    arr = {"HW": ink, "HW1": ink[..., None], "HW3": look_of(ink, "light_on_dark"), "HW4": look_of(ink, "transparent")}[
        shape
    ]
    assert similar(assert_framed(preprocess(arr)), reference())


def test_float_ranges_other_than_unit_are_stretched():
    ink = ink_seven().astype(np.float64) / 255.0
    for arr in (ink * 16.0, ink * 2.0 - 1.0, ink * 255.0):  # load_digits counts, [-1, 1] scans, 0..255
        assert similar(assert_framed(preprocess(arr)), reference())


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF", "BMP"])
def test_encoded_formats(fmt):
    buf = io.BytesIO()
    Image.fromarray(look_of(ink_seven(), "dark_on_light")).save(buf, format=fmt)
    assert similar(assert_framed(preprocess(buf.getvalue())), reference())


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_exif_rotation_is_applied(fmt):
    """A phone stores its photo sideways with an EXIF orientation: the digit is read as shown."""
    shown = Image.fromarray(look_of(ink_seven(), "dark_on_light"))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: turn 90 degrees clockwise to show
    buf = io.BytesIO()
    shown.transpose(Image.Transpose.ROTATE_90).save(buf, format=fmt, exif=exif, quality=100)
    upright = preprocess(buf.getvalue())
    if fmt == "PNG":  # lossless: exactly the drawing as shown
        np.testing.assert_array_equal(upright, preprocess(shown))
    assert similar(assert_framed(upright), reference())
    assert not similar(preprocess(shown.transpose(Image.Transpose.ROTATE_90)), reference())  # it matters


def test_path_objects_are_read(tmp_path):
    path = tmp_path / "seven.png"
    path.write_bytes(to_png(look_of(ink_seven(), "dark_on_light")))
    assert similar(assert_framed(preprocess(path)), reference())


def test_a_plain_string_is_a_file_path(tmp_path, monkeypatch):
    """README's first lines: ``predictor.predict("drawing.png")`` reads the file, as a Path does."""
    path = tmp_path / "seven.png"
    path.write_bytes(to_png(look_of(ink_seven(), "dark_on_light")))
    assert similar(assert_framed(preprocess(str(path))), reference())
    monkeypatch.chdir(tmp_path)
    assert similar(assert_framed(preprocess("seven.png")), reference())  # relative to the working folder
    url = imageio.encode_data_url(path.read_bytes())
    assert similar(assert_framed(preprocess(url)), reference())  # data URLs still read as data URLs


def test_a_path_that_is_no_image_file_says_so_clearly(tmp_path):
    cases = [
        (str(tmp_path / "missing.png"), "cannot read .*missing.png.: no such file .*data URL"),
        (tmp_path / "missing.png", "no such file"),
        (str(tmp_path), "is a folder, not an image file"),
        (tmp_path, "is a folder, not an image file"),
        ("", "empty string: expected a file path or a data URL"),
        ("x" * 5000, "cannot read"),
        ("bad\0name.png", "cannot read"),
    ]
    if Path("/dev/null").exists():
        cases.append(("/dev/null", "not a regular file"))
    for bad, message in cases:
        with pytest.raises(InvalidImage, match=message) as info:
            preprocess(bad)
        assert info.value.kind == "malformed", bad
    big = tmp_path / "big.png"
    with big.open("wb") as f:
        f.truncate(imageio.MAX_BYTES + 1)  # sparse: refused from its size, before a byte is read
    with pytest.raises(InvalidImage) as info:
        preprocess(str(big))
    assert info.value.kind == "too_large"
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(InvalidImage, match="not a readable image"):
        preprocess(str(tmp_path / "notes.png"))


def test_a_file_is_never_read_past_the_limit_even_if_it_grew_after_the_check(tmp_path, monkeypatch):
    """The size is checked again on the open file, and at most ``MAX_BYTES + 1`` bytes are read: a file
    swapped for a larger one (or grown) between the check and the read is refused, not read whole."""
    big = tmp_path / "big.png"
    with big.open("wb") as f:
        f.truncate(imageio.MAX_BYTES * 3)
    small = tmp_path / "small.png"
    small.write_bytes(b"x")
    real_stat, real_read, read = os.stat, os.read, []

    def stat_before_the_swap(path, *args, **kwargs):  # what a check made before the file grew saw
        return real_stat(small if str(path) == str(big) else path, *args, **kwargs)

    def counted_read(fd, n):
        data = real_read(fd, n)
        read.append(len(data))
        return data

    monkeypatch.setattr(os, "stat", stat_before_the_swap)
    monkeypatch.setattr(os, "read", counted_read)
    for grew_after_it_was_opened in (False, True):
        if grew_after_it_was_opened:  # the open file's own size said small too: only the read's bound is left
            monkeypatch.setattr(os, "fstat", lambda fd: real_stat(small))
        read.clear()
        with pytest.raises(InvalidImage) as info:
            imageio.read_file(big)
        assert info.value.kind == "too_large"
        assert sum(read) <= imageio.MAX_BYTES + 1


def test_web_clients_strings_are_only_data_urls(tmp_path):
    """A Sketchpad value comes from a browser: its strings must never name a file on the server."""
    path = tmp_path / "seven.png"
    path.write_bytes(to_png(look_of(ink_seven(), "dark_on_light")))
    with pytest.raises(InvalidImage, match="data URL"):
        imageio.sketchpad_image({"composite": str(path)})
    with pytest.raises(InvalidImage, match="data URL"):
        imageio.sketchpad_image({"background": str(path), "layers": []})
    assert imageio.sketchpad_image({"composite": imageio.encode_data_url(b"png")}) == b"png"


# --- what drawings do ------------------------------------------------------------------------------


@pytest.mark.parametrize("canvas", [56, 140, 280, 600, 1500])
def test_any_canvas_size(canvas):
    assert similar(assert_framed(preprocess(look_of(ink_seven(canvas), "dark_on_light"))), reference())


@pytest.mark.parametrize("pen", [3, 8, 30, 55])
def test_thin_and_very_thick_strokes_come_out_mnist_like(pen):
    out = assert_framed(preprocess(ink_seven(pen=pen)))
    assert similar(out, reference(), tol=0.15)


def test_stroke_width_is_normalised():
    thin, thick = preprocess(ink_seven(pen=4)), preprocess(ink_seven(pen=50))
    ref = reference()
    # Without normalisation the ink mass differs by several times; with it, by far less.
    assert 0.6 < thin.sum() / ref.sum() < 1.6 and 0.6 < thick.sum() / ref.sum() < 1.6
    raw_thin = preprocess(ink_seven(pen=4), normalize_strokes=False)
    assert raw_thin.sum() < thin.sum()


def test_tiny_digit_in_a_corner():
    small = paste(ink_seven(), scale=0.12, centred=True)
    corner = np.zeros_like(small)
    corner[230:, 230:] = small[115:165, 115:165]
    assert similar(assert_framed(preprocess(corner)), reference(), tol=0.15)


def test_stray_specks_far_from_the_digit_are_ignored():
    ink = ink_seven().copy()
    ink[5:9, 5:9] = 255  # a speck in a corner
    ink[270:274, 140:144] = 255
    assert similar(assert_framed(preprocess(ink)), reference(), tol=0.05)


def test_separate_strokes_of_one_digit_are_kept():
    """A 7's crossbar is its own blob; it must not be dropped as a speck."""
    ink = ink_seven().copy()
    ink[140:152, 110:190] = 255
    out = preprocess(ink)
    assert out.sum() > reference().sum() * 1.05


def test_off_centre_digit_is_recentred():
    ink = np.zeros((280, 280), np.uint8)
    ink[:140, 140:] = ink_seven(140)
    assert similar(assert_framed(preprocess(ink)), reference(), tol=0.12)


def test_jpeg_noise_and_grey_paper_are_not_ink():
    rgb = look_of(ink_seven(), "dark_on_light").astype(np.int16)
    rng = np.random.default_rng(0)
    noisy = np.clip(rgb - 40 + rng.integers(-12, 12, rgb.shape), 0, 255).astype(np.uint8)  # grey, noisy
    buf = io.BytesIO()
    Image.fromarray(noisy).save(buf, format="JPEG", quality=60)
    assert similar(assert_framed(preprocess(buf.getvalue())), reference(), tol=0.12)


@pytest.mark.parametrize(
    "blank",
    [
        np.zeros((280, 280), np.uint8),
        np.full((280, 280, 3), 255, np.uint8),
        np.full((280, 280, 3), 45, np.uint8),  # the dark theme's empty canvas
        np.zeros((280, 280, 4), np.uint8),  # a fully transparent layer
        np.full((64, 64), 0.5, np.float32),
    ],
)
def test_blank_canvases_return_none(blank):
    assert preprocess(blank) is None
    assert preprocess(to_png(blank) if blank.dtype == np.uint8 else blank) is None


def test_near_blank_noise_is_blank():
    rng = np.random.default_rng(1)
    assert preprocess((250 + rng.integers(0, 5, (280, 280))).astype(np.uint8)) is None


# --- bad input ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad, message",
    [
        (b"", "empty"),
        (b"definitely not an image", "not a readable image"),
        (to_png(np.zeros((10, 10), np.uint8))[:40], "not a readable image"),
        ("data:image/png;base64,@@@@", "base64"),
        ("data:text/plain;base64,aGVsbG8=", "MIME"),
        ("hello", "no such file .*data URL"),
        (np.zeros((0, 10)), "empty"),
        (np.zeros((10, 10, 2)), "shape"),
        (np.zeros((2, 10, 10, 3)), "shape"),
        (np.array([[np.nan, 1.0], [0.0, 1.0]]), "NaN"),
        (np.array([["a", "b"]]), "dtype"),
        (np.zeros((100_000, 1), np.uint8), "limit"),
        (12345, "cannot read"),
        (None, "cannot read"),
    ],
)
def test_bad_input_raises_invalid_image(bad, message):
    with pytest.raises(InvalidImage, match=message):
        preprocess(bad)


def test_decompression_bomb_is_refused_before_decoding():
    buf = io.BytesIO()
    Image.new("1", (30_000, 30_000)).save(buf, format="PNG")  # a few KB, 900 megapixels
    assert len(buf.getvalue()) < 200_000
    with pytest.raises(InvalidImage, match="limit"):
        preprocess(buf.getvalue())


@pytest.mark.parametrize("width, height", [(30_000, 30_000), (15_000, 15_000), (100_000, 100_000)])
def test_declared_bombs_get_the_projects_limit_not_pillows(width, height):
    """Pillow's own bomb check (89 megapixels) fires before ours: the message must still be ours."""
    from tests.corpus.make_corpus import png_with_header

    with pytest.raises(InvalidImage) as info:
        preprocess(png_with_header(width, height))
    assert info.value.kind == "too_large"
    limit = f"the limit is {MAX_PIXELS:,} pixels and {MAX_SIDE} per side"
    assert str(info.value) == f"image is too large ({width}x{height}); {limit}"


@pytest.mark.parametrize(
    "bad, kind",
    [
        (b"", "malformed"),
        ("hello", "malformed"),
        ("data:image/png;base64,@@@@", "malformed"),
        (b"GIF89a-not-really", "unsupported"),
        ("data:text/plain;base64,aGVsbG8=", "unsupported"),
        (np.zeros((100_000, 1), np.uint8), "too_large"),
        (np.zeros((0, 5)), "malformed"),
    ],
)
def test_invalid_image_kinds(bad, kind):
    with pytest.raises(InvalidImage) as info:
        preprocess(bad)
    assert info.value.kind == kind


def test_unreadable_image_message_has_no_object_addresses():
    with pytest.raises(InvalidImage) as info:
        preprocess(b"definitely not an image")
    assert "0x" not in str(info.value) and "<" not in str(info.value)


def test_invalid_image_is_a_value_error():
    assert issubclass(InvalidImage, ValueError)


def test_pen_drawings_of_every_look_frame_cleanly():
    rng = np.random.default_rng(3)
    for digit in range(10):
        for how in LOOKS:
            assert_framed(preprocess(pen_digit(digit, rng, how)))


# --- the fast path for 8-bit images equals the step-by-step definition -----------------------------


def _encoded_images() -> list[bytes]:
    """Drawings of every style plus random 8-bit images of every common mode, some flat, some
    mostly transparent, as PNG bytes."""
    rng = np.random.default_rng(7)
    out = [to_png(pen_digit(i % 10, rng, LOOKS[i % len(LOOKS)])) for i in range(40)]
    for i in range(60):
        h, w = (int(v) for v in rng.integers(1, 300, 2))
        mode = ("L", "RGB", "RGBA", "LA", "P")[i % 5]
        arr = rng.integers(0, 256, (h, w, {"RGB": 3, "RGBA": 4, "LA": 2}.get(mode, 1)), dtype=np.uint8)
        if i % 3 == 0:
            arr[...] = arr.max()  # a single colour
        if mode in ("RGBA", "LA") and i % 2:
            arr[..., -1] = np.where(rng.random((h, w)) < 0.9, 0, arr[..., -1])  # mostly transparent
        img = Image.fromarray(arr[..., 0] if arr.shape[2] == 1 else arr, "L" if mode == "P" else mode)
        if mode == "P":
            img = img.convert("P")
            img.info["transparency"] = 0
        buf = io.BytesIO()
        img.save(buf, "PNG")
        out.append(buf.getvalue())
    # Layers painted all over but for a transparent strip, where the backdrop decides the polarity
    # (grey ink on mid-grey) or reads as ink itself (dark ink on light grey).
    for fill, stroke, patch in ((115, 64, 153), (200, 40, 200)):
        layer = np.zeros((200, 200, 4), np.uint8)
        layer[:, :190] = (fill, fill, fill, 255)
        layer[60:140, 90:100, :3] = stroke
        layer[20:30, 20:30, :3] = patch
        out.append(to_png(layer))
    # Ink clear of the margins in layers of other colours and faint alpha: only its box is converted.
    for colour, opacity in ((255, 255), (128, 90), (0, 30), (40, 1)):
        layer = np.zeros((120, 160, 4), np.uint8)
        layer[40:80, 50:110] = (colour, colour, colour, opacity)
        layer[55:60, 60:100, 3] = 255
        out.append(to_png(layer))
    return out


def test_fast_inked_box_equals_decode_to_ink_crop():
    """``inked_box`` skips work on the background of 8-bit images; its numbers must not change."""
    from digitrec.imageio import decode, load
    from digitrec.ink import crop, inked_box, takes_fast_path, to_ink

    for data in _encoded_images():
        image = load(data)
        assert takes_fast_path(image)  # every one of them, canvas PNGs first, goes the fast way
        ink = to_ink(*decode(image))
        expected = None if ink is None else crop(ink)
        got = inked_box(image)
        if expected is None:
            assert got is None
        else:
            assert got is not None and got.dtype == np.float32
            np.testing.assert_array_equal(got, expected)


def test_preprocess_takes_the_fast_path_only_where_it_applies():
    from digitrec.imageio import load
    from digitrec.ink import takes_fast_path

    canvas = to_png(pen_digit(3, np.random.default_rng(0), "transparent"))
    assert takes_fast_path(load(canvas))
    assert not takes_fast_path(load(pen_digit(3, np.random.default_rng(0))))  # arrays: the steps
    wide = Image.fromarray(np.zeros((40, 40), np.uint16))
    assert not takes_fast_path(wide) and not takes_fast_path(Image.new("L", (600, 20)))


# --- the fast ways equal the plain definitions ------------------------------------------------------


@pytest.mark.parametrize("radius", [1, 2, 3, 5])
def test_dilation_by_running_maxima_equals_the_disk_footprint(radius):
    from digitrec.preprocess import _dilate, _disk

    rng = np.random.default_rng(radius)
    for _ in range(30):
        h, w = rng.integers(1, 60, 2)
        ink = (rng.random((h, w)) * (rng.random((h, w)) < rng.random())).astype(np.float32)
        ink = np.pad(ink, radius)  # normalize_stroke's padding is wider than any radius it dilates by
        np.testing.assert_array_equal(_dilate(ink, radius), ndimage.grey_dilation(ink, footprint=_disk(radius)))


@pytest.mark.parametrize("n", [1, 2, 4759, 4760])
def test_background_by_counting_equals_the_median(n):
    from digitrec.imageio import LEVELS
    from digitrec.ink import _background, _background_of_levels

    rng = np.random.default_rng(n)
    for values in (rng.integers(0, 256, n), rng.choice([0, 37, 254, 255], n), np.full(n, 255)):
        values = values.astype(np.uint8)
        assert _background_of_levels(values) == _background(LEVELS[values])


def test_centre_of_mass_is_scipys():
    from digitrec.preprocess import center_by_mass

    rng = np.random.default_rng(0)
    for _ in range(50):
        digit = rng.random(tuple(rng.integers(3, 21, 2))).astype(np.float32) ** 4
        com = ndimage.center_of_mass(digit)
        out = np.zeros((SIZE, SIZE), np.float32)
        top = min(max(int(round(14 - com[0])), 0), SIZE - digit.shape[0])
        left = min(max(int(round(14 - com[1])), 0), SIZE - digit.shape[1])
        out[top : top + digit.shape[0], left : left + digit.shape[1]] = digit
        np.testing.assert_array_equal(center_by_mass(digit), out)
