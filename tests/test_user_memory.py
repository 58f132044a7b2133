"""Issue 21: each front end reads a user's drawings with that user's saved ones (``Feedback.memory``), so a
correction changes the next similar answer at once, for that user alone; forgetting them undoes it."""

from __future__ import annotations

import io
import logging

import numpy as np
import pytest
from PIL import Image

from digitrec.data.canvases import pen_digit, to_png
from digitrec.feedback import Feedback
from digitrec.imageio import encode_data_url
from digitrec.memory import Memories
from digitrec.store import StoreError
from flask_app import create_app
from tests.test_memory import sevenish

SAVED, LIKE_IT = 0.4, 0.45  # the 7-ish drawing corrected as a 1, and one like it (test_memory.py)


def test_a_saved_correction_helps_its_user_at_once(predictor, tmp_path):
    fb = Feedback(predictor, "cli", db=tmp_path / "d.sqlite3")
    assert fb.memory("ana") is None  # nothing saved: the network alone
    assert predictor.predict(sevenish(LIKE_IT)).digit == 7
    fb.save(pen_digit(3, np.random.default_rng(3), "dark_on_light"), 3, "ana")
    assert len(fb.memory("ana")) == 1  # kept: the next save must add to it
    saved = fb.save(sevenish(SAVED), 1, "ana")
    assert saved.correction and saved.predicted == 7
    assert len(fb.memory("ana")) == 2
    assert predictor.predict(sevenish(LIKE_IT), memory=fb.memory(" ana ")).digit == 1
    for other in ("bo", None, ""):
        assert fb.memory(other) is None
    # Another Feedback on the same store builds the same memory from it.
    fresh = Feedback(predictor, "cli", db=tmp_path / "d.sqlite3")
    assert predictor.predict(sevenish(LIKE_IT), memory=fresh.memory("ana")).digit == 1
    fb.forget("ana")
    assert fb.memory("ana") is None
    assert predictor.predict(sevenish(LIKE_IT), memory=fb.memory("ana")).digit == 7


def test_right_confirms_the_answer_the_user_was_shown(predictor, tmp_path):
    fb = Feedback(predictor, "cli", db=tmp_path / "d.sqlite3")
    fb.save(sevenish(SAVED), 1, "ana")
    saved = fb.right(sevenish(LIKE_IT), "ana")  # shown a 1, with ana's memory
    assert (saved.label, saved.predicted) == (1, 1)


def test_no_memory_with_saving_off_or_an_unreadable_store(predictor, tmp_path, caplog):
    assert Feedback(predictor, "cli", db=tmp_path / "d.sqlite3", allowed=False).memory("ana") is None
    fb = Feedback(predictor, "cli", db=tmp_path / "d.sqlite3")

    def broken(user):
        raise StoreError("the database is locked")
        yield

    fb.memories.drawings = broken
    with caplog.at_level(logging.WARNING, "digitrec.feedback"):
        assert fb.memory("ana") is None
    assert "the database is locked" in caplog.text


def test_memories_keep_the_most_recent_users(predictor):
    asked = []

    def drawings(user):
        asked.append(user)
        return [type("D", (), {"png": to_png(sevenish(SAVED)), "label": 1})]

    memories = Memories(predictor, drawings, size=2)
    for user in ("a", "b", "a", "c", "a", "b"):
        assert len(memories.get(user)) == 1
    assert asked == ["a", "b", "c", "b"]  # b was the least recent when c came
    memories.add("a", to_png(sevenish(LIKE_IT)), 1)
    assert len(memories.get("a")) == 2
    memories.drop("a")
    assert len(memories.get("a")) == 1 and asked[-1] == "a"


# --- Flask ---------------------------------------------------------------------------------------


@pytest.fixture
def client(predictor, tmp_path):
    app = create_app(
        {"TESTING": True, "DRAWINGS_DB": str(tmp_path / "f.sqlite3"), "ALLOW_SAVING": True}, predictor=predictor
    )
    return app.test_client()


def data_url(share: float) -> str:
    return encode_data_url(to_png(sevenish(share)))


def test_flask_reads_with_the_users_saved_drawings(client):
    def digit(**user):
        response = client.post("/api/predict", json={"image": data_url(LIKE_IT), **user})
        assert response.status_code == 200
        return response.get_json()["digit"]

    assert digit(user="ana") == 7
    response = client.post("/api/drawings", json={"image": data_url(SAVED), "label": 1, "user": "ana"})
    assert response.status_code == 201 and response.get_json()["digit"] == 7
    assert digit(user="ana") == 1
    assert digit() == 7 and digit(user="bo") == 7 and digit(user="") == 7
    # multipart: the form field, as POST /api/drawings takes it
    upload = {"image": (io.BytesIO(to_png(sevenish(LIKE_IT))), "d.png"), "user": "ana"}
    form = client.post("/api/predict", data=upload, content_type="multipart/form-data")
    assert form.get_json()["digit"] == 1
    number = np.hstack([pen_digit(2, np.random.default_rng(62), "dark_on_light"), sevenish(LIKE_IT)])
    for user, text in (("ana", "21"), (None, "27")):
        body = {"image": encode_data_url(to_png(number))} | ({"user": user} if user else {})
        assert client.post("/api/read_number", json=body).get_json()["text"] == text
    assert client.post("/api/predict", json={"image": data_url(LIKE_IT), "user": "x" * 65}).status_code == 400
    assert client.delete("/api/drawings?user=ana").get_json()["deleted"] == 1
    assert digit(user="ana") == 7


def test_flask_without_saving_reads_with_the_network_alone(predictor, tmp_path):
    app = create_app(
        {"TESTING": True, "DRAWINGS_DB": str(tmp_path / "f.sqlite3"), "ALLOW_SAVING": False}, predictor=predictor
    )
    Feedback(predictor, "cli", db=tmp_path / "f.sqlite3").save(sevenish(SAVED), 1, "ana")
    response = app.test_client().post("/api/predict", json={"image": data_url(LIKE_IT), "user": "ana"})
    assert response.get_json()["digit"] == 7


# --- Gradio --------------------------------------------------------------------------------------


def test_gradio_reads_with_the_name_typed(tmp_path, monkeypatch):
    import gradio_app

    monkeypatch.setitem(gradio_app.settings, "db", str(tmp_path / "g.sqlite3"))
    gradio_app.feedback.cache_clear()

    def upload(share: float) -> dict:
        path = tmp_path / f"{share}.png"
        Image.fromarray(sevenish(share)).save(path)
        return {"background": None, "layers": [], "composite": {"path": str(path)}}

    def top(answer) -> int:
        return int(max(answer[0], key=answer[0].get))

    try:
        assert top(gradio_app.predict_upload(upload(LIKE_IT), "ana")) == 7
        assert gradio_app.save(upload(SAVED), "ana", label=1).startswith("Saved as a 1 (a correction).")
        assert top(gradio_app.predict_upload(upload(LIKE_IT), " ana ")) == 1
        assert top(gradio_app.predict_upload(upload(LIKE_IT), "bo")) == 7
        assert top(gradio_app.predict_upload(upload(LIKE_IT))) == 7
        assert gradio_app.forget("ana").startswith("Forgot ana")
        assert top(gradio_app.predict_upload(upload(LIKE_IT), "ana")) == 7
    finally:
        gradio_app.feedback.cache_clear()
