"""Train the line reader on rendered shards and write it with its card and LiteRT file. Top to bottom:

shards (``render``) -> batches fixed by (seed, pass) -> fit in chunks of ``chunk`` steps, each
checkpointed (BackupAndRestore: a killed run resumes exactly) with progress and ETA -> exact-match
rate on the validation writers' shards (greedy decoding) -> models/number_reader.keras + .json (the
card) + .tflite (builtin operators only), the flatbuffer checked to decode as the Keras model does ->
the number confidence's temperature fitted on the validation shards (``calibrate``), kept in the card.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from digitrec import card as model_card
from digitrec.engines import litert
from digitrec.paths import MODELS
from digitrec.segment.learned import KIND, greedy
from digitrec.segment.line import ink_frames
from digitrec.training.checkpoints import callbacks, checkpoint_dir, resumed_epoch
from digitrec.training.lines.calibrate import calibrate
from digitrec.training.lines.data import load_shards, make_batches

DEFAULT_OUT = MODELS / "number_reader.keras"
QUICK_NUMBERS, QUICK_VALIDATION = 300, 100  # --quick: a run of seconds, for tests


@dataclass
class LinesConfig:
    passes: int = 8  # times over the training shards
    batch_size: int = 64
    learning_rate: float = 2e-3  # peak of a cosine decay with warm-up
    chunk: int = 300  # steps between checkpoints: a Keras "epoch" (minutes, not the whole data)
    seed: int = 42
    quick: bool = False


def exact_rates(model, x: np.ndarray, texts: list[str]) -> dict[str, float]:
    """The share of numbers the model reads exactly, greedy-decoded: ``"all"``, and by length."""
    import keras

    logits = model.predict(x[..., None].astype(np.float32) / 255.0, batch_size=256, verbose=0)
    probs = keras.ops.convert_to_numpy(keras.ops.softmax(logits))
    read = ["".join(str(s.digit) for s in greedy(p[: ink_frames(strip)])) for p, strip in zip(probs, x, strict=True)]
    right = np.array([a == b for a, b in zip(read, texts, strict=True)])
    lengths = np.array([len(t) for t in texts])
    rates = {"all": round(float(right.mean()), 5)} if texts else {}
    rates.update({str(n): round(float(right[lengths == n].mean()), 5) for n in sorted(set(lengths.tolist()))})
    return rates


def train(
    data: str | os.PathLike,
    cfg: LinesConfig,
    validation: str | os.PathLike | None = None,
    out: str | os.PathLike = DEFAULT_OUT,
    resume: bool = False,
    verbose: int | str = "auto",
) -> dict:
    """Train on the shards in ``data`` (``validation``: the validation writers' shards, for the
    card's figure), write ``out`` (.keras), its card and its .tflite; return the card."""
    limit = QUICK_NUMBERS if cfg.quick else None
    x, y, _ = load_shards(data, limit)
    vx, _, vtexts = load_shards(validation, QUICK_VALIDATION if cfg.quick else None) if validation else (None, None, [])

    import keras

    from digitrec.training.lines.model import build_crnn, export_tflite

    keras.utils.set_random_seed(cfg.seed)
    steps_per_pass = max(1, len(x) // cfg.batch_size)
    total = steps_per_pass * cfg.passes
    chunk = min(cfg.chunk, total)
    epochs = math.ceil(total / chunk)
    backup = checkpoint_dir(out)
    if not resume and backup.exists():
        shutil.rmtree(backup)  # a fresh run never continues an old one by accident
    start_epoch = resumed_epoch(backup) if resume else 0
    if resume:
        print(f"--resume: continuing at chunk {start_epoch + 1} of {epochs} ({backup})", file=sys.stderr)
    warmup = min(steps_per_pass, 300) if total > 600 else 0
    lr = keras.optimizers.schedules.CosineDecay(
        cfg.learning_rate / 10, max(1, total - warmup), warmup_steps=warmup, warmup_target=cfg.learning_rate
    )
    model = build_crnn(lr)
    if verbose == "auto":
        verbose = 1 if sys.stdout.isatty() else 2
    start = time.perf_counter()
    history = model.fit(
        make_batches(x, y, cfg.batch_size, cfg.seed, start_epoch * chunk),
        epochs=epochs,
        steps_per_epoch=chunk,
        shuffle=False,  # the batches are already in the order (seed, pass) fixes
        verbose=verbose,
        callbacks=callbacks(backup, epochs, chunk, cfg.batch_size),
    )
    seconds = time.perf_counter() - start
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    inference = keras.Model.from_config(model.get_config())  # weights only: no optimizer state
    inference.set_weights(model.get_weights())
    inference.save(out)
    flat = export_tflite(out, out.with_suffix(".tflite"))
    _check_flatbuffer(flat, model, x[:8])
    card = {
        "kind": KIND,
        "file": out.name,
        "sha256": model_card.sha256(out),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "architecture": "CRNN: 5 conv3x3+BN blocks, bidirectional GRU 96, dense 11 (CTC, blank last)",
        "parameters": int(model.count_params()),
        "input": "(1, 32, 256, 1) float32 in [0, 1]: the number's ink strip (digitrec.segment.line)",
        "output": "(1, 64, 11) per-frame probabilities: digits 0-9, then CTC's blank",
        "decoding": "greedy (digitrec.segment.learned.greedy)",
        "validation_exact": exact_rates(model, vx, vtexts) if vx is not None else None,
        "training": {
            **asdict(cfg),
            "numbers": int(len(x)),
            "steps": int(epochs * chunk),
            "seconds": round(seconds, 1),
            "images_per_second": round((epochs - start_epoch) * chunk * cfg.batch_size / max(seconds, 1e-9), 1),
            "history": {k: [round(float(v), 5) for v in vals] for k, vals in history.history.items()},
            "data": _manifest(data),
            "validation_data": _manifest(validation) if validation else None,
        },
        "tflite": {"file": flat.name, "sha256": model_card.sha256(flat), "source_sha256": model_card.sha256(out)},
        "versions": model_card.versions(),
    }
    model_card.write(out, card)
    if validation is not None and litert.available():
        card = calibrate(flat, validation, QUICK_VALIDATION if cfg.quick else None)
    shutil.rmtree(backup, ignore_errors=True)  # the run finished: nothing left to resume
    return card


def _check_flatbuffer(flat: Path, model, strips: np.ndarray) -> None:
    """Refuse a flatbuffer whose frames differ from the Keras model's on a few training strips."""
    import keras

    from digitrec.segment.learned import LineNet

    if not litert.available():
        print(f"warning: {flat.name} not checked: the ai-edge-litert package is not installed", file=sys.stderr)
        return
    net = LineNet(flat)
    want = keras.ops.convert_to_numpy(keras.ops.softmax(model(strips[..., None].astype(np.float32) / 255.0)))
    worst = max(float(np.abs(net(s) - w).max()) for s, w in zip(strips, want, strict=True))
    if worst > 1e-3:
        raise RuntimeError(f"{flat} answers up to {worst:.2g} away from the Keras model: not written right")


def _manifest(folder: str | os.PathLike) -> dict | None:
    """The shards' manifest, its writers kept as ``real_handwriting.writers`` (``card.trained_writers``)."""
    path = Path(folder) / "manifest.json"
    if not path.is_file():
        return None
    manifest = json.loads(path.read_text())
    manifest["real_handwriting"] = {"writers": manifest.pop("writers", [])}
    return manifest
