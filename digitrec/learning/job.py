"""One "Learn my handwriting": fine-tune on a user's saved drawings and keep the result as their personal model.

    learn("ana", db=None, model=None, progress=lambda fraction, phase: ...)   # -> what the front ends show

What ``python -m digitrec learn`` runs, in the foreground or as the apps' worker process: it imports
TensorFlow (``digitrec.training``), so the apps never call it themselves (``digitrec.learning.queue``).
The new model is written to a temporary folder, then saved in the store in one transaction, replacing the
previous one only then: a fine-tune that fails or is killed leaves the user's previous model answering.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from digitrec import card as model_card
from digitrec.paths import model_path
from digitrec.store import Store, clean_user
from digitrec.store.personal import save_personal

MIN_DRAWINGS = 10  # fewer, and a fine-tune learns noise: the front ends refuse before any work
STEPS_ENV = "DIGITREC_LEARN_STEPS"  # the fine-tune's training steps (default: the recipe's); tests make it tiny
FOLDS_ENV = "DIGITREC_LEARN_FOLDS"  # cross-validation folds for the "before / after" on the user's drawings
# Of those folds, how many are fine-tuned: each is another fine-tune, so the app's Learn holds one out
# (a third of 30 drawings, say) and says so, where `finetune` runs them all.
FOLD_RUNS = 1
# What the stored card leaves out: the user's name and where the store is (a cached copy lies on disk).
PRIVATE = ("user", "users", "store")


class TooFewDrawings(ValueError):
    """A user has saved too few drawings to learn from."""

    def __init__(self, user: str, count: int) -> None:
        more = MIN_DRAWINGS - count
        super().__init__(
            f"Learning needs at least {MIN_DRAWINGS} saved drawings; {user} has {count}: draw, then press "
            f"Right or Wrong, it was _ on {more} more."
        )


def check_enough(user: str, count: int) -> None:
    """Raises ``TooFewDrawings`` when ``count`` saved drawings are too few to learn ``user``'s hand."""
    if count < MIN_DRAWINGS:
        raise TooFewDrawings(user, count)


def env_int(name: str) -> int | None:
    value = os.environ.get(name, "").strip()
    return int(value) if value.isdigit() else None


def learn(
    user: str,
    db: str | os.PathLike | None = None,
    model: str | os.PathLike | None = None,
    *,
    steps: int | None = None,
    folds: int | None = None,
    progress: Callable[[float, str], None] | None = None,
    include_touching: bool = False,
) -> dict:
    """Fine-tune ``model`` (default: the shipped one) on ``user``'s saved drawings in ``db`` and keep it as
    their personal model; return the figures: ``before`` and ``after`` (their drawings, on one held-out
    cross-validation fold when few; MNIST test; the validation writers), ``figure`` (how the drawings'
    figure was measured), ``model_id``, ``seconds``, ``phases`` (the seconds each phase took) and
    ``touching_left_out`` (digits saved touching a neighbour, left out unless ``include_touching``:
    ``finetune``'s rule). Raises ``InvalidDrawing`` (the name), ``TooFewDrawings``, ``StoreError``,
    ``ModelError`` and ``DataError`` (no MNIST for the replay)."""
    user = clean_user(user)
    with Store.open(db) as store:
        check_enough(user, store.count(user))
    from digitrec.training.finetune import FinetuneConfig, finetune  # TensorFlow: only once there is work

    base = model_path(model)
    cfg = FinetuneConfig()
    steps = steps if steps is not None else env_int(STEPS_ENV)
    if steps:
        cfg.steps = steps
    folds = folds if folds is not None else env_int(FOLDS_ENV)
    with tempfile.TemporaryDirectory(prefix="digitrec-learn-") as tmp:
        out = Path(tmp) / "personal.keras"
        report = finetune(
            cfg,
            out=out,
            db=db,
            user=user,
            base=base,
            folds=folds,
            progress=progress,
            fold_runs=FOLD_RUNS,
            include_touching=include_touching,
        )
        flat = out.with_suffix(".tflite")
        card = private(model_card.read(out) or {})
        tflite = flat.read_bytes() if flat.is_file() else None
        with Store.open(db) as store:
            info = save_personal(store, user, out.read_bytes(), tflite, card, model_card.sha256(base))
    return {
        "model_id": info.model_id,
        "drawings": report["saved"]["drawings"],
        "touching_left_out": report["saved"]["touching_left_out"],
        "before": report["before"],
        "after": report["after"],
        "figure": report["saved_figure"],
        "kept_old_weights": report.get("kept_old_weights", 0.0),
        "seconds": report["seconds"],
        "phases": report["phases"],
    }


def private(value):
    """``value`` (a card) without the keys of ``PRIVATE`` at any depth."""
    if isinstance(value, dict):
        return {k: private(v) for k, v in value.items() if k not in PRIVATE}
    if isinstance(value, list):
        return [private(v) for v in value]
    return value
