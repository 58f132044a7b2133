"""How the report writes figures: times, rates, sizes, load averages and ratios to a baseline.

Every function takes NaN (not measured) and writes it as "n/a".
"""

from __future__ import annotations

from collections.abc import Sequence


def fmt_ms(seconds: float) -> str:
    """Seconds as milliseconds with three significant figures: 0.412 ms, 1.93 ms, 103 ms."""
    if seconds != seconds:  # NaN
        return "n/a"
    ms = seconds * 1e3
    if ms >= 100:
        return f"{ms:.0f} ms"
    if ms >= 10:
        return f"{ms:.1f} ms"
    return f"{ms:.2f} ms" if ms >= 1 else f"{ms:.3f} ms"


def fmt_s(seconds: float) -> str:
    return "n/a" if seconds != seconds else f"{seconds:.2f} s"


def fmt_rate(per_second: float, unit: str = "/s") -> str:
    if per_second != per_second:
        return "n/a"
    return f"{per_second:,.0f}{unit}" if per_second >= 100 else f"{per_second:.1f}{unit}"


def fmt_mib(nbytes: float) -> str:
    return "n/a" if nbytes != nbytes else f"{nbytes / 2**20:,.0f} MiB"


def fmt_load(load: Sequence[float] | None) -> str:
    """A load average (1/5/15 min) as '0.42/0.50/0.61'; '?' when unknown."""
    return "/".join(f"{x:.2f}" for x in load) if load else "?"


def speedup(baseline: float, value: float) -> str:
    """How many times faster ``value`` (a time) is than ``baseline`` (a time): '52x faster'."""
    if not (baseline == baseline and value == value) or value <= 0:
        return "n/a"
    r = baseline / value
    if 0.95 <= r <= 1.05:
        return "1.0x (same)"
    return f"{r:,.0f}x faster" if r >= 10 else (f"{r:.1f}x faster" if r > 1 else f"{1 / r:.1f}x slower")


def rate_ratio(baseline: float, value: float) -> str:
    """``value`` / ``baseline`` for throughputs (higher is better): '3.2x'."""
    if not (baseline == baseline and value == value) or baseline <= 0:
        return "n/a"
    return f"{value / baseline:.2f}x"
