"""A training run's checkpoint and progress: where it is kept, which epoch a resumed run continues
from, and the line that says how far the run is and when it ends.

Keras's ``BackupAndRestore`` keeps the weights and the optimizer's state after each epoch, but not the
state of the layers' random generators (dropout's masks): ``SeedStates`` keeps those beside it, so a
run killed and resumed draws exactly what the uninterrupted run would have."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def checkpoint_dir(out: str | os.PathLike) -> Path:
    """Where a run's per-epoch checkpoint lives: beside the model, until the model is written."""
    out = Path(out)
    return out.with_name(out.stem + ".checkpoint")


def resumed_epoch(backup: Path) -> int:
    """The epoch a run checkpointed in ``backup`` continues from (0: none), as Keras's
    ``BackupAndRestore`` records it."""
    import json

    meta = backup / "training_metadata.json"
    try:
        return int(json.loads(meta.read_text()).get("epoch", 0))
    except (OSError, ValueError):
        return 0


class Progress:
    """A Keras callback (built lazily: this module imports no Keras at import time) that prints, every
    ``every`` seconds and at each epoch's end, where the run is, its speed in images per second and
    the time left: "epoch 3/24, step 400/780 | 1,234 img/s | ETA 1:23:45"."""

    def __new__(cls, epochs: int, steps: int, batch_size: int, every: float = 60.0, out=sys.stderr):
        import keras

        class _Progress(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                self.start, self.last, self.done = time.perf_counter(), 0.0, 0
                self.first_epoch = self.model._initial_epoch if hasattr(self.model, "_initial_epoch") else 0

            def on_epoch_begin(self, epoch, logs=None):
                self.epoch = epoch

            def on_train_batch_end(self, batch, logs=None):
                self.done += 1
                now = time.perf_counter()
                if now - self.last >= every:
                    self.last = now
                    self.report(batch + 1)

            def on_epoch_end(self, epoch, logs=None):
                self.report(steps, logs)

            def report(self, step: int, logs: dict | None = None) -> None:
                seconds = max(time.perf_counter() - self.start, 1e-9)
                rate = self.done / seconds  # batches per second in this process
                left = ((epochs - self.epoch - 1) * steps + steps - step) / max(rate, 1e-9)
                extra = "".join(f" | {k} {v:.4f}" for k, v in (logs or {}).items() if "accuracy" in k)
                eta = time.strftime("%H:%M:%S", time.gmtime(left)) if left < 86_400 else f"{left / 3600:.0f} h"
                print(
                    f"epoch {self.epoch + 1}/{epochs}, step {step}/{steps} | {rate * batch_size:,.0f} img/s"
                    f" | ETA {eta}{extra}",
                    file=out,
                    flush=True,
                )

        return _Progress()


def callbacks(backup: Path, epochs: int, steps: int, batch_size: int) -> list:
    """What ``fit`` needs to checkpoint each epoch into ``backup``, resume exactly, and show progress."""
    import keras

    return [keras.callbacks.BackupAndRestore(str(backup)), SeedStates(backup), Progress(epochs, steps, batch_size)]


class SeedStates:
    """A Keras callback keeping the state of every layer's random generator in ``backup`` after each
    epoch, and restoring it when a run resumes (after ``BackupAndRestore`` restored the weights)."""

    def __new__(cls, backup: Path):
        import keras

        path = Path(backup) / "seed_states.json"

        def generators(model) -> dict:
            found = {}
            for layer in model.layers:  # our networks are flat: no nested models
                generator = getattr(layer, "seed_generator", None)
                if generator is not None:
                    found[layer.name] = generator
            return found

        class _SeedStates(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                if path.is_file():
                    saved = json.loads(path.read_text())
                    for name, generator in generators(self.model).items():
                        if name in saved:
                            generator.state.assign(keras.ops.convert_to_tensor(saved[name], generator.state.dtype))

            def on_epoch_end(self, epoch, logs=None):
                states = {
                    name: keras.ops.convert_to_numpy(g.state).tolist() for name, g in generators(self.model).items()
                }
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(states))

        return _SeedStates()
