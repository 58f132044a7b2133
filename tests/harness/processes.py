"""Child processes: the environment they run in, their JSON answers, their memory and CPU time.

``/proc`` gives the figures on Linux; elsewhere the functions say so (empty, NaN or psutil).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a child process that imports ``digitrec`` from this checkout."""
    env = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "SDL_VIDEODRIVER": "dummy",
        "SDL_AUDIODRIVER": "dummy",
        "PYTHONUNBUFFERED": "1",
    }
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return {**env, **(extra or {})}


def run_json(argv: list[str], timeout: float, env: dict[str, str] | None = None) -> dict:
    """Run a child that prints one JSON object as its last stdout line; return it."""
    proc = subprocess.run(argv, cwd=ROOT, env=child_env(env), capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def children(pid: int) -> list[int]:
    """The pids of ``pid``'s live child processes (Linux /proc; none elsewhere)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(x) for x in fh.read().split()]
    except OSError:
        return []


def peak_rss(pid: int) -> float:
    """Peak resident memory of a live process in bytes (VmHWM on Linux; current RSS elsewhere)."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    import psutil

    return float(psutil.Process(pid).memory_info().rss)


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its live descendants (Linux /proc; NaN elsewhere)."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    stats: dict[int, tuple[int, float]] = {}  # pid -> (parent, cpu seconds)
    try:
        entries = [e for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return float("nan")
    for entry in entries:
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        if p in stats:
            total += stats[p][1]
            todo += [c for c, (parent, _cpu) in stats.items() if parent == p]
    return total


def kill_after_first_checkpoint(command: list[str], out: Path, unit: str, timeout: float = 600) -> int:
    """Start the training ``command`` (writing ``out``), kill -9 it once its checkpoint beside ``out``
    records a first finished ``unit`` ("epoch", "chunk"); the unit it had reached. Asserts it was
    killed (not finished) with its model not yet written."""
    meta = out.with_suffix(".checkpoint") / "training_metadata.json"
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if meta.exists() and json.loads(meta.read_text() or "{}").get("epoch", 0) >= 1:
            os.kill(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.02)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, f"the run ended before it could be killed after its first {unit}"
    assert not out.exists()
    return json.loads(meta.read_text())["epoch"]
