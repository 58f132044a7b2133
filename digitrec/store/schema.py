"""The drawing store's tables and their versioned schema: a small ordered list of migrations
(``MIGRATIONS``), applied in one locked transaction on the first write."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from digitrec.store.checks import MAX_USER
from digitrec.store.db import DB_ENV, StoreError

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import Connection


def _drawing_columns() -> list[sa.Column]:
    """The drawings table's columns as version 1 made them: never edited (a change is a new step). A fresh
    list each call, as a column belongs to one table."""
    import sqlalchemy as sa

    return [
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
    ]


def _tables():
    import sqlalchemy as sa

    meta = sa.MetaData()
    version = sa.Table("digitrec_schema", meta, sa.Column("version", sa.Integer, nullable=False))
    drawings = sa.Table(
        "digitrec_drawings",
        meta,
        *_drawing_columns(),
        # Since version 3: a digit of a number whose ink could not be parted from a neighbour's
        # (``segment.Piece.touching``): it may hold a sliver of the neighbour, so fine-tuning leaves it out.
        sa.Column("touching", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    # A user's personal model ("Learn my handwriting"): one row a user, replaced by each Learn. ``model_id`` is
    # random (never the user's text): the name of its files in a server's local cache.
    personal = sa.Table(
        "digitrec_personal_models",
        meta,
        sa.Column("user_name", sa.String(MAX_USER), primary_key=True),
        sa.Column("model_id", sa.String(32), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("base_sha256", sa.String(64), nullable=False),  # the model it was fine-tuned from
        sa.Column("card", sa.Text, nullable=False),  # JSON
        sa.Column("keras", sa.LargeBinary, nullable=False),  # the weights, as a .keras file
        sa.Column("tflite", sa.LargeBinary, nullable=True),  # its LiteRT file
    )
    return meta, version, drawings, personal


META, SCHEMA, DRAWINGS, PERSONAL = _tables()

# Every table that holds rows of one user, each with a ``user_name`` column: ``delete_user`` (and so
# ``Store.forget``, "Forget me") empties them all of that user. A new per-user table (a personal model,
# say) joins this list in the migration step that creates it.
PER_USER: tuple[sa.Table, ...] = (DRAWINGS, PERSONAL)


def _create_v1(conn: Connection) -> None:
    # The drawings table as version 1 made it (DRAWINGS has grown since: step 3).
    import sqlalchemy as sa

    sa.Table(DRAWINGS.name, sa.MetaData(), *_drawing_columns()).create(conn)


def _create_v2(conn: Connection) -> None:
    # The personal models' table as PERSONAL describes it (the same rule as _create_v1's).
    META.create_all(conn, tables=[PERSONAL])


def _add_touching(conn: Connection) -> None:
    # Every drawing saved so far was kept without this knowledge: false, as a whole drawing's always is.
    import sqlalchemy as sa

    false = sa.false().compile(dialect=conn.dialect)  # SQLite: 0, PostgreSQL: false
    conn.execute(sa.text(f"ALTER TABLE {DRAWINGS.name} ADD COLUMN touching BOOLEAN NOT NULL DEFAULT {false}"))


# Each step moves the schema from version i to i + 1 and is never edited once released: a change
# is a new step. A plain list rather than Alembic: two tables, migrations applied by the apps
# themselves on first write (no alembic.ini, env.py or separate command to run), in the same
# transaction that records the new version.
MIGRATIONS: list[tuple[str, Callable[[Connection], None]]] = [
    ("the drawings table", _create_v1),
    ("the personal models table", _create_v2),
    ("the drawings' touching flag", _add_touching),
]
TOUCHING_SINCE = 3  # the version whose step added ``touching``


def schema_version(conn: Connection) -> int:
    """The store's schema version: 0 for an empty database."""
    import sqlalchemy as sa

    if not sa.inspect(conn).has_table(SCHEMA.name):
        return 0
    return conn.execute(sa.select(sa.func.max(SCHEMA.c.version))).scalar() or 0


def drawing_columns(conn: Connection) -> list:
    """What a read selects of DRAWINGS: every column, but ``touching`` as false in a store of a version
    before the step that added it (reads never migrate): none of its drawings was saved flagged."""
    import sqlalchemy as sa

    if schema_version(conn) >= TOUCHING_SINCE:
        return list(DRAWINGS.c)
    return [c for c in DRAWINGS.c if c.name != "touching"] + [sa.false().label("touching")]


def check_version(version: int) -> None:
    """Raises ``StoreError`` for a schema newer than ``MIGRATIONS`` knows (a newer digitrec's store)."""
    if version > len(MIGRATIONS):
        raise StoreError(
            f"the drawing store has schema version {version}, newer than this digitrec knows "
            f"({len(MIGRATIONS)}): upgrade digitrec, or use another store (--db / {DB_ENV})"
        )


def apply_migrations(conn: Connection) -> None:
    """Apply the pending migrations in the caller's transaction, which holds the store's write lock
    (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock), so two servers starting together
    migrate once."""
    import sqlalchemy as sa

    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(20261130)"))
    version = schema_version(conn)
    check_version(version)
    if version == 0:
        META.create_all(conn, tables=[SCHEMA])
        conn.execute(SCHEMA.insert().values(version=0))
    for number, (_, step) in enumerate(MIGRATIONS[version:], start=version + 1):
        step(conn)
        conn.execute(SCHEMA.update().values(version=number))


def delete_user(conn: Connection, user: str) -> dict[str, int]:
    """Delete every row of ``user`` from every table of ``PER_USER`` there is (an older store may lack the
    newer ones), in the caller's transaction; return {table: rows deleted}."""
    import sqlalchemy as sa

    present = sa.inspect(conn)
    return {
        table.name: conn.execute(table.delete().where(table.c.user_name == user)).rowcount
        for table in PER_USER
        if present.has_table(table.name)
    }
