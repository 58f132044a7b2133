"""Looking inside a drawing store from outside it: what a "forget me" must leave no trace in.

sqlite_bytes(path)               # the SQLite file and its write-ahead log, as they are on disk
postgres_rows_holding(url, text) # {table: rows whose text form holds text}, every table of the database
"""

from __future__ import annotations

import os
from pathlib import Path


def sqlite_bytes(path: str | os.PathLike) -> bytes:
    """Every byte of the SQLite file at ``path`` and of its ``-wal`` beside it (when there is one)."""
    path = Path(path)
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def postgres_rows_holding(url: str, text: str) -> dict[str, int]:
    """{table: count} of the rows, in every table of the database's own schemas, whose text form (every
    column, bytea as hex) holds ``text``: tables with none are left out, so ``{}`` means nowhere."""
    import psycopg
    from psycopg import sql

    found: dict[str, int] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
            "AND table_schema NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
        for schema, table in tables:
            query = sql.SQL("SELECT count(*) FROM {t} AS r WHERE strpos(r::text, %s) > 0").format(
                t=sql.Identifier(schema, table)
            )
            count = conn.execute(query, (text,)).fetchone()[0]
            if count:
                found[f"{schema}.{table}"] = count
    return found
