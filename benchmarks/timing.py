"""Timing calls in this process, and in interleaved rounds across several candidates.

Timings on a shared machine are noisy, so every speed figure is a ratio against a baseline timed
in the same run, and candidates are measured in interleaved rounds (baseline, candidate, baseline,
candidate...) so that a burst of load from elsewhere hits all of them alike.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol


def time_calls(fn: Callable[[int], Any], n: int) -> list[float]:
    """Seconds for each of ``n`` calls ``fn(i)``."""
    out = []
    clock = time.perf_counter
    for i in range(n):
        start = clock()
        fn(i)
        out.append(clock() - start)
    return out


class Timed(Protocol):
    """Anything ``interleaved`` can time: a ``Candidate`` here, or a ``worker.Remote`` in a child."""

    n: int

    def measure(self, offset: int, count: int) -> list[float]: ...


@dataclasses.dataclass
class Candidate:
    """Something to time in this process: ``fn(i)`` called ``n`` times in all, inside ``context()``."""

    fn: Callable[[int], Any]
    n: int
    context: Callable[[], contextlib.AbstractContextManager] | None = None
    warmup: int = 3  # untimed calls first (caches, allocations, tracing)

    def measure(self, offset: int, count: int) -> list[float]:
        with self.context() if self.context else contextlib.nullcontext():
            return time_calls(lambda i: self.fn(offset + i), count)


def interleaved(candidates: Mapping[str, Timed], rounds: int, warmup: int = 3) -> dict[str, list[float]]:
    """Time every candidate, its calls split over ``rounds`` rounds taken in turn.

    Returns name -> seconds per call, in call order (call i got argument i). Local candidates get
    ``warmup`` untimed calls first; workers warm theirs up when they start.
    """
    times: dict[str, list[float]] = {name: [] for name in candidates}
    for c in candidates.values():
        if isinstance(c, Candidate) and min(warmup, c.warmup):
            c.measure(0, min(warmup, c.warmup))
    for r in range(rounds):
        for name, c in candidates.items():
            share = c.n // rounds + (1 if r < c.n % rounds else 0)
            if share:
                times[name] += c.measure(len(times[name]), share)
    return times
