"""BLAS threads: how many NumPy uses, and the environment that restores BLAS's own default.

digitrec limits a NumPy-engine process to one BLAS thread (``DIGITREC_BLAS_THREADS``); the
benchmarks also run the engine as it was before that limit, to show what the limit buys.
"""

from __future__ import annotations

import functools

BLAS_ENV = "DIGITREC_BLAS_THREADS"  # digitrec.engines.numpy_net: BLAS threads of a NumPy-engine process (default 1)


def blas_threads() -> int | None:
    """OpenBLAS (or MKL) threads NumPy uses right now; None when threadpoolctl is missing."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    counts = [lib["num_threads"] for lib in threadpool_info() if lib.get("user_api") == "blas"]
    return max(counts) if counts else None


@functools.cache
def default_blas_threads() -> int | None:
    """BLAS's own thread count, read once (the benchmark's process never loads a Predictor)."""
    return blas_threads()


def many_blas_threads() -> dict[str, str]:
    """The environment that gives a NumPy-engine process BLAS's own default thread count (one per
    core): the engine as it ran before its one-thread limit. Empty on a one-core machine."""
    threads = default_blas_threads()
    return {BLAS_ENV: str(threads), "DIGITREC_BACKEND": "numpy"} if threads and threads > 1 else {}
