"""Hostile and broken input: the committed corpus through every door, and property-based fuzzing.

Each corpus entry goes through ``digitrec.preprocess``, ``Predictor.predict``, ``POST /api/predict``
(as an upload and as a data URL) and the Gradio predict function, and must get the same, clear
outcome: an ``InvalidImage`` of the expected kind (HTTP 400 / 413 / 415), a blank canvas, or the
right digit — never a crash, and never a 5xx.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from digitrec import InvalidImage, preprocess
from digitrec.imageio import MAX_PIXELS, MAX_SIDE, encode_data_url
from tests.corpus.make_corpus import arrays, requests

CORPUS = Path(__file__).resolve().parent / "corpus"
MANIFEST = json.loads((CORPUS / "manifest.json").read_text())["files"]
STATUS = {"malformed": 400, "too_large": 413, "unsupported": 415}


def outcome(fn, value) -> str:
    """What happened: the InvalidImage kind, 'blank', or 'digit:N'."""
    try:
        result = fn(value)
    except InvalidImage as exc:
        return exc.kind
    if result is None or getattr(result, "digit", 0) is None:
        return "blank"
    if isinstance(result, np.ndarray):
        assert result.shape == (28, 28) and result.dtype == np.float32
        assert result.min() >= 0.0 and result.max() <= 1.0
        return "framed"
    return f"digit:{result.digit}"


def matches(got: str, expect: str) -> bool:
    if expect == "any":
        return got == "blank" or got.startswith(("digit:", "framed"))
    if expect.startswith("digit:") and got == "framed":
        return True  # preprocess alone cannot say which digit
    return got == expect


def test_the_corpus_is_large_and_described():
    assert len(MANIFEST) + len(requests()) + len(arrays()) >= 40
    assert MANIFEST and requests() and arrays()  # each door is tested: an empty manifest made the next line vacuous
    assert all((CORPUS / "files" / e["file"]).is_file() and e["why"] for e in MANIFEST)


@pytest.mark.parametrize("entry", [e for e in MANIFEST if e["expect"] == "too_large"], ids=lambda e: e["file"])
def test_too_large_files_are_refused_with_the_documented_limit(entry):
    """README states the limit (pixels, per side); Pillow's own bomb limit must never be the answer."""
    with pytest.raises(InvalidImage) as info:
        preprocess(Path(CORPUS / "files" / entry["file"]))
    assert f"the limit is {MAX_PIXELS:,} pixels and {MAX_SIDE} per side" in str(info.value), str(info.value)


@pytest.mark.parametrize("entry", MANIFEST, ids=lambda e: e["file"])
def test_corpus_file_through_every_door(entry, predictor, client):
    content = (CORPUS / "files" / entry["file"]).read_bytes()
    expect = entry["expect"]
    assert matches(outcome(preprocess, content), expect)
    assert matches(outcome(predictor.predict, content), expect)
    assert matches(outcome(preprocess, Path(CORPUS / "files" / entry["file"])), expect)

    upload = client.post(
        "/api/predict", data={"image": (io.BytesIO(content), entry["file"])}, content_type="multipart/form-data"
    )
    as_url = client.post("/api/predict", json={"image": encode_data_url(content)})
    for response in (upload, as_url):
        assert response.is_json, response.data[:200]
        if expect in STATUS:
            # A zero-byte upload is refused by the API itself; as a data URL it is an empty image.
            assert response.status_code == STATUS[expect], response.get_json()
            assert response.get_json()["error"]
        else:
            assert response.status_code == 200, response.get_json()
            body = response.get_json()
            assert math.isclose(sum(body["probabilities"]), 1.0, abs_tol=1e-4)
            if expect.startswith("digit:"):
                assert body["digit"] == int(expect.split(":")[1])
            elif expect == "blank":
                assert body["digit"] is None


@pytest.mark.parametrize("entry", MANIFEST, ids=lambda e: e["file"])
def test_corpus_file_through_the_gradio_predict_function(entry):
    import gradio as gr

    import gradio_app

    content = (CORPUS / "files" / entry["file"]).read_bytes()
    expect = entry["expect"]
    try:
        label, seen = gradio_app.predict({"background": None, "layers": [], "composite": content})
    except gr.Error as exc:
        assert expect in STATUS and str(exc), entry
        return
    assert expect not in STATUS, entry
    if expect == "blank":
        assert label == gradio_app.BLANK and seen is None
    elif expect.startswith("digit:"):
        assert max(label, key=label.get) == expect.split(":")[1]


@pytest.mark.parametrize("name, value, expect, why", arrays(), ids=lambda v: v if isinstance(v, str) else "")
def test_corpus_arrays(name, value, expect, why, predictor):
    assert matches(outcome(preprocess, value), expect), why
    assert matches(outcome(predictor.predict, value), expect), why


@pytest.mark.parametrize("spec", requests(), ids=lambda r: r["name"])
def test_corpus_requests(spec, client):
    method = spec.get("method", "POST")
    if "json" in spec:
        response = client.open("/api/predict", method=method, json=spec["json"])
    elif "upload" in spec:
        response = client.open(
            "/api/predict",
            method=method,
            content_type="multipart/form-data",
            data={"image": (io.BytesIO(spec["upload"]), "x.png")},
        )
    elif "form" in spec:
        response = client.open("/api/predict", method=method, data=spec["form"], content_type="multipart/form-data")
    else:
        headers = {"Content-Type": spec["content_type"]} if spec.get("content_type") else {}
        response = client.open("/api/predict", method=method, data=spec.get("body", ""), headers=headers)
    assert response.status_code == spec["status"], response.data[:300]
    assert response.is_json and response.get_json()["error"]


# --- property-based fuzzing -------------------------------------------------------------------------

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

any_array = hnp.arrays(
    dtype=st.one_of(hnp.integer_dtypes(), hnp.unsigned_integer_dtypes(), hnp.floating_dtypes(), hnp.boolean_dtypes()),
    shape=st.one_of(
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=0, max_side=64),
        st.tuples(st.integers(0, 40), st.integers(0, 40), st.sampled_from([1, 2, 3, 4])),
        hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=8),
    ),
)


def check_preprocess(value) -> None:
    try:
        out = preprocess(value)
    except InvalidImage:
        return
    if out is not None:
        assert out.shape == (28, 28) and out.dtype == np.float32
        assert np.isfinite(out).all() and out.min() >= 0.0 and out.max() <= 1.0


@FUZZ
@given(any_array)
def test_fuzz_preprocess_arrays(value):
    check_preprocess(value)


@FUZZ
@given(st.binary(max_size=2048))
def test_fuzz_preprocess_bytes(value):
    check_preprocess(value)


@FUZZ
@given(st.text(max_size=300).map(lambda s: "data:image/png;base64," + s))
def test_fuzz_preprocess_data_urls(value):
    check_preprocess(value)


def png_prefix_mutations():
    """Real PNG bytes with random bytes flipped: deeper into the decoder than random noise gets."""
    from digitrec.data.canvases import pen_digit, to_png

    png = to_png(pen_digit(5, np.random.default_rng(0), "dark_on_light"))
    return st.lists(st.tuples(st.integers(0, len(png) - 1), st.integers(0, 255)), max_size=8).map(
        lambda edits: _apply(png, edits)
    )


def _apply(data: bytes, edits) -> bytes:
    out = bytearray(data)
    for i, b in edits:
        out[i] = b
    return bytes(out)


@FUZZ
@given(png_prefix_mutations())
def test_fuzz_mutated_pngs(value):
    check_preprocess(value)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=10,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(
    body=st.one_of(
        json_values,
        st.fixed_dictionaries({"image": json_values}),
        st.fixed_dictionaries({"image": st.text(max_size=200).map(lambda s: "data:image/png;base64," + s)}),
    )
)
def test_fuzz_api_json(client, body):
    response = client.post("/api/predict", json=body)
    assert response.status_code in (200, 400, 413, 415), response.data[:300]
    answer = response.get_json()
    if response.status_code == 200:
        assert math.isclose(sum(answer["probabilities"]), 1.0, abs_tol=1e-4)
    else:
        assert answer["error"]


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(
    payload=st.binary(max_size=4096),
    content_type=st.sampled_from(
        ["application/json", "text/plain", "application/octet-stream", "image/png", "multipart/form-data", ""]
    ),
)
def test_fuzz_api_raw_bodies(client, payload, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/api/predict", data=payload, headers=headers)
    assert response.status_code in (200, 400, 413, 415), response.data[:300]
    assert response.is_json


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(payload=st.binary(max_size=4096))
def test_fuzz_api_uploads(client, payload):
    response = client.post(
        "/api/predict", data={"image": (io.BytesIO(payload), "f.png")}, content_type="multipart/form-data"
    )
    assert response.status_code in (200, 400, 413, 415), response.data[:300]
    if response.status_code == 200:
        assert math.isclose(sum(response.get_json()["probabilities"]), 1.0, abs_tol=1e-4)
