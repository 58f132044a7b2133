"""The network's last hidden layer (``Predictor.features``) and the per-user memory (``digitrec.memory``):
a saved correction changes the next similar answer at once, and nothing else."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from digitrec import ModelError, Predictor, card
from digitrec.data.canvases import pen_digit, to_png
from digitrec.memory import Memory
from digitrec.paths import DEFAULT_MODEL
from digitrec.preprocess import preprocess


def framed_digits(n: int = 20) -> np.ndarray:
    return np.stack([preprocess(pen_digit(i % 10, np.random.default_rng(i), "dark_on_light")) for i in range(n)])


def same(a: list, b: list) -> bool:
    """The same answers, probabilities and framed images (``Prediction`` holds an array: no ``==``)."""
    key = lambda p: (p.digit, p.probabilities, p.confidence, p.model_input.tobytes())  # noqa: E731
    return [key(p) for p in a] == [key(p) for p in b]


@pytest.mark.parametrize("backend", ["litert", "numpy"])
def test_features_are_the_input_of_the_final_layer(backend):
    predictor = Predictor.load(backend=backend)
    x = framed_digits()
    features = predictor.features(x)
    assert features.shape == (20, 256) and features.dtype == np.float32 and (features >= 0).all()  # wide: dense 256
    # The card's temperature is folded into the last Dense layer: the head gives the answers as they are
    # (to float rounding; to 1e-3 against the LiteRT file's int8 weights: 1.2e-4 at most here).
    tolerance = 1e-3 if predictor.backend == "litert" else 1e-5
    np.testing.assert_allclose(predictor._features.head(features), predictor.probabilities(x), atol=tolerance)
    np.testing.assert_allclose(features, Predictor.load(backend="numpy").features(x), rtol=1e-5, atol=1e-5)


def test_features_are_read_once_and_only_when_asked():
    predictor = Predictor.load(backend="litert")
    predictor.predict(framed_digits(1)[0])
    assert predictor._features is None  # no memory: the NumPy engine is never loaded
    predictor.features(framed_digits(1))
    net = predictor._features
    predictor.features(framed_digits(2))
    assert predictor._features is net


def test_features_of_a_file_changed_since_loading_are_refused(tmp_path):
    for path in (DEFAULT_MODEL, card.card_path(DEFAULT_MODEL), DEFAULT_MODEL.with_suffix(".tflite")):
        shutil.copy(path, tmp_path / path.name)
    model = tmp_path / DEFAULT_MODEL.name
    predictor = Predictor.load(model, backend="litert")
    model.write_bytes(model.read_bytes() + b"\0")
    with pytest.raises(ModelError, match="changed since it was loaded"):
        predictor.features(framed_digits(1))


def test_without_a_memory_nothing_changes(predictor):
    pngs = [to_png(pen_digit(d, np.random.default_rng(50 + d), "dark_on_light")) for d in range(10)]
    empty = Memory.from_drawings(predictor, [])
    assert len(empty) == 0
    plain = predictor.predict_batch(pngs)
    for memory in (None, empty):
        assert same(predictor.predict_batch(pngs, memory=memory), plain)
        assert same([predictor.predict(pngs[3], memory=memory)], plain[3:4])
        number = np.hstack([pen_digit(d, np.random.default_rng(d), "dark_on_light") for d in (2, 0, 2, 6)])
        reading, again = predictor.read_number(number), predictor.read_number(number, memory=memory)
        assert reading.text == again.text == "2026" and same(
            [d.prediction for d in again.digits], [d.prediction for d in reading.digits]
        )
    x = framed_digits()
    p = predictor.probabilities(x)
    assert empty.blend(p, predictor.features(x)) is p


def sevenish(share: float) -> np.ndarray:
    """A 7 and a 1 drawn over each other, the 7's ink ``share`` as dark: the network is unsure."""
    seven = pen_digit(7, np.random.default_rng(2), "dark_on_light").astype(np.float32)
    one = pen_digit(1, np.random.default_rng(102), "dark_on_light").astype(np.float32)
    return (share * seven + (1 - share) * one).astype(np.uint8)


def test_a_saved_correction_changes_the_next_similar_answer(predictor):
    saved = type("Saved", (), {"png": to_png(sevenish(0.4)), "label": 1})  # read 7; the user said 1
    assert predictor.predict(saved.png).digit == 7
    memory = Memory.from_drawings(predictor, [saved])
    for drawing in (sevenish(0.4), sevenish(0.45)):  # the same drawing, and one like it
        assert predictor.predict(drawing).digit == 7
        again = predictor.predict(drawing, memory=memory)
        assert again.digit == 1 and sum(again.probabilities) == pytest.approx(1.0, abs=1e-5)
    # The network's confident answers stand, and drawings unlike it keep their answer exactly.
    others = [pen_digit(d, np.random.default_rng(60 + d), "dark_on_light") for d in range(10)]
    mine = predictor.predict_batch(others, memory=memory)
    assert [p.digit for p in mine] == list(range(10))
    far = memory.votes(predictor.features(np.stack([p.model_input for p in mine]))).sum(axis=1) == 0
    assert far.any()
    plain = predictor.predict_batch(others)
    assert same([mine[i] for i in np.flatnonzero(far)], [plain[i] for i in np.flatnonzero(far)])
    # In a number, each digit is read with the memory; where the number is cut does not change.
    number = np.hstack([others[2], sevenish(0.4), others[4]])
    plain, read = predictor.read_number(number), predictor.read_number(number, memory=memory)
    assert plain.text == "274" and read.text == "214"
    assert [d.box for d in read.digits] == [d.box for d in plain.digits]


def test_memory_settings_and_bad_input():
    features = np.eye(3, 8, dtype=np.float32)
    memory = Memory.from_features(features * 5, [1, 1, 2], k=2, weight=0.4, threshold=0.9, temperature=1.0)
    np.testing.assert_allclose(np.linalg.norm(memory.features, axis=1), 1.0)
    p = np.full((3, 10), 0.1, np.float32)
    queries = np.stack([features[0] + features[1], np.eye(1, 8, 7)[0], features[0] + 0.01]).astype(np.float32)
    out = memory.blend(p, queries)
    assert out[0].tolist() == p[0].tolist()  # cosine 0.71 to both saved 1s: under the threshold, untouched
    assert out[1].tolist() == p[1].tolist()  # like nothing saved (cosine 0)
    assert out[2].argmax() == 1 and out[2][1] == pytest.approx(0.6 * 0.1 + 0.4, abs=1e-4)  # one vote: a 1
    assert out.sum(axis=1) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        Memory.from_features(features, [1, 2])
    with pytest.raises(ValueError):
        Memory.from_features(features, [1, 2, 10])


def test_the_memory_removes_a_real_writers_errors_and_leaves_other_writers_alone(predictor, handwriting):
    """benchmarks/memory_gain.py at its smallest: tra:20 (one of the test writers the model reads worst),
    3 saved drawings per digit, the first pick."""
    from benchmarks.finetune import writer_halves
    from benchmarks.memory_gain import outcome, saved, unseen_of

    halves = writer_halves(handwriting["test"])
    memory = Memory.from_drawings(predictor, saved(halves["tra:20"]["pool"], 3, 0))
    assert len(memory) == 30
    mine = outcome(unseen_of(predictor, halves["tra:20"]["unseen"][::2]), memory)
    assert mine["errors_before"] >= 5 and mine["errors_after"] <= mine["errors_before"] / 2, mine

    other = unseen_of(predictor, halves["tra:10"]["unseen"][::2])
    far = memory.votes(other.features).sum(axis=1) == 0  # no saved drawing is similar enough
    assert far.any()
    blended = memory.blend(other.probabilities, other.features)
    assert (blended[far] == other.probabilities[far]).all()
    assert outcome(other, memory)["errors_after"] <= outcome(other, memory)["errors_before"]
