"""The drawing store: the drawings users confirmed or corrected, kept for fine-tuning.

``store`` is the ``Store`` itself; ``checks`` what it accepts, ``db`` where the database is and how
its errors read, ``schema`` the tables and their migrations.
"""

from digitrec.store.checks import (
    MAX_PNG_BYTES,
    MAX_USER,
    SOURCES,
    InvalidDrawing,
    check_label,
    clean_user,
    default_user,
    drawing_png,
    whole_number,
)
from digitrec.store.db import DATA_ENV, DB_ENV, FILE_NAME, LOCK_TIMEOUT_S, StoreError, data_dir, resolve
from digitrec.store.schema import DRAWINGS, META, MIGRATIONS, PER_USER, PERSONAL, SCHEMA, schema_version
from digitrec.store.store import MAX_DRAWINGS, MAX_ENV, ON_THE_SERVER, PAGE, Drawing, Store, StoreFull

__all__ = [
    "DATA_ENV",
    "DB_ENV",
    "DRAWINGS",
    "FILE_NAME",
    "LOCK_TIMEOUT_S",
    "MAX_DRAWINGS",
    "MAX_ENV",
    "MAX_PNG_BYTES",
    "MAX_USER",
    "META",
    "MIGRATIONS",
    "ON_THE_SERVER",
    "PAGE",
    "PER_USER",
    "PERSONAL",
    "SCHEMA",
    "SOURCES",
    "Drawing",
    "InvalidDrawing",
    "Store",
    "StoreError",
    "StoreFull",
    "check_label",
    "clean_user",
    "data_dir",
    "default_user",
    "drawing_png",
    "resolve",
    "schema_version",
    "whole_number",
]
