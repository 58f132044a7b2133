"""``python -m digitrec export --saved-model DIR``: a SavedModel TensorFlow Serving can serve unchanged.

The client side of such a deployment runs ``digitrec.preprocess`` and sends the 28x28 array; the
server's ``serving_default`` must answer what the apps' predictor answers.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from digitrec.predict import Predictor
from tests.harness.support import ROOT

pytestmark = pytest.mark.slow
IMAGES = 300


def export(out, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "digitrec", "export", "--saved-model", str(out), *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("serving") / "digitrec" / "1"  # TF Serving's layout: model name / version
    result = export(out)
    assert result.returncode == 0, result.stderr[-3000:]
    return out, result


@pytest.fixture(scope="module")
def mnist_batch(mnist):
    return (mnist.test.images[:IMAGES].astype(np.float32) / 255.0)[..., None]


def test_export_writes_a_versioned_saved_model_and_says_so(exported):
    out, result = exported
    assert (out / "saved_model.pb").is_file() and (out / "variables").is_dir()
    assert str(out) in result.stdout and "serving_default" in result.stdout


def test_signature_takes_framed_digits_and_gives_ten_probabilities(exported):
    import tensorflow as tf

    loaded = tf.saved_model.load(str(exported[0]))
    assert list(loaded.signatures) == ["serving_default"]
    sig = loaded.signatures["serving_default"]
    args, kwargs = sig.structured_input_signature
    assert args == () and list(kwargs) == ["digit"]
    spec = kwargs["digit"]
    assert spec.shape.as_list() == [None, 28, 28, 1] and spec.dtype == tf.float32
    assert list(sig.structured_outputs) == ["probabilities"]
    out = sig.structured_outputs["probabilities"]
    assert out.shape.as_list() == [None, 10] and out.dtype == tf.float32


def test_signature_is_a_serving_predict_method(exported):
    """TensorFlow Serving's REST ``:predict`` needs this method name on the signature."""
    from tensorflow.python.tools import saved_model_utils

    meta = saved_model_utils.get_meta_graph_def(str(exported[0]), "serve")
    assert meta.signature_def["serving_default"].method_name == "tensorflow/serving/predict"


def test_answers_equal_keras_and_the_numpy_engine(exported, mnist_batch, predictor, mnist):
    import keras
    import tensorflow as tf

    serve = tf.saved_model.load(str(exported[0])).signatures["serving_default"]
    served = serve(digit=tf.constant(mnist_batch))["probabilities"].numpy()
    model = keras.models.load_model(predictor.path, compile=False)
    by_keras = model.predict(mnist_batch, batch_size=100, verbose=0)
    by_numpy = Predictor.load(predictor.path, backend="numpy").probabilities(mnist_batch[..., 0])
    by_the_apps = predictor.probabilities(mnist_batch[..., 0])  # LiteRT, int8 weights: close, not equal
    assert served.shape == (IMAGES, 10)
    for other, tolerance in ((by_keras, 1e-4), (by_numpy, 1e-4), (by_the_apps, 0.05)):
        assert (served.argmax(axis=1) == other.argmax(axis=1)).all()
        assert np.abs(served - other).max() <= tolerance
    assert np.allclose(served.sum(axis=1), 1.0, atol=1e-5)
    assert (served.argmax(axis=1) == mnist.test.labels[:IMAGES]).mean() > 0.97  # and they are right


def test_a_preprocessed_drawing_gets_the_apps_answer(exported, predictor, make_drawing_png):
    """The documented split: the client preprocesses, the server only runs the network."""
    import tensorflow as tf

    from digitrec import preprocess

    serve = tf.saved_model.load(str(exported[0])).signatures["serving_default"]
    for digit in (0, 4, 9):
        png = make_drawing_png(digit, how="transparent")
        framed = preprocess(png)  # client side: any drawing -> the 28x28 array
        probs = serve(digit=tf.constant(framed[None, ..., None]))["probabilities"].numpy()[0]
        assert int(probs.argmax()) == digit == predictor.predict(png).digit


def test_the_documented_rest_request_fits_the_signature(exported, make_drawing_png):
    """docs/performance.md's TensorFlow Serving client: its JSON body, as the server turns it into a tensor."""
    import json

    import tensorflow as tf

    from digitrec import preprocess

    framed = preprocess(make_drawing_png(8))
    body = json.loads(json.dumps({"signature_name": "serving_default", "instances": [framed[..., None].tolist()]}))
    batch = np.asarray(body["instances"], dtype=np.float32)  # what the server builds from "instances"
    assert batch.shape == (1, 28, 28, 1)
    serve = tf.saved_model.load(str(exported[0])).signatures[body["signature_name"]]
    predictions = serve(digit=tf.constant(batch))["probabilities"].numpy().tolist()
    assert max(range(10), key=predictions[0].__getitem__) == 8


def test_a_sigmoid_model_exports_probabilities_that_sum_to_one(tmp_path, mnist_batch):
    """The seed architecture ends in a sigmoid: the predictor normalises its outputs, so must the export."""
    import tensorflow as tf

    from digitrec import Predictor
    from digitrec.training.model import build_model

    model_file = tmp_path / "seed.keras"
    build_model("seed").save(model_file)  # untrained weights are enough: only the output's shape matters
    out = tmp_path / "seed" / "1"
    result = export(out, "--model", str(model_file))
    assert result.returncode == 0, result.stderr[-3000:]
    serve = tf.saved_model.load(str(out)).signatures["serving_default"]
    served = serve(digit=tf.constant(mnist_batch[:20]))["probabilities"].numpy()
    expected = Predictor.load(model_file).probabilities(mnist_batch[:20, ..., 0])
    assert np.abs(served - expected).max() <= 1e-4
