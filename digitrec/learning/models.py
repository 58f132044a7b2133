"""Who answers a user: their personal model after "Learn my handwriting", else the app's own.

    personal = PersonalModels(predictor, lambda: store)
    personal.get("ana")        # (ana's Predictor, her memory on it), or None: the app's model answers her
    personal.outdated("ana")   # True: her model was learnt from another base model; she is told OUTDATED

A personal model lives in the drawing store (``digitrec.store.personal``); each server copies its files
once into a local folder (``$DIGITREC_PERSONAL_DIR``, else ``personal-models`` in the data folder), under
the model's random id, never the user's text, and loads it as any model (LiteRT when its card lists the
file, else the NumPy engine; never TensorFlow). The loaded ones are kept in an LRU by that id, each with
its users' memories (``digitrec.memory``) built on its own hidden layer. Which model a user has is looked
up in the store at most every ``LOOKUP_S`` seconds, so a model learnt on another server answers soon.
"""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from digitrec import card as model_card
from digitrec.memory import Memories, Memory
from digitrec.paths import env_folder
from digitrec.predict import ModelError, Predictor
from digitrec.store import Store, data_dir
from digitrec.store.personal import PersonalInfo, personal_info, personal_model

DIR_ENV = "DIGITREC_PERSONAL_DIR"
OUTDATED = "the app's model changed: press Learn again"
LOOKUP_S = 2.0  # how long a user's lookup is trusted before the store is asked again
MODEL_FILE = "model.keras"


def personal_dir() -> Path:
    """Where personal models' files are cached: ``$DIGITREC_PERSONAL_DIR``, else the data folder's
    ``personal-models``."""
    return env_folder(DIR_ENV) or data_dir() / "personal-models"


def write_files(folder: Path, model_id: str, keras: bytes, tflite: bytes | None, card: dict) -> Path:
    """``folder/<model_id>/model.keras`` (+ its card and LiteRT file), written whole or not at all (a
    temporary folder renamed into place: two servers may write the same id at once); the .keras path."""
    target = folder / model_id
    if not (target / MODEL_FILE).is_file():
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".partial-{uuid.uuid4().hex}"
        partial.mkdir()
        card = dict(card, file=MODEL_FILE)
        (partial / MODEL_FILE).write_bytes(keras)
        if tflite is not None and card.get("tflite"):
            card["tflite"] = dict(card["tflite"], file="model.tflite")
            (partial / "model.tflite").write_bytes(tflite)
        else:
            card.pop("tflite", None)
        model_card.write(partial / MODEL_FILE, card)
        try:
            partial.rename(target)
        except OSError:  # there already: another server's copy of the same files
            shutil.rmtree(partial, ignore_errors=True)
    return target / MODEL_FILE


def base_sha256(predictor: Predictor) -> str:
    """The SHA-256 of the model file ``predictor`` answers with: what a personal model must be learnt from."""
    return model_card.sha256(predictor.path)


class PersonalModels:
    """Each user's personal model, as a loaded ``Predictor`` with the memories of its user; thread-safe."""

    def __init__(
        self,
        base: Predictor,
        store: Callable[[], Store],
        drawings: Callable[[str], Iterable[Any]] | None = None,
        folder: Path | None = None,
        size: int = 8,
    ) -> None:
        self.base = base
        self.store = store
        self.drawings = drawings or (lambda user: store().drawings(user=user))
        self.folder = folder
        self.size = size
        self._base_sha256: str | None = None
        self._lookups: dict[str, tuple[float, PersonalInfo | None]] = {}
        self._loaded: OrderedDict[str, tuple[Predictor, Memories]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def base_sha256(self) -> str:
        if self._base_sha256 is None:
            self._base_sha256 = base_sha256(self.base)
        return self._base_sha256

    def info(self, user: str) -> PersonalInfo | None:
        """``user``'s personal model in the store (looked up at most every ``LOOKUP_S`` s), or None."""
        now = time.monotonic()
        with self._lock:
            found = self._lookups.get(user)
        if found is not None and now - found[0] < LOOKUP_S:
            return found[1]
        info = personal_info(self.store(), user)
        with self._lock:
            self._lookups[user] = (now, info)
            if len(self._lookups) > 4096:  # a long-running server meets many names: keep the lookups few
                self._lookups.pop(next(iter(self._lookups)))
        return info

    def outdated(self, user: str) -> bool:
        """Whether ``user``'s personal model was learnt from another model than the one answering now."""
        info = self.info(user)
        return info is not None and info.base_sha256 != self.base_sha256

    def get(self, user: str) -> tuple[Predictor, Memory | None] | None:
        """``user``'s personal model and their memory on it, or None: they have none, or an outdated one.
        Raises ``StoreError`` and ``ModelError`` (files that cannot be loaded)."""
        info = self.info(user)
        if info is None or info.base_sha256 != self.base_sha256:
            return None
        predictor, memories = self._load(info)
        return predictor, memories.get(user)

    def add(self, user: str, png: bytes, label: int) -> None:
        """``user`` saved ``png`` as ``label``: the memory on their loaded personal model has it at once."""
        for memories in self._memories_of(user):
            memories.add(user, png, label)

    def drop(self, user: str) -> None:
        """Forget what is known of ``user`` (a new model learnt, or the user forgotten): asked again next time."""
        with self._lock:
            self._lookups.pop(user, None)
        for memories in self._memories_of(user):
            memories.drop(user)

    def forget(self, user: str, delete: Callable[[], int]) -> int:
        """ "Forget me": run ``delete()`` (``Store.forget``: the user's rows, their personal model's included),
        then remove that model's files cached here and its loaded copy; what ``delete`` returned."""
        self.drop(user)
        info = self.info(user)
        deleted = delete()
        self.drop(user)
        self.purge(info and info.model_id)
        return deleted

    def purge(self, model_id: str | None) -> None:
        """Remove a personal model's cached files and loaded copy ("Forget me", or a newer model learnt)."""
        if not model_id or not model_id.isalnum():
            return
        with self._lock:
            self._loaded.pop(model_id, None)
        shutil.rmtree(self._folder() / model_id, ignore_errors=True)

    def _folder(self) -> Path:
        return self.folder or personal_dir()

    def _memories_of(self, user: str) -> list[Memories]:
        with self._lock:
            found = self._lookups.get(user)
            loaded = self._loaded.get(found[1].model_id) if found and found[1] else None
        return [loaded[1]] if loaded else []

    def _load(self, info: PersonalInfo) -> tuple[Predictor, Memories]:
        with self._lock:
            loaded = self._loaded.get(info.model_id)
            if loaded is not None:
                self._loaded.move_to_end(info.model_id)
                return loaded
        path = self._folder() / info.model_id / MODEL_FILE
        try:
            predictor = Predictor.load(path, verify=True) if path.is_file() else None
        except ModelError:  # a damaged copy: written again from the store
            shutil.rmtree(path.parent, ignore_errors=True)
            predictor = None
        if predictor is None:
            model = personal_model(self.store(), info.user)
            if model is None or model.model_id != info.model_id:
                raise ModelError("the personal model changed while it was loaded: ask again")
            path = write_files(self._folder(), model.model_id, model.keras, model.tflite, model.card)
            predictor = Predictor.load(path, verify=True)
        predictor.personal_user = info.user  # whose it is: a newer model of theirs replaces it
        loaded = (predictor, Memories(predictor, self.drawings))
        with self._lock:
            stale = [k for k, (p, _) in self._loaded.items() if k != info.model_id and _owner(p) == info.user]
            self._loaded[info.model_id] = loaded
            self._loaded.move_to_end(info.model_id)
            while len(self._loaded) > self.size:
                self._loaded.popitem(last=False)
        for model_id in stale:  # the same user's older model: replaced by this one
            self.purge(model_id)
        return loaded


def _owner(predictor: Predictor) -> str | None:
    """The user a loaded personal model belongs to (kept in memory only, on the predictor)."""
    return getattr(predictor, "personal_user", None)


def remove_cached(model_id: str | None, folder: Path | None = None) -> None:
    """Remove a personal model's cached files from this machine (``drawings delete`` does, for the CLI)."""
    if model_id and model_id.isalnum():
        shutil.rmtree((folder or personal_dir()) / model_id, ignore_errors=True)
