"""Write the hostile-input corpus: broken, odd and malicious files, arrays and HTTP requests.

    python -m tests.corpus.make_corpus      # from the repository root (python tests/corpus/make_corpus.py works too)

It is deterministic: it writes only the files whose bytes changed (and removes files no entry makes),
so on an unchanged checkout it rewrites nothing and ``git status`` stays clean. A change to the pen
renderer (``digitrec.data.canvases.pen_digit``) changes the digits drawn here: rerun it and commit.

Every entry says what must happen to it (``expect``):
- ``"malformed"``, ``"too_large"``, ``"unsupported"``: ``InvalidImage`` of that kind (HTTP 400, 413, 415);
- ``"blank"``: no digit (HTTP 200, ``"digit": null``);
- ``"digit:N"``: read as N (HTTP 200);
- ``"any"``: some answer, digit or blank, and no error (HTTP 200).
The files are committed (with ``manifest.json``); this script documents how each was made and
can rebuild them. HTTP requests (``requests()``) and in-process arrays (``arrays()``) live here as
code, and the tests import them.
"""

from __future__ import annotations

import io
import json
import struct
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
if __name__ == "__main__" and not __package__:  # run as a file: the repository root is not on the path
    sys.path.insert(0, str(HERE.parents[1]))

from digitrec.imageio import encode_data_url  # noqa: E402

FILES = HERE / "files"


def digit_image(digit: int = 3) -> Image.Image:
    from digitrec.data.canvases import pen_digit

    return Image.fromarray(pen_digit(digit, np.random.default_rng(digit), "dark_on_light", pen_px=16))


def encode(img: Image.Image, fmt: str, **kwargs) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kwargs)
    return buf.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_with_header(width: int, height: int, idat: bytes = b"") -> bytes:
    """A PNG whose IHDR claims any size, with whatever (tiny) pixel data follows."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(idat))
        + png_chunk(b"IEND", b"")
    )


def jpeg_with_size(width: int, height: int) -> bytes:
    """A valid small JPEG whose frame header is patched to claim ``width`` x ``height``."""
    data = bytearray(encode(Image.new("L", (8, 8), 255), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def files() -> list[tuple[str, bytes, str, str]]:
    """(file name, content, expectation, why)."""
    three = digit_image(3)
    seven = digit_image(7)
    png = encode(three, "PNG")
    small = three.resize((112, 112), Image.BOX)  # uncompressed formats stay small
    grey = np.asarray(small.convert("L"))
    out = [
        ("not_an_image.txt", b"hello, this is text pretending to be a drawing\n", "unsupported", "plain text"),
        (
            "random_bytes.bin",
            np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes(),
            "unsupported",
            "random bytes",
        ),
        ("zero_bytes.png", b"", "malformed", "a zero-byte upload"),
        ("truncated_half.png", png[: len(png) // 2], "unsupported", "a PNG cut in half"),
        ("truncated_header.png", png[:30], "unsupported", "only the PNG signature and part of IHDR"),
        ("truncated.jpg", encode(three, "JPEG")[:1500], "unsupported", "a JPEG cut short"),
        ("bad_crc.png", png[:29] + bytes([png[29] ^ 0xFF]) + png[30:], "unsupported", "IHDR checksum broken"),
        ("zero_by_zero.png", png_with_header(0, 0), "unsupported", "IHDR declares a 0x0 image"),
        ("one_pixel_white.png", encode(Image.new("L", (1, 1), 255), "PNG"), "blank", "1x1, nothing drawn"),
        ("one_pixel_black.png", encode(Image.new("L", (1, 1), 0), "PNG"), "blank", "1x1 black"),
        ("strip_100000x1.png", encode(Image.new("L", (100_000, 1), 255), "PNG"), "too_large", "a 100000x1 strip"),
        ("strip_1x20000.png", encode(Image.new("L", (1, 20_000), 0), "PNG"), "too_large", "a 1x20000 strip"),
        ("strip_4000x3.png", encode(Image.new("L", (4000, 3), 255), "PNG"), "blank", "a long thin empty strip"),
        (
            "bomb_30000x30000.png",
            encode(Image.new("1", (30_000, 30_000), 0), "PNG", optimize=True),
            "too_large",
            "decompression bomb: 900 megapixels of zeros in a small file",
        ),
        (
            "bomb_declared.png",
            png_with_header(100_000, 100_000, b"\x00" * 64),
            "too_large",
            "IHDR declares 10 gigapixels, almost no data",
        ),
        ("bomb_declared.jpg", jpeg_with_size(60_000, 60_000), "too_large", "JPEG frame header declares 60000x60000"),
        (
            "bomb_declared_30000.png",
            png_with_header(30_000, 30_000, b"\x00" * 64),
            "too_large",
            "IHDR declares 30000x30000: refused with our limit, not Pillow's 89-megapixel one",
        ),
        ("depth16.png", encode(Image.fromarray(grey.astype(np.uint16) * 257), "PNG"), "digit:3", "16-bit greyscale"),
        ("palette.png", encode(three.convert("P"), "PNG"), "digit:3", "palette (P mode)"),
        ("cmyk.jpg", encode(three.convert("CMYK"), "JPEG", quality=90), "digit:3", "CMYK JPEG"),
        ("la.png", encode(three.convert("LA"), "PNG"), "digit:3", "greyscale + alpha"),
        ("one_bit.png", encode(three.convert("1"), "PNG"), "digit:3", "1-bit black and white"),
        ("animated.gif", _animated(three, seven), "digit:3", "animated GIF: the first frame is a 3"),
        ("exif_rotated.jpg", _exif_rotated(seven), "digit:7", "stored sideways, EXIF orientation 6 says rotate"),
        (
            "transparent_empty.png",
            encode(Image.new("RGBA", (280, 280), (0, 0, 0, 0)), "PNG"),
            "blank",
            "a fully transparent canvas",
        ),
        (
            "single_colour_red.png",
            encode(Image.new("RGB", (280, 280), (200, 30, 30)), "PNG"),
            "blank",
            "one colour, nothing drawn",
        ),
        ("single_colour_white.jpg", encode(Image.new("RGB", (280, 280), "white"), "JPEG"), "blank", "a white JPEG"),
        (
            "dark_theme_empty.png",
            encode(Image.new("RGB", (280, 280), (45, 45, 45)), "PNG"),
            "blank",
            "the dark theme's empty canvas",
        ),
        ("alpha_only_ink.png", encode(_alpha_only(three), "PNG"), "digit:3", "ink only in the alpha channel"),
        ("tiff.tif", encode(small, "TIFF"), "digit:3", "TIFF"),
        ("bmp.bmp", encode(small, "BMP"), "digit:3", "BMP"),
        ("webp.webp", encode(three, "WEBP"), "digit:3", "WebP"),
        ("float_nan.tif", encode(_float_image(grey, np.nan), "TIFF"), "unsupported", "32-bit float TIFF with NaN"),
        ("float_inf.tif", encode(_float_image(grey, np.inf), "TIFF"), "unsupported", "32-bit float TIFF with inf"),
        ("icon.ico", encode(three.resize((64, 64)), "ICO"), "unsupported", "an icon: not a format we accept"),
        ("vector.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><text>7</text></svg>', "unsupported", "SVG text"),
        ("document.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "unsupported", "a PDF"),
        ("archive.zip", _zip(png), "unsupported", "a zip holding a PNG"),
        ("page.html", b"<!doctype html><script>alert(1)</script>", "unsupported", "HTML with a script"),
        ("gif_header_only.gif", b"GIF89a", "unsupported", "a GIF signature and nothing else"),
        (
            "noise.png",
            encode(Image.fromarray(np.random.default_rng(1).integers(0, 256, (280, 280), np.uint8)), "PNG"),
            "any",
            "random noise: some answer, no error",
        ),
        ("tiny_8x8.png", encode(three.resize((8, 8), Image.BOX), "PNG"), "any", "an 8x8 thumbnail"),
        ("huge_canvas_4000.png", encode(_big_canvas(three), "PNG"), "digit:3", "a 4000x4000 canvas, digit in a corner"),
    ]
    return out


def _animated(first: Image.Image, second: Image.Image) -> bytes:
    buf = io.BytesIO()
    first.convert("P").save(buf, format="GIF", save_all=True, append_images=[second.convert("P")], duration=100, loop=0)
    return buf.getvalue()


def _exif_rotated(img: Image.Image) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: the viewer must turn it 90 degrees clockwise
    return encode(img.rotate(90, expand=True), "JPEG", exif=exif.tobytes(), quality=92)


def _alpha_only(img: Image.Image) -> Image.Image:
    ink = 255 - np.asarray(img.convert("L"))
    rgba = np.zeros(ink.shape + (4,), np.uint8)
    rgba[..., 3] = ink
    return Image.fromarray(rgba, "RGBA")


def _float_image(grey: np.ndarray, bad: float) -> Image.Image:
    arr = grey.astype(np.float32) / 255.0
    arr[0, 0] = bad
    return Image.fromarray(arr, mode="F")


def _zip(content: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:  # a fixed date: the same bytes on every run
        zf.writestr(zipfile.ZipInfo("drawing.png", date_time=(2020, 1, 1, 0, 0, 0)), content)
    return buf.getvalue()


def _big_canvas(img: Image.Image) -> Image.Image:
    canvas = Image.new("RGB", (4000, 4000), "white")
    canvas.paste(img.resize((900, 900)), (2900, 2900))
    return canvas


def requests() -> list[dict]:
    """HTTP requests to POST /api/predict that must fail cleanly, with their status codes."""
    good = encode_data_url(encode(digit_image(3), "PNG"))
    big = "data:image/png;base64," + "A" * (3 * 1024 * 1024)
    return [
        {"name": "invalid_json", "content_type": "application/json", "body": "{not json", "status": 400},
        {"name": "json_array", "json": [good], "status": 400},
        {"name": "json_string", "json": good, "status": 400},
        {"name": "json_number", "json": 7, "status": 400},
        {"name": "json_null", "content_type": "application/json", "body": "null", "status": 400},
        {"name": "missing_field", "json": {"picture": good}, "status": 400},
        {"name": "field_number", "json": {"image": 7}, "status": 400},
        {"name": "field_list", "json": {"image": [1, 2, 3]}, "status": 400},
        {"name": "field_object", "json": {"image": {"data": good}}, "status": 400},
        {"name": "field_null", "json": {"image": None}, "status": 400},
        {"name": "field_bool", "json": {"image": True}, "status": 400},
        {"name": "not_a_data_url", "json": {"image": "/etc/passwd"}, "status": 400},
        {"name": "http_url", "json": {"image": "http://127.0.0.1/evil.png"}, "status": 400},
        {"name": "non_base64_data_url", "json": {"image": "data:image/png;base64,%%%not-base64%%%"}, "status": 400},
        {"name": "data_url_without_base64", "json": {"image": "data:image/png,rawbytes"}, "status": 400},
        {"name": "data_url_text_mime", "json": {"image": "data:text/plain;base64,aGVsbG8="}, "status": 415},
        {"name": "data_url_svg", "json": {"image": encode_data_url(b"<svg/>", "image/svg+xml")}, "status": 415},
        {"name": "data_url_empty", "json": {"image": "data:image/png;base64,"}, "status": 400},
        {"name": "oversized_json_body", "json": {"image": big}, "status": 413},
        {
            "name": "deeply_nested_json",
            "content_type": "application/json",
            "body": '{"image": ' + "[" * 100_000 + "]" * 100_000 + "}",
            "status": 400,
        },
        {"name": "oversized_upload", "upload": b"\x89PNG" + bytes(3 * 1024 * 1024), "status": 413},
        {"name": "content_type_text", "content_type": "text/plain", "body": good, "status": 415},
        {
            "name": "content_type_form",
            "content_type": "application/x-www-form-urlencoded",
            "body": "image=x",
            "status": 415,
        },
        {"name": "content_type_xml", "content_type": "application/xml", "body": "<image/>", "status": 415},
        {"name": "no_body", "content_type": None, "body": "", "status": 415},
        {"name": "multipart_without_image", "form": {"picture": "x"}, "status": 400},
        {"name": "multipart_empty_file", "upload": b"", "status": 400},
        {"name": "get_instead_of_post", "method": "GET", "status": 405},
        {"name": "put_instead_of_post", "method": "PUT", "json": {"image": good}, "status": 405},
    ]


def arrays() -> list[tuple[str, object, str, str]]:
    """In-process inputs (never over HTTP): (name, value, expectation, why)."""
    ok = np.zeros((28, 28), np.float32)
    ok[5:23, 12:16] = 1.0
    return [
        ("array_nan", np.full((28, 28), np.nan), "unsupported", "all NaN"),
        ("array_inf", np.where(ok > 0, np.inf, 0.0), "unsupported", "inf ink"),
        ("array_neg_inf", np.full((10, 10), -np.inf), "unsupported", "-inf"),
        ("array_complex", ok.astype(np.complex64), "unsupported", "complex numbers"),
        ("array_object", np.array([[object()]], dtype=object), "unsupported", "Python objects"),
        ("array_strings", np.array([["7"]]), "unsupported", "strings"),
        ("array_4d", np.zeros((1, 28, 28, 1)), "unsupported", "a batch, not an image"),
        ("array_two_channels", np.zeros((28, 28, 2)), "unsupported", "2 channels"),
        ("array_empty", np.zeros((0, 0)), "malformed", "no pixels"),
        ("array_1d", np.zeros(784), "unsupported", "a flat vector"),
        ("array_huge_values", ok.astype(np.float64) * 1e308, "any", "values near the float64 limit"),
        ("array_negative_ints", (ok * -5).astype(np.int32), "any", "negative integers"),
        ("array_bool", ok > 0, "any", "booleans"),
        ("array_too_large", np.zeros((5000, 5000), np.uint8), "too_large", "25 megapixels"),
        ("not_an_array_dict", {"image": "x"}, "unsupported", "a dict"),
        ("not_an_array_list", [[0, 1], [1, 0]], "unsupported", "a nested list"),
        ("not_an_array_none", None, "unsupported", "None"),
    ]


def write_if_changed(path: Path, content: bytes) -> bool:
    """Write ``content`` to ``path`` unless it already holds exactly that; whether it wrote."""
    if path.is_file() and path.read_bytes() == content:
        return False
    path.write_bytes(content)
    return True


def main() -> None:
    FILES.mkdir(exist_ok=True)
    entries, written = [], []
    for name, content, expect, why in files():
        if write_if_changed(FILES / name, content):
            written.append(name)
        entries.append({"file": name, "expect": expect, "why": why})
    made = {e["file"] for e in entries}
    removed = sorted(p.name for p in FILES.iterdir() if p.name not in made)
    for name in removed:
        (FILES / name).unlink()
    manifest = (json.dumps({"files": entries}, indent=1) + "\n").encode()
    if write_if_changed(HERE / "manifest.json", manifest):
        written.append("manifest.json")
    total = sum(p.stat().st_size for p in FILES.iterdir())
    print(f"{len(entries)} files ({total / 1024:.0f} KiB), {len(requests())} requests, {len(arrays())} arrays")
    print(f"rewritten: {', '.join(written) or 'nothing'}; removed: {', '.join(removed) or 'nothing'}")


if __name__ == "__main__":
    main()
