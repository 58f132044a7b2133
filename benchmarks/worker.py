"""Measurement child processes, both ends: ``python -m benchmarks.worker MODULE:FUNCTION [--tiny]``.

``FUNCTION(ctx)`` returns ``(candidates, info)``: named ``Candidate``s and a JSON-able dict. The
parent (``Worker``) then sends one JSON command per line on stdin and reads one JSON reply per
line from stdout:

    {"op": "ready"}                                    -> info
    {"op": "time", "name": N, "offset": i, "count": k} -> {"times": [seconds, ...]}
    {"op": "quit"}

A worker keeps TensorFlow out of the parent: its idle thread pools would otherwise share the CPU
with whatever the parent times next. The child times its own calls; the pipe adds nothing to them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import json
import subprocess
import sys
import tempfile
from typing import Any

from benchmarks.context import Context
from tests.harness.processes import PYTHON, ROOT, child_env


class Worker:
    """A measurement child process (``benchmarks.worker``) holding candidates of its own."""

    def __init__(self, target: str, ctx: Context, env: dict[str, str] | None = None):
        argv = [PYTHON, "-m", "benchmarks.worker", target] + (["--tiny"] if ctx.tiny else [])
        self.target = target
        self.stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in close(), it outlives this call)
        self.proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=child_env(env),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
        )
        self.info = self.call(op="ready")

    def call(self, **command: Any) -> dict:
        assert self.proc.stdin and self.proc.stdout
        try:
            self.proc.stdin.write(json.dumps(command) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        except BrokenPipeError:
            line = ""
        if not line:
            self.proc.wait(timeout=30)
            self.stderr.seek(0)
            raise RuntimeError(f"worker {self.target} died ({self.proc.returncode}):\n{self.stderr.read()[-3000:]}")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"worker {self.target}: {reply['error']}")
        return reply

    def candidate(self, name: str, n: int) -> Remote:
        return Remote(self, name, n)

    def close(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(RuntimeError, OSError, ValueError):
                self.call(op="quit")
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclasses.dataclass
class Remote:
    """A candidate that lives in a ``Worker``."""

    worker: Worker
    name: str
    n: int

    def measure(self, offset: int, count: int) -> list[float]:
        return self.worker.call(op="time", name=self.name, offset=offset, count=count)["times"]


def main(argv: list[str]) -> int:
    """The child's end: build the candidates, warm them up, answer commands until "quit"."""
    target, tiny = argv[0], "--tiny" in argv[1:]
    protocol = sys.stdout
    sys.stdout = sys.stderr  # stray prints (progress bars, warnings) must not corrupt the protocol
    module_name, func = target.split(":")
    try:
        candidates, info = getattr(importlib.import_module(module_name), func)(Context(tiny=tiny))
        for c in candidates.values():  # warm-up: first calls pay for caches, allocations, tracing
            if c.warmup:
                c.measure(0, c.warmup)
    except Exception as exc:
        candidates, info = {}, {"error": f"{type(exc).__name__}: {exc}"}

    def reply(obj: dict) -> None:
        protocol.write(json.dumps(obj) + "\n")
        protocol.flush()

    for line in sys.stdin:
        command = json.loads(line)
        op = command.get("op")
        if op == "ready":
            reply(info)
        elif op == "time":
            try:
                c = candidates[command["name"]]
                reply({"times": c.measure(command["offset"], command["count"])})
            except Exception as exc:
                reply({"error": f"{type(exc).__name__}: {exc}"})
        elif op == "quit":
            reply({})
            break
        else:
            reply({"error": f"unknown op {op!r}"})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
