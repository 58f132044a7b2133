"""A measurement child: ``python -m benchmarks.worker MODULE:FUNCTION [--tiny]``.

``FUNCTION(ctx)`` returns ``(candidates, info)``: named ``Candidate``s and a JSON-able dict. The
parent (``common.Worker``) then sends one JSON command per line on stdin and reads one JSON reply
per line from stdout:

    {"op": "ready"}                                    -> info
    {"op": "time", "name": N, "offset": i, "count": k} -> {"times": [seconds, ...]}
    {"op": "quit"}
"""

from __future__ import annotations

import importlib
import json
import sys

from benchmarks.common import Context


def main(argv: list[str]) -> int:
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
