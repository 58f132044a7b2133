"""The drawing store: the drawings users confirmed or corrected, kept for fine-tuning.

    store = Store.open()                    # $DIGITREC_DB, else an SQLite file under $DIGITREC_DATA
    store.save(image, 7, prediction=p, model_sha256=..., source="flask", user="ana")
    store.count(), store.stats(), store.drawings(user="ana")
    store.forget("ana")                     # "Forget me": every row of ana's gone, bytes included

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
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from digitrec import imageio
from digitrec.store.checks import (
    check_label,
    check_source,
    clean_user,
    default_user,
    drawing_png,
)
from digitrec.store.db import (
    StoreError,
    checkpoint,
    make_engine,
    make_folder,
    parse_url,
    resolve,
    translate_errors,
)
from digitrec.store.schema import (
    DRAWINGS,
    apply_migrations,
    check_version,
    delete_user,
    drawing_columns,
    schema_version,
)

if TYPE_CHECKING:  # the store works without a model; front ends pass what the predictor said
    from sqlalchemy.engine import Connection, Engine

    from digitrec.predict import Prediction


MAX_ENV = "DIGITREC_MAX_DRAWINGS"
MAX_DRAWINGS = 100_000  # a person corrects a few hundred; 100,000 is a large shared store (~1 GB)
PAGE = 500  # drawings read at a time
# What a remote user is told: the server's paths and the database's address are not theirs to know.
ON_THE_SERVER = "on the server"


class StoreFull(StoreError):
    """The store holds as many drawings as its limit allows."""


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
    touching: bool = False  # a digit of a number whose ink could not be parted from a neighbour's


# --- the store -----------------------------------------------------------------------------------


class Store:
    """A drawing store at a database URL. Thread-safe; open one per process with ``Store.open``."""

    def __init__(self, url: str, max_drawings: int | None = None) -> None:
        self.url = parse_url(url)
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

        def page(conn, after: int) -> list:
            # The columns as this store has them: one not migrated yet lacks the newer ones (reads never migrate).
            query = sa.select(*drawing_columns(conn)).where(DRAWINGS.c.id > after).order_by(DRAWINGS.c.id)
            if user is not None:
                query = query.where(DRAWINGS.c.user_name == user)
            return conn.execute(query.limit(PAGE)).all()

        last = 0
        while True:  # a page at a time, by id: a large store never sits in memory whole
            rows = self._read(lambda conn, after=last: page(conn, after), [])
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
        touching: bool = False,
    ) -> int:
        """Keep one drawing with its true ``label``; return its id.

        ``image`` is anything ``preprocess`` accepts: a whole canvas, or in number mode one digit's
        crop. ``prediction`` is what the model answered for it and ``model_sha256`` which model
        answered. ``touching``: a digit whose ink could not be parted from its neighbour's
        (``segment.Piece.touching``), which fine-tuning leaves out by default. Raises ``InvalidImage``
        or ``InvalidDrawing`` for what cannot be kept, ``StoreFull`` at the size cap and ``StoreError``
        when the database cannot be written.
        """
        import sqlalchemy as sa

        label = check_label(label)
        user = default_user() if user is None else clean_user(user)
        source = check_source(source)
        png = drawing_png(image)
        row = {
            "created": datetime.now(UTC),
            "user_name": user,
            "source": source,
            "label": label,
            "predicted": None if prediction is None else prediction.digit,
            "probabilities": _probabilities(prediction),
            "model_sha256": model_sha256,
            "image_sha256": hashlib.sha256(png).hexdigest(),
            "png": png,
            "touching": bool(touching),
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

    def forget(self, user: str) -> int:
        """ "Forget me": delete everything of ``user`` (every drawing, and every row of the other per-user
        tables, ``schema.PER_USER``) in one transaction; return how many drawings were deleted.

        SQLite overwrites the deleted rows' bytes (``secure_delete``), then empties its write-ahead log
        into the main file (``wal_checkpoint(TRUNCATE)``): neither file holds the user's name or drawings
        afterwards. PostgreSQL frees their space at its next VACUUM. A store that is not there is not
        made. Raises ``InvalidDrawing`` for a user name that cannot be saved, ``StoreError`` when the
        store cannot be written, or when its log cannot be emptied (another program reads it: run it again).
        """
        user = clean_user(user)
        deleted = self._read(lambda conn: delete_user(conn, user)[DRAWINGS.name], 0)
        if self.path is not None and self._exists():
            with self._errors():
                emptied = checkpoint(self.engine())
            if not emptied:
                raise StoreError(
                    f"deleted {deleted} drawings of {user}, but another program is reading {self.path}: "
                    "their bytes stay in its -wal file until it lets go; run this again"
                )
        return deleted

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
            self._engine = make_engine(self.url)
        return self._engine

    def _exists(self) -> bool:
        return self.path is None or self.path.is_file()

    def _read(self, fn: Callable[[Connection], Any], empty: Any) -> Any:
        """``fn(conn)`` in a transaction; ``empty`` when there is no store yet (nothing is created). A
        transaction that may write too (SQLite's BEGIN IMMEDIATE): ``forget`` deletes in it."""
        if not self._exists():
            return empty
        with self._errors(), self.engine().begin() as conn:
            version = schema_version(conn)
            if version == 0:
                return empty
            check_version(version)
            return fn(conn)

    def _write(self, fn: Callable[[Connection], Any]) -> Any:
        """``fn(conn)`` in one write transaction, after any pending migration (first write only)."""
        if self.path is not None:
            make_folder(self.path)
        migrating = not self._migrated
        with self._errors(), self.engine().begin() as conn:
            if migrating:
                apply_migrations(conn)
            result = fn(conn)
        # Only once committed: a thread that skipped migrating before then would write to tables
        # other connections cannot see yet (PostgreSQL).
        self._migrated = True
        return result

    def _errors(self) -> contextlib.AbstractContextManager[None]:
        return translate_errors(self.url, self.path)


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
        bool(r.touching),
    )


def _probabilities(prediction: Prediction | None) -> str | None:
    return None if prediction is None else json.dumps([round(p, 6) for p in prediction.probabilities])
