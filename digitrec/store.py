"""The drawing store: the drawings users confirmed or corrected, kept for fine-tuning.

    store = Store.open()                    # $DIGITREC_DB, else an SQLite file under $DIGITREC_DATA
    store.save(image, 7, prediction=p, model_sha256=..., source="flask", user="ana")
    store.count(), store.stats(), store.drawings(user="ana")

By default one SQLite file (WAL mode: readers never wait for the writer, and a process killed in
the middle of a write leaves the last committed state) in the user's data directory, never the
repository. ``DIGITREC_DB`` (or ``--db``) names a database URL instead, e.g.
``postgresql://user:pass@host/digitrec``, so that several app servers share one store.

Nothing is written until a user saves a drawing: opening a store, counting or listing drawings
creates no file and no table. The schema is versioned by a small ordered list of migrations
(``MIGRATIONS``), applied in one locked transaction on the first write.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from digitrec import imageio

if TYPE_CHECKING:  # the store works without a model; front ends pass what the predictor said
    from sqlalchemy.engine import Connection, Engine

    from digitrec.predict import Prediction

DB_ENV = "DIGITREC_DB"
DATA_ENV = "DIGITREC_DATA"
MAX_ENV = "DIGITREC_MAX_DRAWINGS"
FILE_NAME = "drawings.sqlite3"
MAX_DRAWINGS = 100_000  # a person corrects a few hundred; 100,000 is a large shared store (~1 GB)
MAX_PNG_BYTES = 512 * 1024  # one drawing, re-encoded as PNG (a 280x280 canvas is 3-10 KiB)
SOURCES = ("gradio", "flask", "pygame", "cli")
MAX_USER = 64
PAGE = 500  # drawings read at a time
LOCK_TIMEOUT_S = 30  # how long a write waits for another writer before saying the store is locked
# What a remote user is told: the server's paths and the database's address are not theirs to know.
ON_THE_SERVER = "on the server"


class StoreError(RuntimeError):
    """The store cannot be used: locked, corrupt, unreachable, or newer than this code. The message
    says what to do, and never holds a password."""


class StoreFull(StoreError):
    """The store holds as many drawings as its limit allows."""


class InvalidDrawing(ValueError):
    """A label, user name or source that cannot be saved, or a blank drawing."""


@dataclass(frozen=True)
class Drawing:
    """One saved drawing, as ``Store.drawings`` returns it."""

    id: int
    png: bytes  # the drawing as the user made it (grey, and alpha when the ink was in alpha)
    label: int  # the true digit, as the user said
    predicted: int | None  # what the model answered (None for a blank answer)
    probabilities: tuple[float, ...] | None
    model_sha256: str | None
    source: str
    user: str
    created: datetime


# --- where --------------------------------------------------------------------------------------


def data_dir() -> Path:
    """``$DIGITREC_DATA``, else the user's data directory (``~/.local/share/digitrec`` on Linux)."""
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("digitrec", appauthor=False))


def resolve(db: str | os.PathLike | None = None) -> str:
    """A database URL from ``db`` (a URL, or a path to an SQLite file), else ``$DIGITREC_DB``, else
    the SQLite file in ``data_dir()``. ``postgresql://`` URLs get the psycopg driver."""
    chosen = str(db) if db else os.environ.get(DB_ENV) or str(data_dir() / FILE_NAME)
    if "://" not in chosen:
        return "sqlite:///" + str(Path(chosen).expanduser().resolve())
    if chosen.startswith(("postgresql://", "postgres://")):
        chosen = "postgresql+psycopg://" + chosen.split("://", 1)[1]
    return chosen


def default_user() -> str:
    """The local user's login name (the default owner of saved drawings)."""
    try:
        return clean_user(getpass.getuser())
    except (OSError, KeyError, InvalidDrawing):  # no login name (some containers): still save
        return "local"


def clean_user(user: Any) -> str:
    """A user name as stored: 1-64 printable characters, spaces trimmed. Raises ``InvalidDrawing``."""
    if not isinstance(user, str):
        raise InvalidDrawing(f"the user name must be text, not {type(user).__name__}")
    user = user.strip()
    if not user or len(user) > MAX_USER or not user.isprintable():
        raise InvalidDrawing(f"the user name must be 1 to {MAX_USER} printable characters")
    return user


def check_label(label: Any) -> int:
    """A digit 0-9 (an int, or a string of one digit). Raises ``InvalidDrawing``."""
    if isinstance(label, str) and re.fullmatch(r"[0-9]", label.strip()):
        return int(label)
    if isinstance(label, (int, np.integer)) and not isinstance(label, bool) and 0 <= label <= 9:
        return int(label)
    raise InvalidDrawing(f"the label must be a digit from 0 to 9, not {label!r}"[:120])


def drawing_png(image: imageio.ImageLike) -> bytes:
    """Any drawing ``preprocess`` accepts -> the PNG bytes kept: the grey picture (and its alpha when
    the ink is in alpha), re-encoded so nothing but pixels is stored. Very large inputs are area-reduced
    as ``preprocess`` reduces them. Raises ``InvalidImage`` (the predictor's limits) or
    ``InvalidDrawing`` (blank, or too large once encoded)."""
    from digitrec.preprocess import preprocess

    grey, alpha = imageio.decode(image)
    planes = [grey] if alpha is None else [grey, alpha]
    pixels = np.round(np.stack(planes, axis=-1) * 255).astype(np.uint8)
    png = imageio.png_bytes(pixels[..., 0] if alpha is None else pixels)
    if preprocess(png) is None:
        raise InvalidDrawing("the drawing is blank: draw a digit before saving it")
    if len(png) > MAX_PNG_BYTES:
        raise InvalidDrawing(f"the drawing is too large to keep ({len(png) // 1024} KiB as PNG)")
    return png


# --- the schema and its migrations ---------------------------------------------------------------


def _tables():
    import sqlalchemy as sa

    meta = sa.MetaData()
    version = sa.Table("digitrec_schema", meta, sa.Column("version", sa.Integer, nullable=False))
    drawings = sa.Table(
        "digitrec_drawings",
        meta,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_name", sa.String(MAX_USER), nullable=False, index=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("label", sa.SmallInteger, sa.CheckConstraint("label BETWEEN 0 AND 9"), nullable=False),
        sa.Column("predicted", sa.SmallInteger, nullable=True),
        sa.Column("probabilities", sa.Text, nullable=True),  # JSON: ten floats
        sa.Column("model_sha256", sa.String(64), nullable=True),
        sa.Column("image_sha256", sa.String(64), nullable=False, index=True),
        sa.Column("png", sa.LargeBinary, nullable=False),
    )
    return meta, version, drawings


META, SCHEMA, DRAWINGS = _tables()


def _create_v1(conn: Connection) -> None:
    # The table as DRAWINGS describes it. Before DRAWINGS changes, copy today's columns into this
    # step, so that version 1 stays version 1; the change itself is step 2.
    META.create_all(conn, tables=[DRAWINGS])


# Each step moves the schema from version i to i + 1 and is never edited once released: a change
# is a new step. A plain list rather than Alembic: one table, migrations applied by the apps
# themselves on first write (no alembic.ini, env.py or separate command to run), in the same
# transaction that records the new version.
MIGRATIONS: list[tuple[str, Callable[[Connection], None]]] = [
    ("the drawings table", _create_v1),
]


def schema_version(conn: Connection) -> int:
    """The store's schema version: 0 for an empty database."""
    import sqlalchemy as sa

    if not sa.inspect(conn).has_table(SCHEMA.name):
        return 0
    return conn.execute(sa.select(sa.func.max(SCHEMA.c.version))).scalar() or 0


# --- the store -----------------------------------------------------------------------------------


class Store:
    """A drawing store at a database URL. Thread-safe; open one per process with ``Store.open``."""

    def __init__(self, url: str, max_drawings: int | None = None) -> None:
        import sqlalchemy as sa

        self.url = sa.engine.make_url(url)
        self.max_drawings = max_drawings if max_drawings is not None else int(os.environ.get(MAX_ENV, MAX_DRAWINGS))
        self._engine: Engine | None = None
        self._migrated = False

    @classmethod
    def open(cls, db: str | os.PathLike | None = None, max_drawings: int | None = None) -> Store:
        """The store at ``db`` (a URL or an SQLite path), else ``$DIGITREC_DB``, else the default file."""
        return cls(resolve(db), max_drawings)

    # where it is, in words

    @property
    def path(self) -> Path | None:
        """The SQLite file, or None for a database server."""
        return Path(self.url.database) if self.url.get_backend_name() == "sqlite" and self.url.database else None

    def where(self, remote: bool = False) -> str:
        """Where the drawings are kept, for a person: the file's path locally; "on the server" for a
        remote user or a database server (never its URL or password)."""
        return ON_THE_SERVER if remote or self.path is None else str(self.path)

    def describe(self) -> str:
        """For the operator's own logs and CLI: the path, or the URL with its password hidden."""
        return str(self.path) if self.path else self.url.render_as_string(hide_password=True)

    # reading

    def count(self, user: str | None = None) -> int:
        """How many drawings are saved (by ``user``, or by everyone)."""
        import sqlalchemy as sa

        query = sa.select(sa.func.count()).select_from(DRAWINGS)
        if user is not None:
            query = query.where(DRAWINGS.c.user_name == user)
        return self._read(lambda conn: conn.execute(query).scalar(), 0)

    def stats(self, user: str | None = None) -> dict[str, Any]:
        """Counts: in all, per label, per source and per user (or for ``user`` alone)."""
        import sqlalchemy as sa

        def read(conn):
            out = {}
            for key, column in (("by_label", DRAWINGS.c.label), ("by_source", DRAWINGS.c.source)):
                query = sa.select(column, sa.func.count()).group_by(column).order_by(column)
                if user is not None:
                    query = query.where(DRAWINGS.c.user_name == user)
                out[key] = {str(k): n for k, n in conn.execute(query)}
            if user is None:
                query = sa.select(DRAWINGS.c.user_name, sa.func.count()).group_by(DRAWINGS.c.user_name)
                out["by_user"] = dict(sorted(conn.execute(query).all()))
            out["wrong"] = conn.execute(
                sa.select(sa.func.count())
                .select_from(DRAWINGS)
                .where(DRAWINGS.c.predicted != DRAWINGS.c.label)  # NULL (no answer recorded) is not counted
                .where(sa.true() if user is None else DRAWINGS.c.user_name == user)
            ).scalar()
            return out

        found = self._read(read, {"by_label": {}, "by_source": {}, "wrong": 0} | ({} if user else {"by_user": {}}))
        by_label = {str(d): found["by_label"].get(str(d), 0) for d in range(10)}
        return {"count": sum(by_label.values()), **found, "by_label": by_label}

    def drawings(self, user: str | None = None) -> Iterator[Drawing]:
        """Every saved drawing (by ``user``, or by everyone), oldest first."""
        import sqlalchemy as sa

        last = 0
        while True:  # a page at a time, by id: a large store never sits in memory whole
            query = sa.select(DRAWINGS).where(DRAWINGS.c.id > last).order_by(DRAWINGS.c.id).limit(PAGE)
            if user is not None:
                query = query.where(DRAWINGS.c.user_name == user)
            rows = self._read(lambda conn, q=query: conn.execute(q).all(), [])
            if not rows:
                return
            last = rows[-1].id
            yield from map(_drawing, rows)

    # writing

    def save(
        self,
        image: imageio.ImageLike,
        label: Any,
        *,
        prediction: Prediction | None = None,
        model_sha256: str | None = None,
        source: str = "cli",
        user: str | None = None,
    ) -> int:
        """Keep one drawing with its true ``label``; return its id.

        ``image`` is anything ``preprocess`` accepts: a whole canvas, or in number mode one digit's
        crop. ``prediction`` is what the model answered for it and ``model_sha256`` which model
        answered. Raises ``InvalidImage`` or ``InvalidDrawing`` for what cannot be kept,
        ``StoreFull`` at the size cap and ``StoreError`` when the database cannot be written.
        """
        import sqlalchemy as sa

        label = check_label(label)
        user = default_user() if user is None else clean_user(user)
        if source not in SOURCES:
            raise InvalidDrawing(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
        png = drawing_png(image)
        row = {
            "created": datetime.now(UTC),
            "user_name": user,
            "source": source,
            "label": label,
            "predicted": None if prediction is None else prediction.digit,
            "probabilities": None
            if prediction is None
            else json.dumps([round(p, 6) for p in prediction.probabilities]),
            "model_sha256": model_sha256,
            "image_sha256": hashlib.sha256(png).hexdigest(),
            "png": png,
        }

        def write(conn):
            count = conn.execute(sa.select(sa.func.count()).select_from(DRAWINGS)).scalar()
            if count >= self.max_drawings:
                raise StoreFull(
                    f"the drawing store is full: it holds {count:,} drawings, the most it may ({MAX_ENV}); "
                    "export them (python -m digitrec drawings export DIR) and start a new store, or raise the limit"
                )
            return conn.execute(DRAWINGS.insert().values(**row)).inserted_primary_key[0]

        return self._write(write)

    def has_image(self, png: bytes) -> bool:
        """Whether a drawing with exactly these PNG bytes is saved already (imports skip it)."""
        import sqlalchemy as sa

        digest = hashlib.sha256(png).hexdigest()
        query = sa.select(sa.func.count()).select_from(DRAWINGS).where(DRAWINGS.c.image_sha256 == digest)
        return bool(self._read(lambda conn: conn.execute(query).scalar(), 0))

    def migrate(self) -> int:
        """Bring the schema to the latest version (creating the store if needed); return it."""
        return self._write(lambda conn: schema_version(conn))

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # the machinery

    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = _make_engine(self.url)
        return self._engine

    def _exists(self) -> bool:
        return self.path is None or self.path.is_file()

    def _read(self, fn: Callable[[Connection], Any], empty: Any) -> Any:
        """``fn(conn)`` in a transaction; ``empty`` when there is no store yet (nothing is created)."""
        if not self._exists():
            return empty
        with self._errors(), self.engine().begin() as conn:
            version = schema_version(conn)
            if version == 0:
                return empty
            _check_version(version)
            return fn(conn)

    def _write(self, fn: Callable[[Connection], Any]) -> Any:
        """``fn(conn)`` in one write transaction, after any pending migration (first write only)."""
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._errors(), self.engine().begin() as conn:
            if not self._migrated:
                _migrate(conn)
                self._migrated = True
            return fn(conn)

    def _errors(self) -> contextlib.AbstractContextManager[None]:
        return _translate_errors(self)


def _drawing(r) -> Drawing:
    return Drawing(
        r.id,
        bytes(r.png),
        r.label,
        r.predicted,
        tuple(json.loads(r.probabilities)) if r.probabilities else None,
        r.model_sha256,
        r.source,
        r.user_name,
        r.created if r.created.tzinfo else r.created.replace(tzinfo=UTC),  # SQLite keeps no zone
    )


def _probabilities(prediction: Prediction | None) -> str | None:
    return None if prediction is None else json.dumps([round(p, 6) for p in prediction.probabilities])


def _check_version(version: int) -> None:
    if version > len(MIGRATIONS):
        raise StoreError(
            f"the drawing store has schema version {version}, newer than this digitrec knows "
            f"({len(MIGRATIONS)}): upgrade digitrec, or use another store (--db / {DB_ENV})"
        )


def _migrate(conn: Connection) -> None:
    """Apply the pending migrations in the caller's transaction, which holds the store's write lock
    (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock), so two servers starting together
    migrate once."""
    import sqlalchemy as sa

    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(20261130)"))
    version = schema_version(conn)
    _check_version(version)
    if version == 0:
        META.create_all(conn, tables=[SCHEMA])
        conn.execute(SCHEMA.insert().values(version=0))
    for number, (_, step) in enumerate(MIGRATIONS[version:], start=version + 1):
        step(conn)
        conn.execute(SCHEMA.update().values(version=number))


def _make_engine(url) -> Engine:
    import sqlalchemy as sa

    if url.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True, connect_args=_server_args(url))
    engine = sa.create_engine(url, connect_args={"timeout": LOCK_TIMEOUT_S, "check_same_thread": False})

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # the driver's own BEGIN handling off: ours is below
        cursor = dbapi_conn.cursor()
        cursor.execute(
            "PRAGMA journal_mode=WAL"
        )  # readers never block the writer; a killed writer loses nothing committed
        cursor.execute("PRAGMA synchronous=FULL")  # a saved correction survives a power cut too
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn):
        # IMMEDIATE: take the write lock at BEGIN, so a writer waits its turn (busy timeout) instead
        # of failing half-way when two transactions both try to upgrade a read lock.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _server_args(url) -> dict:
    return {"connect_timeout": 10} if url.get_backend_name() == "postgresql" else {}


@contextlib.contextmanager
def _translate_errors(store: Store) -> Iterator[None]:
    """Database errors -> ``StoreError`` with a message a person can act on (no URL, no password)."""
    import sqlalchemy as sa

    try:
        yield
    except sa.exc.SQLAlchemyError as exc:
        raise StoreError(_message(store, exc)) from None


def _message(store: Store, exc: Exception) -> str:
    import sqlalchemy as sa

    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    detail = lines[0] if lines else type(exc).__name__
    if store.path is not None:
        where = f"the drawing store {store.path}"
        if "locked" in detail or "busy" in detail:
            return f"{where} is locked by another program (waited {LOCK_TIMEOUT_S} s); try again"
        if "not a database" in detail or "malformed" in detail or "corrupt" in detail:
            return (
                f"{where} is damaged or not a drawing store ({detail}): move it away and a new store "
                f"will be made on the next save, or point {DB_ENV} elsewhere"
            )
        if "readonly" in detail or "unable to open" in detail:
            return f"{where} cannot be written ({detail}): check its folder's permissions, or set {DATA_ENV}"
        return f"{where} cannot be used ({detail})"
    if store.url.password:
        detail = detail.replace(store.url.password, "***")
    host = store.url.host or "localhost"
    if isinstance(exc, sa.exc.OperationalError):
        return f"cannot use the drawing store's database on {host} ({detail[:200]})"
    return f"the drawing store's database on {host} refused the request ({detail[:200]})"
