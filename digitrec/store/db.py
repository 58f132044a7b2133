"""The drawing store's database: where it is (a URL, or the SQLite file in the user's data
directory), its SQLAlchemy engine (SQLite in WAL mode with an up-front write lock, or a server), and
its errors put into words a person can act on (``StoreError``: never a URL or a password)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from digitrec.paths import env_folder, why_not_written

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Engine

DB_ENV = "DIGITREC_DB"
DATA_ENV = "DIGITREC_DATA"
FILE_NAME = "drawings.sqlite3"
LOCK_TIMEOUT_S = 30  # how long a write waits for another writer before saying the store is locked


class StoreError(RuntimeError):
    """The store cannot be used: locked, corrupt, unreachable, or newer than this code. The message
    says what to do, and never holds a password."""


def data_dir() -> Path:
    """``$DIGITREC_DATA``, else the user's data directory (``~/.local/share/digitrec`` on Linux)."""
    return env_folder(DATA_ENV, user="data")


def resolve(db: str | os.PathLike | None = None) -> str:
    """A database URL from ``db`` (a URL, or a path to an SQLite file), else ``$DIGITREC_DB``, else
    the SQLite file in ``data_dir()``. ``postgresql://`` URLs get the psycopg driver."""
    chosen = str(db) if db else os.environ.get(DB_ENV) or str(data_dir() / FILE_NAME)
    if "://" not in chosen:
        return "sqlite:///" + str(Path(chosen).expanduser().resolve())
    if chosen.startswith(("postgresql://", "postgres://")):
        chosen = "postgresql+psycopg://" + chosen.split("://", 1)[1]
    return chosen


def parse_url(url: str) -> URL:
    """``url`` (as ``resolve`` gives it) parsed. A password holding an unencoded ``@`` is read as the
    person meant it (the credentials end at the host's ``@``), so that no part of it is ever taken
    for the host and shown. Raises ``StoreError`` for a URL that cannot be read (a port that is no
    number), without the URL: it may hold a password."""
    import sqlalchemy as sa

    scheme, _, rest = url.partition("://")
    if not scheme.startswith("sqlite"):
        first = rest.find("@")
        stops = [i for i in (rest.find("/", first + 1), rest.find("?", first + 1)) if i >= 0]
        end = min(stops, default=len(rest))
        last = rest.rfind("@", 0, end)
        _, colon, port = rest[last + 1 : end].rpartition("]")[2].partition(":")  # after an IPv6 address
        if colon and not (port.isascii() and port.isdigit()):
            raise StoreError(
                f"the drawing store's database URL ({DB_ENV} or --db) has a port that is not a number: {port[:20]!r}"
            )
        if 0 <= first < last:  # "user:p@ss@host": every "@" before the host's is the password's
            rest = rest[:last].replace("@", "%40") + rest[last:]
    try:
        return sa.engine.make_url(f"{scheme}://{rest}")
    except (ValueError, sa.exc.ArgumentError):
        raise StoreError(
            f"the drawing store's database URL ({DB_ENV} or --db) cannot be read: check its form"
        ) from None


def make_folder(path: Path) -> None:
    """The SQLite file's folder, made if missing. Raises ``StoreError`` naming the folder and why
    it cannot be made (a file on its way, no permission, a read-only file system...)."""
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        why = why_not_written(folder, exc)
        raise StoreError(
            f"the drawing store's folder {folder} cannot be made ({why}): point {DATA_ENV} or --db elsewhere"
        ) from None


def make_engine(url: URL) -> Engine:
    """The engine for ``url``: an SQLite file in WAL mode whose transactions take the write lock at
    BEGIN, or a database server whose pooled connections are checked before use."""
    import sqlalchemy as sa

    if url.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True, connect_args=_server_args(url))
    engine = sa.create_engine(url, connect_args={"timeout": LOCK_TIMEOUT_S, "check_same_thread": False})

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # the driver's own BEGIN handling off: ours is below
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer; a killed one loses nothing
        cursor.execute("PRAGMA synchronous=FULL")  # a saved correction survives a power cut too
        cursor.execute("PRAGMA secure_delete=ON")  # a deleted row's bytes are overwritten, not left in free space
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn):
        # IMMEDIATE: take the write lock at BEGIN, so a writer waits its turn (busy timeout) instead
        # of failing half-way when two transactions both try to upgrade a read lock.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def checkpoint(engine: Engine) -> bool:
    """SQLite: copy every page of the write-ahead log into the main file and truncate the log to
    nothing (``wal_checkpoint(TRUNCATE)``, waiting for readers up to the busy timeout), so that the
    old versions of pages it held (a deleted drawing's, say) are gone from the -wal file too. False
    when another connection still reads an older snapshot and the log could not be emptied."""
    import sqlite3

    import sqlalchemy as sa

    statement = "PRAGMA wal_checkpoint(TRUNCATE)"
    raw = engine.raw_connection()  # the driver's own, outside any transaction: a checkpoint cannot run in one
    try:
        busy, *_ = raw.driver_connection.execute(statement).fetchone()
    except sqlite3.Error as exc:  # as SQLAlchemy's own, for translate_errors
        raise sa.exc.OperationalError(statement, None, exc) from None
    finally:
        raw.close()
    return not busy


def _server_args(url: URL) -> dict:
    return {"connect_timeout": 10} if url.get_backend_name() == "postgresql" else {}


@contextlib.contextmanager
def translate_errors(url: URL, path: Path | None) -> Iterator[None]:
    """Database errors -> ``StoreError`` with a message a person can act on (no URL, no password);
    ``path`` is the SQLite file, None for a database server."""
    import sqlalchemy as sa

    try:
        yield
    except (sa.exc.SQLAlchemyError, UnicodeError) as exc:  # UnicodeError: a host name that cannot be looked up
        raise StoreError(_message(url, path, exc)) from None


def _message(url: URL, path: Path | None, exc: Exception) -> str:
    import sqlalchemy as sa

    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    detail = lines[0] if lines else type(exc).__name__
    if path is not None:
        where = f"the drawing store {path}"
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
    if url.password:
        detail = detail.replace(url.password, "***")
    host = url.host or "localhost"
    if isinstance(exc, UnicodeError):
        return (
            f"cannot use the drawing store's database on {host}: not a host name that can be looked up ({detail[:200]})"
        )
    if isinstance(exc, sa.exc.OperationalError):
        return f"cannot use the drawing store's database on {host} ({detail[:200]})"
    return f"the drawing store's database on {host} refused the request ({detail[:200]})"
