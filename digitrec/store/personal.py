"""Personal models in the drawing store: each user's fine-tuned model ("Learn my handwriting"), kept
beside their drawings so that every server sharing the store serves it, and forgotten with them.

    model_id = save_personal(store, "ana", keras_bytes, tflite_bytes, card, base_sha256)
    personal_info(store, "ana")    # -> PersonalInfo(model_id, base_sha256, created, card), without the files
    personal_model(store, "ana")   # -> PersonalModel: the same and the files' bytes

One row a user, replaced by each Learn in one transaction: a fine-tune that fails or is killed before
it saves leaves the previous model. ``model_id`` is random, never the user's text: servers name their
cached copies of the files by it. ``Store.forget`` (``schema.PER_USER``) deletes the row with the user's
drawings. Like every write, the first save migrates an older store (schema version 2 adds the table).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from digitrec.store.checks import clean_user
from digitrec.store.schema import PERSONAL

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from digitrec.store.store import Store


@dataclass(frozen=True)
class PersonalInfo:
    """Which personal model a user has, without its bytes."""

    user: str
    model_id: str  # random hex: the name of its files in a local cache
    base_sha256: str  # the model it was fine-tuned from: it is used only while that one answers
    created: datetime
    card: dict  # the fine-tune's card: its figures before and after


@dataclass(frozen=True)
class PersonalModel(PersonalInfo):
    """A personal model with its files: the .keras weights and the LiteRT file (or None)."""

    keras: bytes
    tflite: bytes | None


def save_personal(
    store: Store, user: str, keras: bytes, tflite: bytes | None, card: dict, base_sha256: str
) -> PersonalInfo:
    """Keep ``user``'s new personal model in place of their previous one (one transaction); return its info.
    Raises ``InvalidDrawing`` for a name that cannot be saved and ``StoreError`` when the store refuses."""
    user = clean_user(user)
    info = PersonalInfo(user, uuid.uuid4().hex, base_sha256, datetime.now(UTC), card)
    row = {
        "user_name": user,
        "model_id": info.model_id,
        "created": info.created,
        "base_sha256": base_sha256,
        "card": json.dumps(card),
        "keras": keras,
        "tflite": tflite,
    }

    def write(conn: Connection) -> PersonalInfo:
        conn.execute(PERSONAL.delete().where(PERSONAL.c.user_name == user))
        conn.execute(PERSONAL.insert().values(**row))
        return info

    return store._write(write)


def personal_info(store: Store, user: str) -> PersonalInfo | None:
    """``user``'s personal model (without its bytes), or None: they have none, or the store predates the table."""
    import sqlalchemy as sa

    columns = (PERSONAL.c.user_name, PERSONAL.c.model_id, PERSONAL.c.base_sha256, PERSONAL.c.created, PERSONAL.c.card)
    row = _one(store, sa.select(*columns).where(PERSONAL.c.user_name == clean_user(user)))
    if row is None:
        return None
    return PersonalInfo(row.user_name, row.model_id, row.base_sha256, _utc(row.created), json.loads(row.card))


def personal_model(store: Store, user: str) -> PersonalModel | None:
    """``user``'s personal model with its files, or None."""
    import sqlalchemy as sa

    row = _one(store, sa.select(PERSONAL).where(PERSONAL.c.user_name == clean_user(user)))
    if row is None:
        return None
    return PersonalModel(
        row.user_name,
        row.model_id,
        row.base_sha256,
        _utc(row.created),
        json.loads(row.card),
        bytes(row.keras),
        None if row.tflite is None else bytes(row.tflite),
    )


def _one(store: Store, query):
    import sqlalchemy as sa

    def read(conn: Connection):
        if not sa.inspect(conn).has_table(PERSONAL.name):  # a store of schema version 1, not written since
            return None
        return conn.execute(query).first()

    return store._read(read, None)


def _utc(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=UTC)  # SQLite keeps no zone
