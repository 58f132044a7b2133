"""The drawing store, on an SQLite file and on a real PostgreSQL server: what is kept, what is
refused, migrations, errors a person can act on, concurrent writers, and a writer killed mid-write."""

from __future__ import annotations

import hashlib
import json
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime

import numpy as np
import pytest

from digitrec import InvalidImage, store
from digitrec.data.canvases import pen_digit, to_png
from digitrec.preprocess import preprocess
from digitrec.store import InvalidDrawing, Store, StoreError, StoreFull
from digitrec.store import db as store_db
from digitrec.store import schema as store_schema
from digitrec.store.personal import personal_info, personal_model, save_personal
from tests.harness.stores import sqlite_bytes
from tests.harness.support import ROOT


def png(digit: int, seed: int = 0, how: str = "dark_on_light") -> bytes:
    return to_png(pen_digit(digit, np.random.default_rng(seed), how))


@pytest.fixture
def opened(store_url):
    with Store.open(store_url) as s:
        yield s


def test_a_saved_drawing_comes_back_with_everything(opened, predictor):
    image = png(7, how="transparent")  # ink in the alpha channel, as a browser canvas sends it
    prediction = predictor.predict(image)
    before = time.time()
    drawing_id = opened.save(image, 7, prediction=prediction, model_sha256="ab" * 32, source="flask", user="ana")
    (drawing,) = opened.drawings()
    assert drawing.id == drawing_id and drawing.label == 7 and drawing.predicted == prediction.digit
    assert drawing.probabilities == pytest.approx(prediction.probabilities, abs=1e-6)
    assert (drawing.model_sha256, drawing.source, drawing.user) == ("ab" * 32, "flask", "ana")
    assert abs(drawing.created.timestamp() - before) < 60 and drawing.created.tzinfo is not None
    assert drawing.png.startswith(b"\x89PNG") and drawing.touching is False  # a whole drawing: never touching
    # The PNG kept is what the model read: the same 28x28 after preprocess.
    np.testing.assert_allclose(preprocess(drawing.png), prediction.model_input, atol=0.02)


def test_counts_and_stats(opened):
    for i, (digit, user, source) in enumerate([(1, "ana", "gradio"), (1, "bo", "flask"), (4, "ana", "pygame")]):
        opened.save(png(digit, seed=i), digit, source=source, user=user)
    assert opened.count() == 3 and opened.count("ana") == 2 and opened.count("nobody") == 0
    stats = opened.stats()
    assert stats["count"] == 3 and stats["by_label"]["1"] == 2 and stats["by_label"]["4"] == 1
    assert stats["by_user"] == {"ana": 2, "bo": 1}
    assert stats["by_source"] == {"flask": 1, "gradio": 1, "pygame": 1}
    assert opened.stats("bo")["count"] == 1 and "by_user" not in opened.stats("bo")
    assert [d.user for d in opened.drawings("ana")] == ["ana", "ana"]


def test_the_default_user_is_the_login_name(opened):
    opened.save(png(2), 2)
    assert next(opened.drawings()).user == store.default_user() != ""


@pytest.mark.parametrize("label", [-1, 10, 3.0, True, None, "seven", "12", [7]])
def test_labels_must_be_digits(opened, label):
    with pytest.raises(InvalidDrawing, match="label must be a digit"):
        opened.save(png(3), label)
    assert opened.count() == 0


def test_a_label_may_be_a_digit_string():
    assert store.check_label("7") == 7 and store.check_label(np.int64(0)) == 0


@pytest.mark.parametrize("user", ["", "   ", "x" * 65, "tab\there", 12])
def test_user_names_are_checked(opened, user):
    with pytest.raises(InvalidDrawing, match="user name"):
        opened.save(png(3), 3, user=user)


def test_unknown_source_is_refused(opened):
    with pytest.raises(InvalidDrawing, match="source"):
        opened.save(png(3), 3, source="../../etc")


def test_images_pass_the_predictors_limits(opened):
    with pytest.raises(InvalidImage, match="not a readable image"):
        opened.save(b"GIF89a not really", 1)
    with pytest.raises(InvalidImage) as exc:
        opened.save(np.zeros((5000, 5000), np.uint8), 1)
    assert exc.value.kind == "too_large"
    with pytest.raises(InvalidDrawing, match="blank"):
        opened.save(np.full((280, 280, 3), 255, np.uint8), 1)
    with pytest.raises(InvalidImage):
        opened.save("/etc/passwd", 1)  # a file path, but not an image
    assert opened.count() == 0


def test_the_size_cap_refuses_politely(store_url):
    with Store.open(store_url, max_drawings=2) as capped:
        capped.save(png(1), 1)
        capped.save(png(2), 2)
        with pytest.raises(StoreFull, match="full: it holds 2 drawings") as exc:
            capped.save(png(3), 3)
        assert "export" in str(exc.value)
        assert capped.count() == 2


def test_opening_counting_and_listing_write_nothing(tmp_path):
    path = tmp_path / "sub" / "drawings.sqlite3"
    s = Store.open(path)
    assert s.count() == 0 and s.stats()["count"] == 0 and list(s.drawings()) == []
    assert not path.exists() and not path.parent.exists()
    s.save(png(5), 5)
    assert path.is_file()


def test_default_file_is_under_digitrec_data_and_wal(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITREC_DATA", str(tmp_path / "data"))
    s = Store.open()
    assert s.path == (tmp_path / "data" / "drawings.sqlite3").resolve()
    assert s.where() == str(s.path) and s.where(remote=True) == "on the server"
    s.save(png(5), 5)
    s.close()
    with sqlite3.connect(s.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_digitrec_db_and_urls(monkeypatch, tmp_path):
    monkeypatch.setenv("DIGITREC_DB", str(tmp_path / "x.db"))
    assert store.resolve() == f"sqlite:///{tmp_path / 'x.db'}"
    assert store.resolve("postgresql://u:secret@db.example/d") == "postgresql+psycopg://u:secret@db.example/d"
    remote = Store.open("postgresql://u:secret@db.example/d")
    assert remote.where() == "on the server" and "secret" not in remote.describe()


# --- migrations ----------------------------------------------------------------------------------


def test_the_schema_version_is_recorded(opened):
    assert opened.migrate() == len(store.MIGRATIONS)


def test_pending_migrations_run_once_in_order(store_url, monkeypatch):
    with Store.open(store_url) as s:
        s.save(png(1), 1)
    ran = []
    import sqlalchemy as sa

    def add_note(conn):
        ran.append("v2")
        conn.execute(sa.text("ALTER TABLE digitrec_drawings ADD COLUMN note VARCHAR(20)"))

    monkeypatch.setattr(store_schema, "MIGRATIONS", [*store.MIGRATIONS, ("a note", add_note)])
    with Store.open(store_url) as s:
        s.save(png(2), 2)
        assert s.migrate() == len(store.MIGRATIONS) + 1 and s.count() == 2
    with Store.open(store_url) as s:
        s.save(png(3), 3)
    assert ran == ["v2"]


def older_store(store_url: str, version: int, monkeypatch) -> None:
    """A store as the digitrec of schema ``version`` left it: its tables, and ana's 4 saved with the
    columns version 1 made (that digitrec's save knew no others)."""
    import sqlalchemy as sa

    v1 = sa.table(
        store.DRAWINGS.name, *(sa.column(c.name, c.type) for c in store.DRAWINGS.c if c.name not in ("id", "touching"))
    )
    image = to_png(pen_digit(4, np.random.default_rng(4), "dark_on_light"))
    row = {"created": datetime.now(UTC), "user_name": "ana", "source": "cli", "label": 4, "png": image}
    with monkeypatch.context() as m:
        m.setattr(store_schema, "MIGRATIONS", store.MIGRATIONS[:version])
        with Store.open(store_url) as s:
            assert s.migrate() == version
            with s.engine().begin() as conn:
                conn.execute(v1.insert().values(**row, image_sha256=hashlib.sha256(image).hexdigest()))


def columns_of(s: Store) -> set[str]:
    import sqlalchemy as sa

    with s.engine().connect() as conn:
        return {c["name"] for c in sa.inspect(conn).get_columns(store.DRAWINGS.name)}


def test_a_store_of_version_1_gets_the_personal_models_table_on_its_first_write(store_url, monkeypatch):
    """Stores of the drawings table alone migrate on the first write after the upgrade: reading
    changes nothing, and the first save of a drawing or a personal model adds the table."""
    import sqlalchemy as sa

    older_store(store_url, 1, monkeypatch)  # the digitrec before personal models
    with Store.open(store_url) as s:
        assert personal_info(s, "ana") is None  # a read: nothing migrated
        with s.engine().connect() as conn:
            assert not sa.inspect(conn).has_table(store.PERSONAL.name)
            assert conn.execute(sa.select(sa.func.max(store.SCHEMA.c.version))).scalar() == 1
        saved = save_personal(s, "ana", b"weights", b"litert", {"sha256": "x"}, "b" * 64)
        assert s.migrate() == len(store.MIGRATIONS) and s.count("ana") == 1  # her drawing is still there
        found = personal_model(s, "ana")
        assert (found.model_id, found.keras, found.tflite, found.card) == (
            saved.model_id,
            b"weights",
            b"litert",
            {"sha256": "x"},
        )
        assert found.base_sha256 == "b" * 64 and found.created.tzinfo is not None


def test_a_store_of_version_2_gets_the_touching_flag_on_its_first_write(store_url, monkeypatch):
    """Today's stores (drawings and personal models) migrate to version 3 on the first write: until then
    their drawings read unflagged; then the column is there, false for every drawing kept so far."""
    older_store(store_url, 2, monkeypatch)
    with Store.open(store_url) as s:
        assert [(d.label, d.touching) for d in s.drawings()] == [(4, False)]  # a read: nothing migrated
        assert "touching" not in columns_of(s)
        s.save(png(5), 5, user="ana", touching=True)  # a digit that touched its neighbour
        s.save(png(6), 6, user="ana")
        assert s.migrate() == 3 == len(store.MIGRATIONS) and "touching" in columns_of(s)
        assert [(d.label, d.touching) for d in s.drawings("ana")] == [(4, False), (5, True), (6, False)]
        assert s.count("ana") == 3


def test_a_personal_model_replaces_the_previous_one_under_a_new_random_id(opened):
    first = save_personal(opened, "ana", b"one", None, {}, "a" * 64)
    second = save_personal(opened, " ana ", b"two", None, {}, "a" * 64)
    assert first.model_id != second.model_id and re.fullmatch("[0-9a-f]{32}", second.model_id)
    assert personal_model(opened, "ana").keras == b"two" and personal_info(opened, "bo") is None


def test_a_store_from_a_newer_digitrec_is_refused(store_url, monkeypatch):
    with Store.open(store_url) as s:
        s.save(png(1), 1)
    monkeypatch.setattr(store_schema, "MIGRATIONS", [])
    with Store.open(store_url) as s, pytest.raises(StoreError, match="newer than this digitrec knows"):
        s.count()


# --- errors a person can act on -------------------------------------------------------------------


def test_a_corrupt_file_says_so(tmp_path):
    path = tmp_path / "drawings.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="is damaged or not a drawing store .*move it away"):
        Store.open(path).count()
    with pytest.raises(StoreError, match="is damaged"):
        Store.open(path).save(png(1), 1)


def test_a_locked_file_says_so(tmp_path, monkeypatch):
    path = tmp_path / "drawings.sqlite3"
    Store.open(path).save(png(1), 1)
    monkeypatch.setattr(store_db, "LOCK_TIMEOUT_S", 0.2)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another program holds the write lock
    try:
        with pytest.raises(StoreError, match="is locked by another program"):
            Store.open(path).save(png(2), 2)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert Store.open(path).count() == 1


def test_a_wrong_password_never_shows_it(postgres):
    url = postgres.url.replace(postgres.password, "hunter2-wrong")
    with pytest.raises(StoreError) as exc:
        Store.open(url).count()
    assert "hunter2" not in str(exc.value) and postgres.password not in str(exc.value)
    assert "cannot use the drawing store's database on 127.0.0.1" in str(exc.value)


@pytest.mark.parametrize("under", ["a file", "the file itself", "/proc"])
def test_a_data_folder_that_cannot_be_made_says_which_and_why(tmp_path, monkeypatch, under):
    (tmp_path / "notes").write_text("a file, not a folder")
    data = {"a file": tmp_path / "notes" / "data", "the file itself": tmp_path / "notes", "/proc": "/proc/digitrec"}
    monkeypatch.setenv("DIGITREC_DATA", str(data[under]))
    monkeypatch.delenv("DIGITREC_DB", raising=False)
    with pytest.raises(StoreError, match=f"the drawing store's folder {data[under]} cannot be made") as exc:
        Store.open().save(png(1), 1)
    assert "DIGITREC_DATA" in str(exc.value)
    if under != "/proc":
        assert f"({tmp_path / 'notes'} is not a folder)" in str(exc.value)


def test_a_password_with_an_at_sign_is_hidden_whole():
    url = "postgresql://ana:p@ss-w0rd@127.0.0.1:1/digitrec"  # "@" in the password, not percent-encoded
    s = Store.open(url)
    assert (s.url.host, s.url.port, s.url.password) == ("127.0.0.1", 1, "p@ss-w0rd")
    assert s.describe() == "postgresql+psycopg://ana:***@127.0.0.1:1/digitrec" and s.where() == "on the server"
    with pytest.raises(StoreError) as exc:  # nothing listens on port 1
        s.count()
    assert "ss-w0rd" not in str(exc.value) and "on 127.0.0.1 (" in str(exc.value)
    assert Store.open("postgresql://u:pw@host/my@db").url.database == "my@db"  # one "@" before the host


@pytest.mark.parametrize(
    "url, message",
    [
        ("postgresql://u:secret@host:abc/db", "has a port that is not a number: 'abc'"),
        ("postgresql://u:secret@host:/db", "has a port that is not a number: ''"),
        ("postgresql://u:secret@a..b/db", "on a..b: not a host name that can be looked up"),
    ],
)
def test_a_port_or_host_that_cannot_be_used_is_one_sentence(url, message):
    with pytest.raises(StoreError, match=re.escape(message)) as exc:
        Store.open(url).count()
    assert "secret" not in str(exc.value)


# --- several writers ------------------------------------------------------------------------------


def test_threads_save_at_once_and_nothing_is_lost(opened):
    images = [png(d, seed=d) for d in range(10)]
    ids, errors = [], []

    def writer(k):
        try:
            for i in range(12):
                ids.append(opened.save(images[(k + i) % 10], (k + i) % 10, source="flask", user=f"u{k}"))
        except Exception as exc:  # any failure is the test's failure
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors and len(set(ids)) == 96 and opened.count() == 96


WRITER = """
import sys
import numpy as np
from digitrec.data.canvases import pen_digit, to_png
from digitrec.store import Store
s = Store.open(sys.argv[1])
image = to_png(pen_digit(4, np.random.default_rng(0), "dark_on_light"))
for i in range(int(sys.argv[2])):
    print(s.save(image, 4, source="cli", user=sys.argv[3]), flush=True)
"""


def writer(url: str, count: int, user: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, url, str(count), user], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )


def test_two_processes_write_to_one_store(store_url):
    procs = [writer(store_url, 40, f"proc{k}") for k in range(2)]
    outs = [p.communicate(timeout=240)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    ids = [int(line) for out in outs for line in out.split()]
    with Store.open(store_url) as s:
        assert len(set(ids)) == 80 and s.count() == 80
        assert s.stats()["by_user"] == {"proc0": 40, "proc1": 40}


def test_a_writer_killed_mid_write_leaves_a_sound_store(tmp_path):
    path = tmp_path / "drawings.sqlite3"
    proc = writer(str(path), 100_000, "killed")
    acknowledged = []
    deadline = time.monotonic() + 120
    while len(acknowledged) < 30 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line:
            acknowledged.append(int(line))
    proc.send_signal(signal.SIGKILL)  # in the middle of its next write
    proc.wait(30)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with Store.open(path) as s:
        kept = {d.id for d in s.drawings()}
        assert set(acknowledged) <= kept  # every save it reported is there
        s.save(png(1), 1, user="after")  # and the store goes on
        assert s.count() == len(kept) + 1


def test_stats_as_json_never_hold_a_password(postgres):
    postgres.reset()
    with Store.open(postgres.url) as s:
        s.save(png(8), 8)
        text = json.dumps({"store": s.describe(), **s.stats()}, default=str)
    assert postgres.password not in text and "***" in text


def test_drawings_are_read_a_page_at_a_time(opened, monkeypatch):
    monkeypatch.setattr(store, "PAGE", 2)
    for i in range(5):
        opened.save(png(i % 10, seed=i), i % 10, user="pager" if i % 2 else "other")
    assert [d.label for d in opened.drawings()] == [0, 1, 2, 3, 4]
    assert [d.label for d in opened.drawings("pager")] == [1, 3]


# --- forgetting a user ----------------------------------------------------------------------------


def save_ana_and_bo(s: Store) -> tuple[list[bytes], list[bytes]]:
    """Three drawings of ana's and two of bo's saved in ``s``; their PNGs as kept."""
    for i, (digit, user) in enumerate([(3, "ana"), (7, "bo"), (5, "ana"), (1, "bo"), (8, "ana")]):
        s.save(png(digit, seed=10 + i), digit, source="flask", user=user)
    return [d.png for d in s.drawings("ana")], [d.png for d in s.drawings("bo")]


def test_forget_deletes_every_drawing_of_one_user(store_url):
    with Store.open(store_url) as s:
        _, bos = save_ana_and_bo(s)
        assert s.forget(" ana ") == 3  # the name as everywhere: spaces trimmed
        assert s.count("ana") == 0 and list(s.drawings("ana")) == []
        assert [d.png for d in s.drawings("bo")] == bos and s.stats()["by_user"] == {"bo": 2}
        # no row of hers at all, counted by the database itself
        import sqlalchemy as sa

        with s.engine().connect() as conn:
            query = sa.select(sa.func.count()).select_from(store.DRAWINGS).where(store.DRAWINGS.c.user_name == "ana")
            assert conn.execute(query).scalar() == 0
        assert s.forget("ana") == 0 and s.forget("nobody") == 0
        s.save(png(2), 2, user="ana")  # the store goes on
        assert s.count("ana") == 1


@pytest.mark.parametrize("user", ["", "   ", "a" * 65, "bad\nname", None])
def test_forget_checks_the_name_as_saving_does(opened, user):
    with pytest.raises(InvalidDrawing, match="user name"):
        opened.forget(user)


def test_forgetting_in_a_store_that_is_not_there_makes_none(tmp_path):
    path = tmp_path / "sub" / "drawings.sqlite3"
    assert Store.open(path).forget("ana") == 0
    assert not path.parent.exists()


def test_forget_empties_every_per_user_table(store_url, monkeypatch):
    """A later per-user table (a personal model) joins ``PER_USER`` and forget empties it too."""
    import sqlalchemy as sa

    models = sa.Table(
        "digitrec_test_models", sa.MetaData(), sa.Column("user_name", sa.String(64)), sa.Column("blob", sa.Text)
    )
    monkeypatch.setattr(store_schema, "PER_USER", (*store_schema.PER_USER, models))
    with Store.open(store_url) as s:
        save_ana_and_bo(s)
        with s.engine().begin() as conn:
            models.create(conn)
            conn.execute(models.insert(), [{"user_name": u, "blob": f"model of {u}"} for u in ("ana", "bo", "ana")])
        assert s.forget("ana") == 3
        with s.engine().connect() as conn:
            assert conn.execute(sa.select(models.c.user_name)).scalars().all() == ["bo"]


def test_forgotten_bytes_are_gone_from_the_sqlite_file_and_its_wal(tmp_path):
    path = tmp_path / "drawings.sqlite3"
    wal = path.with_name(path.name + "-wal")

    def on_disk() -> bytes:
        return sqlite_bytes(path)

    rng = np.random.default_rng(0)
    her_model, his_model = (rng.integers(0, 256, 200_000, dtype=np.uint8).tobytes() for _ in range(2))
    with Store.open(path) as s:
        anas, bos = save_ana_and_bo(s)
        with s.engine().connect() as conn:  # the store's own setting: some SQLite builds default to off
            assert conn.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
        # her personal model ("Learn my handwriting"): weights, LiteRT file and card, gone with her drawings
        save_personal(s, "ana", her_model[:150_000], her_model[150_000:], {"note": "ana's card"}, "a" * 64)
        save_personal(s, "bo", his_model[:150_000], his_model[150_000:], {"note": "his card"}, "a" * 64)
        bos = [*bos, his_model[1000:1064], his_model[160_000:160_064]]
        # 64 bytes from the middle of each of her PNGs (compressed pixels), found in none of bo's
        snippets = [p[len(p) // 2 : len(p) // 2 + 64] for p in anas]
        snippets += [her_model[i : i + 64] for i in (1000, 100_000, 160_000, 199_000)]
        assert not any(snip in b or b"ana" in b for snip in snippets for b in bos)
        before = on_disk()
        assert b"ana" in before and all(snip in before for snip in snippets)  # the test can see them
        assert s.forget("ana") == 3
        after = on_disk()  # the store still open, as a running server keeps it
        assert not wal.exists() or wal.stat().st_size == 0
        assert b"ana" not in after and not any(snip in after for snip in snippets)
        assert all(b in after for b in bos) and s.count("bo") == 2
        assert personal_info(s, "ana") is None and personal_model(s, "bo").keras == his_model[:150_000]
    assert b"ana" not in on_disk() and not any(snip in on_disk() for snip in snippets)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_reader_holding_the_wal_makes_forget_say_run_it_again(tmp_path, monkeypatch):
    monkeypatch.setattr(store_db, "LOCK_TIMEOUT_S", 1)
    path = tmp_path / "drawings.sqlite3"
    with Store.open(path) as s:
        save_ana_and_bo(s)
        reader = sqlite3.connect(path, isolation_level=None)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM digitrec_drawings").fetchone()  # a snapshot with her drawings
        with pytest.raises(StoreError, match="deleted 3 drawings of ana, but another program is reading .*again"):
            s.forget("ana")
        reader.execute("COMMIT")
        reader.close()
        assert s.forget("ana") == 0 and s.count("ana") == 0
    assert b"ana" not in path.read_bytes()
