"""Learn my handwriting: the bounded queue of worker processes, a killed or failing worker, personal models
answering their user alone, outdated ones, "Forget me", the Flask API, Gradio's button and Pygame's L key;
and one real round trip through a real server and a real fine-tune."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pygame
import pytest

import gradio_app
import pygame_frontend as front
from digitrec import card
from digitrec.data.canvases import pen_digit, to_png
from digitrec.feedback import Feedback
from digitrec.learning import OUTDATED, AlreadyLearning, Learner, QueueFull, TooFewDrawings, personal_dir
from digitrec.memory import Memory
from digitrec.paths import DEFAULT_MODEL
from digitrec.store import Store
from digitrec.store.personal import personal_info, personal_model, save_personal
from flask_app import create_app
from tests.harness.support import ROOT, press, run_cli, serve_flask

# A stand-in for `python -m digitrec learn --json`: its progress, then what argv[1] says.
FAKE_WORKER = """
import json, sys, time
print(json.dumps({"percent": 10, "phase": "fine-tuning"}), flush=True)
mode = sys.argv[1]
if mode == "sleep":
    time.sleep(120)
elif mode == "error":
    print(json.dumps({"error": "no MNIST here: set DIGITREC_MNIST_DIR"}), flush=True)
    sys.exit(2)
elif mode == "crash":
    sys.stderr.write("Traceback (most recent call last):\\nMemoryError: out of memory\\n")
    sys.exit(1)
else:
    done = {"before": {"saved": 0.5, "mnist_test": 0.995}, "after": {"saved": 0.9, "mnist_test": 0.994}}
    print(json.dumps({"done": {**done, "figure": "2-fold cross-validation"}}), flush=True)
"""


def fake(mode: str):
    return lambda user, model: [sys.executable, "-c", FAKE_WORKER, mode]


def png(digit: int, seed: int) -> bytes:
    return to_png(pen_digit(digit, np.random.default_rng(seed), "dark_on_light"))


@pytest.fixture
def db(tmp_path) -> str:
    """A store where ana, cy and dee saved 12 drawings each (every digit, two twice) and bo 3."""
    path = str(tmp_path / "d.sqlite3")
    with Store.open(path) as s:
        for user, n, seed in (("ana", 12, 0), ("cy", 12, 100), ("dee", 12, 200), ("bo", 3, 300)):
            for i in range(n):
                s.save(png(i % 10, seed + i), i % 10, user=user, source="cli")
    return path


def shipped_as_personal(db: str, user: str, base_sha256: str | None = None) -> str:
    """The shipped model saved as ``user``'s personal model (a stand-in for an earlier Learn); its id."""
    flat = DEFAULT_MODEL.with_suffix(".tflite")
    with Store.open(db) as s:
        info = save_personal(
            s,
            user,
            DEFAULT_MODEL.read_bytes(),
            flat.read_bytes(),
            card.read(DEFAULT_MODEL),
            base_sha256 or card.sha256(DEFAULT_MODEL),
        )
    return info.model_id


def wait(ready, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = ready()
        if found:
            return found
        time.sleep(0.05)
    raise TimeoutError("not ready in time")


# --- the queue -------------------------------------------------------------------------------------


def test_too_few_drawings_are_refused_saying_how_many_more(predictor, db):
    learner = Learner(predictor.path, lambda: Store.open(db), command=fake("done"))
    with pytest.raises(TooFewDrawings, match="at least 10 saved drawings; bo has 3: .* on 7 more"):
        learner.submit("bo")
    assert learner.status("bo") is None


def test_the_queue_is_bounded_one_job_per_user(predictor, db):
    learner = Learner(predictor.path, lambda: Store.open(db), limit=2, command=fake("sleep"))
    try:
        first, second = learner.submit("ana"), learner.submit("cy")
        assert first.state == "queued" and second.state == "queued"
        with pytest.raises(AlreadyLearning, match="a fine-tune for ana is (queued|running) already"):
            learner.submit("ana")
        with pytest.raises(QueueFull, match="2 fine-tunes are queued already.*try again"):
            learner.submit("dee")
        running = wait(lambda: (job := learner.status("ana")) and job.state == "running" and job.percent and job)
        assert running.percent == 10 and running.phase == "fine-tuning"
        assert learner.status("cy").state == "queued"  # one at a time
    finally:
        learner.close()
    assert learner.status("cy").state == "failed"


def test_a_killed_worker_reports_failed_and_the_previous_model_stays(predictor, db):
    model_id = shipped_as_personal(db, "ana")
    fb = Feedback(predictor, "flask", db=db)
    before, memory = fb.answering("ana")
    assert before is not predictor and before.path == personal_dir() / model_id / "model.keras"
    assert len(memory) == 12  # her memory, on her model's hidden layer

    done = []
    learner = Learner(predictor.path, lambda: fb.store, command=fake("sleep"), on_done=done.append)
    learner.submit("ana")
    job = wait(lambda: (j := learner.status("ana")) and j.percent and j)
    os.kill(job.pid, signal.SIGKILL)  # kill -9 in the middle of the fine-tune
    failed = wait(lambda: (j := learner.status("ana")) and j.state == "failed" and j)
    assert "stopped (signal 9)" in failed.error and "previous model is kept" in failed.error
    assert failed.to_dict() == {"user": "ana", "state": "failed", "percent": 10, "error": failed.error}
    assert done == [] and personal_info(fb.store, "ana").model_id == model_id
    assert fb.answering("ana")[0] is before  # still hers, loaded once


@pytest.mark.parametrize(
    "mode, why",
    [
        ("error", "no MNIST here: set DIGITREC_MNIST_DIR (the previous model is kept)"),
        ("crash", "the fine-tune failed (MemoryError: out of memory); the previous model is kept"),
    ],
)
def test_a_failing_worker_says_why(predictor, db, mode, why):
    learner = Learner(predictor.path, lambda: Store.open(db), command=fake(mode))
    learner.submit("ana")
    assert wait(lambda: (j := learner.status("ana")) and j.state == "failed" and j).error == why


def test_a_finished_job_reports_before_and_after_and_tells_the_app(predictor, db):
    done = []
    learner = Learner(predictor.path, lambda: Store.open(db), command=fake("done"), on_done=done.append)
    learner.submit("ana")
    job = wait(lambda: (j := learner.status("ana")) and j.state == "done" and j)
    assert job.to_dict() == {
        "user": "ana",
        "state": "done",
        "percent": 100,
        "before": {"saved": 0.5, "mnist_test": 0.995},
        "after": {"saved": 0.9, "mnist_test": 0.994},
        "figure": "2-fold cross-validation",
    }
    wait(lambda: done == ["ana"])


# --- who answers ---------------------------------------------------------------------------------------


def test_a_personal_model_answers_its_user_alone(predictor, db):
    shipped_as_personal(db, "ana")
    fb = Feedback(predictor, "flask", db=db)
    mine, memory = fb.answering("ana")
    assert mine is not predictor and mine.backend == predictor.backend  # LiteRT from the cached files
    assert fb.answering("cy")[0] is predictor and fb.answering(None) == (predictor, None)
    image = png(3, 999)
    expected = mine.predict(image, memory=Memory.from_drawings(mine, fb.store.drawings("ana")))
    assert fb.predictor.predict(image).digit == 3
    assert np.allclose(mine.predict(image, memory=memory).probabilities, expected.probabilities)
    # a save reaches the memory on her model at once
    fb.save(png(7, 5), 7, "ana")
    assert len(fb.answering("ana")[1]) == 13
    # the cached files are named by the random id, never by her name
    assert [p.name for p in personal_dir().iterdir()] == [personal_info(fb.store, "ana").model_id]
    assert Feedback(predictor, "flask", db=db, allowed=False).answering("ana") == (predictor, None)


def test_an_outdated_personal_model_is_not_used(predictor, db, app):
    shipped_as_personal(db, "ana", base_sha256="0" * 64)  # learnt from a model the app no longer ships
    app.config.update(DRAWINGS_DB=db, ALLOW_SAVING=True)
    client = app.test_client()
    assert client.get("/api/learn?user=ana").get_json() == {"user": "ana", "state": "outdated", "error": OUTDATED}
    assert "press Learn again" in OUTDATED
    image = "data:image/png;base64," + __import__("base64").b64encode(png(4, 1)).decode()
    answer = client.post("/api/predict", json={"image": image, "user": "ana"}).get_json()
    alone = predictor.predict(png(4, 1), memory=Memory.from_drawings(predictor, Store.open(db).drawings("ana")))
    assert np.allclose(answer["probabilities"], alone.probabilities, atol=1e-6)  # the app's model, her memory


def test_forget_me_deletes_the_personal_model_and_its_cached_files(predictor, db, app):
    model_id = shipped_as_personal(db, "ana")
    shipped_as_personal(db, "cy")
    app.config.update(DRAWINGS_DB=db, ALLOW_SAVING=True)
    client = app.test_client()
    image = "data:image/png;base64," + __import__("base64").b64encode(png(4, 1)).decode()
    assert client.post("/api/predict", json={"image": image, "user": "ana"}).status_code == 200
    assert (personal_dir() / model_id / "model.keras").is_file()
    assert client.get("/api/learn?user=ana").get_json()["state"] == "done"
    assert client.delete("/api/drawings?user=ana").get_json() == {"user": "ana", "deleted": 12}
    assert personal_model(Store.open(db), "ana") is None and not (personal_dir() / model_id).exists()
    assert personal_model(Store.open(db), "cy") is not None
    assert client.get("/api/learn?user=ana").status_code == 404


# --- the Flask API ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, status, error",
    [
        ({}, 400, "whose handwriting?"),
        ({"user": 7}, 400, "whose handwriting?"),
        ({"user": "bad\nname"}, 400, "user name"),
        ({"user": "bo"}, 409, "at least 10 saved drawings; bo has 3"),
        ({"user": "nobody"}, 409, "nobody has 0"),
    ],
)
def test_post_learn_refuses_clearly(app, db, body, status, error):
    app.config.update(DRAWINGS_DB=db, ALLOW_SAVING=True)
    response = app.test_client().post("/api/learn", json=body)
    assert response.status_code == status and error in response.get_json()["error"]


def test_learn_through_the_api_with_saving_off_or_a_full_queue(predictor, db):
    off = create_app({"TESTING": True, "DRAWINGS_DB": db, "ALLOW_SAVING": False}, predictor=predictor).test_client()
    assert off.post("/api/learn", json={"user": "ana"}).status_code == 403
    assert off.get("/api/learn?user=ana").status_code == 403
    full = create_app({"TESTING": True, "DRAWINGS_DB": db, "ALLOW_SAVING": True, "LEARN_QUEUE": 0}, predictor=predictor)
    response = full.test_client().post("/api/learn", json={"user": "ana"})
    assert response.status_code == 503 and "queued already" in response.get_json()["error"]


def test_post_then_get_learn(predictor, db):
    app = create_app({"TESTING": True, "DRAWINGS_DB": db, "ALLOW_SAVING": True}, predictor=predictor)
    with app.app_context():
        from flask_app.views import feedback

        fb = feedback()
        app.extensions["digitrec_learner"] = Learner(predictor.path, lambda: fb.store, command=fake("sleep"))
    client = app.test_client()
    try:
        assert client.get("/api/learn?user=ana").status_code == 404
        assert client.get("/api/learn").status_code == 400
        started = client.post("/api/learn", json={"user": "ana"})
        assert started.status_code == 202 and started.get_json()["state"] in ("queued", "running")
        again = client.post("/api/learn", data={"user": "ana"})  # a form field works too
        assert again.status_code == 409 and "already" in again.get_json()["error"]
        running = wait(lambda: (b := client.get("/api/learn?user=ana").get_json())["percent"] and b)
        assert running == {"user": "ana", "state": "running", "percent": 10, "phase": "fine-tuning"}
    finally:
        app.extensions["digitrec_learner"].close()


# --- Gradio and Pygame -------------------------------------------------------------------------------------


def test_gradio_learn_shows_progress_then_before_and_after(monkeypatch, predictor, db):
    monkeypatch.setitem(gradio_app.settings, "db", db)
    gradio_app.feedback.cache_clear()
    monkeypatch.setattr(gradio_app, "learner", lambda: learner)
    monkeypatch.setattr(gradio_app, "LEARN_POLL_S", 0.05)
    learner = Learner(predictor.path, lambda: gradio_app.feedback().store, command=fake("done"))
    try:
        lines = list(gradio_app.learn("ana"))
        assert lines[0].startswith("Learning ana's handwriting")
        assert lines[-1] == (
            "Learnt ana's handwriting: own drawings 50.0% → 90.0% (2-fold cross-validation), "
            "MNIST test 99.5% → 99.4%. Answers for this name now come from its own model."
        )
        assert list(gradio_app.learn("bo"))[-1].startswith("Not learnt: Learning needs at least 10")
        assert list(gradio_app.learn(""))[-1].startswith("Not learnt:")
    finally:
        gradio_app.feedback.cache_clear()
    assert "learn" in {getattr(fn, "api_name", None) for fn in gradio_app.demo.fns.values()}


def test_pygame_l_learns_the_window_users_handwriting(predictor, db):
    app = front.open_window(predictor, feedback=Feedback(predictor, "pygame", db=db), user="ana")
    try:
        pygame.event.clear()
        app.learner = Learner(predictor.path, lambda: app.feedback.store, command=fake("done"))
        assert "L: learn me" in app.help_line
        press(pygame.K_l)
        app.step()
        assert app.saved_line.startswith(("Learning ana's handwriting", "Learnt ana's handwriting"))
        wait(lambda: app.step() and app.saved_line.startswith("Learnt ana's handwriting: own drawings 50.0% → 90.0%"))
        app.user = "bo"
        press(pygame.K_l)
        app.step()
        assert app.saved_line.startswith("Not learnt: Learning needs at least 10 saved drawings; bo has 3")
    finally:
        pygame.quit()


# --- the command line and a real round trip ------------------------------------------------------------------


def test_the_cli_refuses_too_few_drawings_in_one_line(db):
    result = run_cli("learn", "--user", "bo", "--db", db)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        "error: Learning needs at least 10 saved drawings; bo has 3: "
        "draw, then press Right or Wrong, it was _ on 7 more."
    )
    as_json = run_cli("learn", "--user", "bo", "--db", db, "--json")
    assert as_json.returncode == 2 and "at least 10" in json.loads(as_json.stdout)["error"]
    nobody = run_cli("learn", "--db", db)
    assert nobody.returncode == 2 and nobody.stderr.strip() == "error: --user NAME is required (or --prepare)"


@pytest.mark.slow
def test_prepare_fills_the_cache_every_learn_then_reads(tmp_path):
    """``learn --prepare`` computes what every Learn from the model reads (MNIST through its frozen layers,
    the old model's answers and figures) into ``$DIGITREC_CACHE``; a Learn afterwards adds nothing there."""
    cache = tmp_path / "cache"
    prepared = run_cli("learn", "--prepare", "--json", DIGITREC_CACHE=str(cache))
    assert prepared.returncode == 0, prepared.stderr
    ready = json.loads(prepared.stdout.strip().splitlines()[-1])["prepared"]
    assert ready["cache"] == str(cache) and Path(ready["base"]) == DEFAULT_MODEL
    kinds = sorted(p.name.split("-")[0] + "-" + p.name.split("-")[1] for p in cache.iterdir())
    assert kinds == ["head-inputs"] * 4 + ["old-answers", "old-reads", "validation-writers"], kinds
    files = {p.name: p.stat().st_mtime_ns for p in cache.iterdir()}
    db = str(tmp_path / "d.sqlite3")
    with Store.open(db) as s:
        for i in range(20):
            s.save(png(i % 10, i), i % 10, user="ana", source="cli")
    steps = {"DIGITREC_CACHE": str(cache), "DIGITREC_LEARN_STEPS": "3"}
    learnt = run_cli("learn", "--user", "ana", "--db", db, "--folds", "0", "--json", **steps)
    assert learnt.returncode == 0, learnt.stderr
    assert {p.name: p.stat().st_mtime_ns for p in cache.iterdir()} == files


def test_learn_leaves_touching_digits_out_unless_asked(tmp_path):
    """A user whose drawings are all digits saved touching a neighbour: Learn finds none to learn from, and
    says why; ``--include-touching`` takes them (and goes on, here to the replay's missing MNIST)."""
    db = str(tmp_path / "t.sqlite3")
    with Store.open(db) as s:
        for i in range(10):
            s.save(png(i, i), i, user="ana", touching=True)
    result = run_cli("learn", "--user", "ana", "--db", db)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "no saved drawings by ana but 10 touching digits (--include-touching learns from them)" in result.stderr
    empty = tmp_path / "no-mnist"
    empty.mkdir()
    included = run_cli("learn", "--user", "ana", "--db", db, "--include-touching", DIGITREC_MNIST_DIR=str(empty))
    assert included.returncode == 2 and "missing MNIST file" in included.stderr


@pytest.mark.slow
def test_learn_round_trip_through_a_real_server(db, tmp_path, make_drawing_png):
    """POST /api/learn on a real server, a real worker process fine-tuning (a few steps), polled to done;
    then ana's answers come from her personal model and bo's, who learnt nothing, from the app's."""
    import base64
    import http.client
    import urllib.parse

    from digitrec import Predictor

    cache = tmp_path / "cache"
    env = {
        "DIGITREC_DB": db,
        "DIGITREC_LEARN_STEPS": "20",
        "DIGITREC_LEARN_FOLDS": "0",
        "DIGITREC_PERSONAL_DIR": str(cache),
    }
    image = "data:image/png;base64," + base64.b64encode(make_drawing_png(3, seed=42)).decode()
    with serve_flask(env=env) as url:
        host = urllib.parse.urlsplit(url)

        def call(method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
            conn = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
            headers = {"Content-Type": "application/json"} if body is not None else {}
            conn.request(method, path, json.dumps(body) if body is not None else None, headers)
            response = conn.getresponse()
            return response.status, json.loads(response.read())

        status, started = call("POST", "/api/learn", {"user": "ana"})
        assert status == 202 and started["state"] == "queued"
        seen = set()

        def finished():
            found = call("GET", "/api/learn?user=ana")[1]
            seen.add(found["state"])
            return found if found["state"] in ("done", "failed") else None

        done = wait(finished, timeout=400)
        assert done["state"] == "done", done
        assert {"queued", "running"} & seen
        assert (
            set(done["before"]) >= {"saved", "mnist_test"}
            and abs(done["after"]["mnist_test"] - done["before"]["mnist_test"]) < 0.01
        )
        ana = call("POST", "/api/predict", {"image": image, "user": "ana"})[1]
        bo = call("POST", "/api/predict", {"image": image, "user": "bo"})[1]
        number = call("POST", "/api/read_number", {"image": image, "user": "ana"})[1]

    info = personal_info(Store.open(db), "ana")
    assert [p.name for p in cache.iterdir()] == [info.model_id]
    mine = Predictor.load(cache / info.model_id / "model.keras")
    base = Predictor.load()
    drawing = make_drawing_png(3, seed=42)
    expected = mine.predict(drawing, memory=Memory.from_drawings(mine, Store.open(db).drawings("ana")))
    shipped = base.predict(drawing, memory=Memory.from_drawings(base, Store.open(db).drawings("ana")))
    assert np.allclose(ana["probabilities"], expected.probabilities, atol=1e-5)
    assert not np.allclose(expected.probabilities, shipped.probabilities, atol=1e-7)  # her model is another
    assert np.allclose(number["digits"][0]["probabilities"], expected.probabilities, atol=1e-5)
    bo_alone = base.predict(drawing, memory=Memory.from_drawings(base, Store.open(db).drawings("bo")))
    assert np.allclose(bo["probabilities"], bo_alone.probabilities, atol=1e-5)
    assert Path(db).is_file()


def test_drawings_delete_on_the_command_line_deletes_the_personal_model_too(predictor, db):
    model_id = shipped_as_personal(db, "ana")
    Feedback(predictor, "cli", db=db).answering("ana")  # its files cached on this machine
    assert (personal_dir() / model_id).is_dir()
    result = run_cli("drawings", "delete", "--user", "ana", "--db", db, "--yes")
    assert result.returncode == 0 and "deleted 12 drawings of ana" in result.stdout
    assert personal_info(Store.open(db), "ana") is None and not (personal_dir() / model_id).exists()


def test_the_page_has_the_learn_button(client):
    page = client.get("/").get_data(as_text=True)
    assert 'id="learn"' in page and 'data-api="/api/learn"' in page and "Learn my handwriting" in page
    assert "digitrecFeedback?.name()" in client.get("/static/app.js").get_data(as_text=True)


def test_answering_with_a_personal_model_never_imports_tensorflow(db):
    shipped_as_personal(db, "ana")
    code = (
        "import sys, flask_app.learn, digitrec.learning, gradio_app;"
        "from digitrec import Predictor; from digitrec.feedback import Feedback;"
        f"fb = Feedback(Predictor.load(), 'flask', db={db!r}); answerer, memory = fb.answering('ana');"
        "assert answerer is not fb.predictor and len(memory) == 12;"
        "answerer.read_number(__import__('numpy').zeros((50, 80), 'uint8'));"
        "bad = [m for m in ('tensorflow', 'keras') if m in sys.modules]; print(bad); sys.exit(bool(bad))"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
