"""digitrec.Predictor: loading, the fast path, answers on drawings, and clear errors."""

from __future__ import annotations

import json
import shutil
import threading
import zipfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from digitrec import InvalidImage, ModelError, Prediction, Predictor
from digitrec.data.canvases import mnist_digit, pen_digit
from digitrec.data.strokes import LOOKS
from digitrec.paths import DEFAULT_MODEL
from digitrec.present import to_dict


def test_committed_model_loads_on_the_litert_fast_path(predictor):
    assert predictor.path == DEFAULT_MODEL
    assert predictor.backend == "litert"
    assert predictor.card and predictor.card["architecture"] == "wide"
    assert predictor.card["tflite"]["source_sha256"] == predictor.card["sha256"]


def test_prediction_fields(predictor, make_drawing_png):
    result = predictor.predict(make_drawing_png(3))
    assert isinstance(result, Prediction)
    assert result.digit == 3 and not result.blank
    assert len(result.probabilities) == 10 and sum(result.probabilities) == pytest.approx(1.0, abs=1e-5)
    assert result.confidence == max(result.probabilities) and 0.5 < result.confidence <= 1.0
    assert result.model_input.shape == (28, 28)
    assert result.top(3)[0] == (3, result.confidence) and len(result.top(3)) == 3
    d = to_dict(result)
    assert d["digit"] == 3 and len(d["probabilities"]) == 10 and json.dumps(d)


def test_model_image_is_the_model_input_enlarged_with_square_pixels(predictor, make_drawing_png):
    result = predictor.predict(make_drawing_png(5))
    small = result.model_image()
    assert small.shape == (28, 28) and small.dtype == np.uint8 and small.max() == 255
    assert np.abs(small.astype(float) - result.model_input * 255).max() <= 0.5
    big = result.model_image(8)
    assert big.shape == (224, 224) and big.dtype == np.uint8
    np.testing.assert_array_equal(big[::8, ::8], small)
    assert (big == small.repeat(8, axis=0).repeat(8, axis=1)).all()
    with pytest.raises(ValueError):
        result.model_image(0)


def test_blank_canvas(predictor):
    result = predictor.predict(np.full((280, 280, 3), 255, np.uint8))
    assert result.blank and result.digit is None and result.confidence == 0.0
    assert sum(result.probabilities) == pytest.approx(1.0) and result.top() == []
    assert to_dict(result)["digit"] is None


def test_pen_drawings_in_every_look_are_read(predictor):
    rng = np.random.default_rng(11)
    images, labels = [], []
    for i in range(200):
        images.append(pen_digit(i % 10, rng, LOOKS[i % len(LOOKS)], scale=(0.3, 0.9), centred=False))
        labels.append(i % 10)
    digits = [p.digit for p in predictor.predict_batch(images)]
    accuracy = np.mean(np.array(digits) == np.array(labels))
    assert accuracy >= 0.95, f"pen drawings: {accuracy:.1%}"


def test_mnist_digits_pasted_on_canvases_lose_nothing(predictor, mnist):
    rng = np.random.default_rng(5)
    n = 600
    images = [mnist_digit(mnist.test.images[i], rng, LOOKS[i % len(LOOKS)]) for i in range(n)]
    digits = np.array([p.digit for p in predictor.predict_batch(images)])
    assert (digits == mnist.test.labels[:n]).mean() >= 0.99


def test_predict_batch_equals_predict(predictor, make_drawing_png):
    images = [make_drawing_png(d, seed=7) for d in range(10)] + [np.zeros((50, 50))]
    batch = predictor.predict_batch(images)
    for image, b in zip(images, batch, strict=False):
        one = predictor.predict(image)
        assert one.digit == b.digit
        np.testing.assert_allclose(one.probabilities, b.probabilities, atol=1e-6)
    assert batch[-1].blank


def test_invalid_input_raises_invalid_image(predictor):
    with pytest.raises(InvalidImage):
        predictor.predict(b"not an image")


@pytest.mark.parametrize("backend", ["litert", "numpy"])
def test_fast_paths_equal_keras(backend, mnist):
    """LiteRT, the NumPy engine and Keras agree on a few hundred real inputs: the same answers, and
    the same probabilities to float rounding, or to 0.05 where the LiteRT file holds int8 weights
    (dynamic-range quantization: 0.012 at most on these digits, 0.022 on all 10,000; 4e-5 on average)."""
    keras_predictor = Predictor.load(backend="keras")
    assert keras_predictor.backend == "keras"
    fast_predictor = Predictor.load(backend=backend)
    assert fast_predictor.backend == backend
    rng = np.random.default_rng(0)
    x = mnist.test.images[rng.choice(len(mnist.test.images), 300, replace=False)].astype(np.float32) / 255
    fast, reference = fast_predictor.probabilities(x), keras_predictor.probabilities(x)
    assert (fast.argmax(1) == reference.argmax(1)).all()
    int8 = backend == "litert" and (fast_predictor.card or {}).get("tflite", {}).get("weights", "").startswith("int8")
    np.testing.assert_allclose(fast, reference, atol=0.05 if int8 else 1e-4)
    if int8:
        assert np.abs(fast - reference).mean() < 1e-3


def test_threads_share_one_predictor(predictor, make_drawing_png):
    images = [make_drawing_png(d, seed=21) for d in range(8)]
    alone = [predictor.predict(img) for img in images]
    barrier = threading.Barrier(8)

    def work(i):
        barrier.wait()
        return [predictor.predict(images[i]) for _ in range(20)]

    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(work, range(8)))
    for i, results in enumerate(together):
        for r in results:
            assert r.digit == alone[i].digit
            assert r.probabilities == alone[i].probabilities


# --- model files that are not right ---------------------------------------------------------------


def test_missing_model_says_how_to_train_one(tmp_path):
    with pytest.raises(ModelError, match=r"no model at .*python -m digitrec train"):
        Predictor.load(tmp_path / "nope.keras")


def test_env_var_chooses_the_model(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITREC_MODEL", str(tmp_path / "other.keras"))
    with pytest.raises(ModelError, match="other.keras"):
        Predictor.load()


@pytest.mark.parametrize("content", [b"", b"garbage" * 100, b"PK\x03\x04broken zip"])
def test_corrupt_model_file(tmp_path, content):
    path = tmp_path / "broken.keras"
    path.write_bytes(content)
    with pytest.raises(ModelError, match=r"broken\.keras.*python -m digitrec train"):
        Predictor.load(path)


def test_truncated_model_file(tmp_path):
    path = tmp_path / "cut.keras"
    path.write_bytes(DEFAULT_MODEL.read_bytes()[:5000])
    with pytest.raises(ModelError, match="cut.keras"):
        Predictor.load(path)


def test_checksum_mismatch_is_refused_unless_overridden(tmp_path, monkeypatch):
    model = tmp_path / "digit_recognizer.keras"
    shutil.copy(DEFAULT_MODEL, model)
    card = json.loads(DEFAULT_MODEL.with_suffix(".json").read_text())
    card["sha256"] = "0" * 64
    model.with_suffix(".json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match=r"SHA-256.*verify=False.*DIGITREC_VERIFY_MODEL=0.*--no-verify") as exc:
        Predictor.load(model)
    assert "\n" not in str(exc.value)
    assert Predictor.load(model, verify=False).backend == "numpy"
    monkeypatch.setenv("DIGITREC_VERIFY_MODEL", "0")
    assert Predictor.load(model).backend == "numpy"


def test_a_tflite_not_made_from_this_model_is_never_run(tmp_path):
    model = tmp_path / "digit_recognizer.keras"
    shutil.copy(DEFAULT_MODEL, model)
    shutil.copy(DEFAULT_MODEL.with_suffix(".json"), model.with_suffix(".json"))
    model.with_suffix(".tflite").write_bytes(DEFAULT_MODEL.with_suffix(".tflite").read_bytes()[:-1] + b"x")
    assert Predictor.load(model).backend == "numpy"
    with pytest.raises(ModelError, match=r"digit_recognizer\.tflite was not made from this digit_recognizer\.keras"):
        Predictor.load(model, backend="litert")
    model.with_suffix(".tflite").unlink()
    with pytest.raises(ModelError, match=r"digit_recognizer\.tflite is missing.*export --tflite"):
        Predictor.load(model, backend="litert")


def test_without_the_litert_package_the_numpy_engine_runs(monkeypatch):
    from digitrec.engines import litert

    monkeypatch.setattr(litert, "available", lambda: False)
    assert Predictor.load().backend == "numpy"
    with pytest.raises(ModelError, match="ai-edge-litert"):
        Predictor.load(backend="litert")


def test_wrong_input_shape_is_refused(tmp_path):
    keras = pytest.importorskip("keras")
    model = keras.Sequential(
        [keras.Input((32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")]
    )
    path = tmp_path / "cifar.keras"
    model.save(path)
    with pytest.raises(ModelError, match=r"expects input \(32, 32, 3\).*not a digit model"):
        Predictor.load(path)


def test_unsupported_layers_fall_back_to_keras(tmp_path):
    keras = pytest.importorskip("keras")
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(4, 3, strides=2)(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x))
    path = tmp_path / "other.keras"
    model.save(path)
    loaded = Predictor.load(path)
    assert loaded.backend == "keras"
    assert loaded.predict(np.eye(28)).digit in range(10)


def test_zip_without_weights(tmp_path):
    path = tmp_path / "noweights.keras"
    with zipfile.ZipFile(DEFAULT_MODEL) as src, zipfile.ZipFile(path, "w") as dst:
        dst.writestr("config.json", src.read("config.json"))
    with pytest.raises(ModelError, match="noweights.keras"):
        Predictor.load(path)
