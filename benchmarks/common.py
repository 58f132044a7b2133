"""What every measurement shares: timing and statistics, the drawings, child processes, the report.

Timings on a shared machine are noisy, so every speed figure is a ratio against a baseline timed
in the same run, and candidates are measured in interleaved rounds (baseline, candidate, baseline,
candidate...) so that a burst of load from elsewhere hits all of them alike.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import http.client
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
# Where the Makefile and the tests look for MNIST when DIGITREC_MNIST_DIR is not set.
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist"
if "DIGITREC_MNIST_DIR" not in os.environ and SHARED_MNIST.is_dir():
    os.environ["DIGITREC_MNIST_DIR"] = str(SHARED_MNIST)
PYTHON = sys.executable
STYLES = ("dark_on_light", "transparent")  # the CLI/Pygame look, and the Flask page's canvas


def log(message: str) -> None:
    """Progress goes to stderr, so stdout carries only the report."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- statistics and formatting ----------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation; NaN for no values."""
    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else float("nan")


def p50(values: Sequence[float]) -> float:
    return percentile(values, 50)


def p99(values: Sequence[float]) -> float:
    return percentile(values, 99)


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


# --- timing -----------------------------------------------------------------------------------


def time_calls(fn: Callable[[int], Any], n: int) -> list[float]:
    """Seconds for each of ``n`` calls ``fn(i)``."""
    out = []
    clock = time.perf_counter
    for i in range(n):
        start = clock()
        fn(i)
        out.append(clock() - start)
    return out


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


class Worker:
    """A measurement child process (``benchmarks.worker``) holding candidates of its own.

    Keeps TensorFlow out of the parent: its idle thread pools would otherwise share the CPU with
    whatever the parent times next. The child times its own calls; the pipe adds nothing to them.
    """

    def __init__(self, target: str, ctx: "Context", env: dict[str, str] | None = None, root: Path = ROOT):
        argv = [PYTHON, "-m", "benchmarks.worker", target] + (["--tiny"] if ctx.tiny else [])
        self.target = target
        self.stderr = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(argv, cwd=root, env=child_env(env, root), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.stderr, text=True)
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

    def candidate(self, name: str, n: int) -> "Remote":
        return Remote(self, name, n)

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.call(op="quit")
            except (RuntimeError, OSError, ValueError):
                pass
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()

    def __enter__(self) -> "Worker":
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


def interleaved(candidates: dict[str, Candidate | Remote], rounds: int, warmup: int = 3) -> dict[str, list[float]]:
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


@dataclasses.dataclass
class Context:
    """What a measurement is run with: ``tiny`` mode proves it works in seconds."""

    tiny: bool = False

    def n(self, full: int, tiny: int) -> int:
        return tiny if self.tiny else full


# --- BLAS threads -----------------------------------------------------------------------------


def blas_threads() -> int | None:
    """OpenBLAS (or MKL) threads NumPy uses right now; None when threadpoolctl is missing."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    counts = [lib["num_threads"] for lib in threadpool_info() if lib.get("user_api") == "blas"]
    return max(counts) if counts else None


BLAS_ENV = "DIGITREC_BLAS_THREADS"  # digitrec.predict: BLAS threads of a NumPy-engine process (default 1)


@functools.cache
def default_blas_threads() -> int | None:
    """BLAS's own thread count, read once (the benchmark's process never loads a Predictor)."""
    return blas_threads()


def many_blas_threads() -> dict[str, str]:
    """The environment that gives a NumPy-engine process BLAS's own default thread count (one per
    core): the engine as it ran before its one-thread limit. Empty on a one-core machine."""
    threads = default_blas_threads()
    return {BLAS_ENV: str(threads), "DIGITREC_BACKEND": "numpy"} if threads and threads > 1 else {}


# --- drawings ---------------------------------------------------------------------------------


CACHE_ENV = "DIGITREC_BENCH_CACHE"  # a folder where the benchmark's processes share their drawings


def drawings(n: int, seed: int = 0, styles: Sequence[str] = STYLES) -> list[tuple[int, str, bytes]]:
    """``n`` 280x280 canvas PNGs as (digit, style, png): the styles in turn, then digits 0-9 in turn.

    Deterministic; cached in ``$DIGITREC_BENCH_CACHE`` when set (``python -m benchmarks`` sets it),
    so the worker processes of one run do not each draw the same thousand digits again.
    """
    import pickle

    cache = os.environ.get(CACHE_ENV)
    path = Path(cache) / f"drawings-{n}-{seed}-{'-'.join(styles)}.pickle" if cache else None
    if path is not None and path.is_file():
        return pickle.loads(path.read_bytes())
    from digitrec.drawings import pen_digit, to_png

    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        digit, how = (i // len(styles)) % 10, styles[i % len(styles)]
        out.append((digit, how, to_png(pen_digit(digit, rng, how))))
    if path is not None:
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(pickle.dumps(out))
        tmp.replace(path)  # atomic: a concurrent reader sees the whole file or none
    return out


# --- child processes and servers --------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_env(extra: dict[str, str] | None = None, root: Path = ROOT) -> dict[str, str]:
    """The environment of a child process that imports ``digitrec`` from ``root``."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "GRADIO_ANALYTICS_ENABLED": "False",
           "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy", "PYTHONUNBUFFERED": "1"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH", "")) if p)
    return {**env, **(extra or {})}


PROPOSED = ROOT / "benchmarks" / "proposed"
TREE = ("digitrec", "flask_app", "models", "benchmarks", "gunicorn.conf.py", "pygame_frontend.py")


@contextlib.contextmanager
def proposed_tree() -> Iterator[tuple[Path | None, str]]:
    """A temporary copy of the code with benchmarks/proposed/*.diff applied to ``digitrec/``.

    Yields (root, note): root is None when there is nothing to apply or a patch no longer applies
    (typically: it has landed), and the note says which. Child processes started with
    ``cwd=root`` and ``child_env(root=root)`` then run the patched code next to the shipped one.
    """
    import shutil

    patches = sorted(PROPOSED.glob("*.diff"))
    if not patches:
        yield None, "no patches in benchmarks/proposed/"
        return
    tmp = Path(tempfile.mkdtemp(prefix="digitrec-proposed-"))
    try:
        for name in TREE:
            src = ROOT / name
            if src.is_dir():
                shutil.copytree(src, tmp / name, ignore=shutil.ignore_patterns("__pycache__"))
            elif src.is_file():
                shutil.copy2(src, tmp / name)
        applied, failed = [], []
        for patch in patches:
            try:
                proc = subprocess.run(["git", "apply", "--include=digitrec/*", str(patch)], cwd=tmp,
                                      capture_output=True, text=True, timeout=60)
                ok = proc.returncode == 0
            except (OSError, subprocess.SubprocessError):  # no git here
                ok = False
            (applied if ok else failed).append(patch.name)
        if failed:
            yield None, (f"{', '.join(failed)} no longer apply to digitrec/ (landed already?), so there are no "
                         "'proposed' rows")
        else:
            yield tmp, f"proposed = this code with {', '.join(applied)} applied to digitrec/"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def http_status(host: str, port: int, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None, timeout: float = 5.0) -> tuple[int, bytes]:
    """One request on a fresh connection: (status, body). Raises OSError when nothing answers."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def predict_request(png: bytes) -> tuple[bytes, dict[str, str]]:
    """The body and headers of ``POST /api/predict`` as the Flask page sends it."""
    from digitrec.imageio import encode_data_url

    body = json.dumps({"image": encode_data_url(png)}).encode()
    return body, {"Content-Type": "application/json", "Accept": "application/json"}


class Server:
    """A server in a child process on 127.0.0.1, stopped (with its workers) on exit."""

    def __init__(self, argv: list[str], port: int, env: dict[str, str] | None = None, root: Path = ROOT):
        self.argv, self.port, self.env, self.root = argv, port, env, root
        self.proc: subprocess.Popen | None = None
        self.started = 0.0

    def __enter__(self) -> "Server":
        self.started = time.perf_counter()
        # A file, not a pipe: a server logging every request would fill a pipe nobody reads and stall.
        self.log = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(self.argv, cwd=self.root, env=child_env(self.env, self.root), stdout=self.log,
                                     stderr=subprocess.STDOUT, text=True, start_new_session=True)
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> str:
        """Stop the server (SIGTERM, then SIGKILL after 15 s); return what it printed."""
        if self.proc is None:
            return ""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:  # its whole process group: a master's workers too
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.seek(0)
        out = self.log.read()
        self.log.close()
        self.output = out
        self.proc = None
        return out

    def wait_until(self, ready: Callable[[], bool], timeout: float, interval: float = 0.02) -> float:
        """Poll ``ready()`` until True; seconds since the process started. Raises on exit/timeout."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if not self.alive():
                out = self.stop()
                raise RuntimeError(f"{' '.join(self.argv)} exited before it was ready:\n{out[-2000:]}")
            try:
                if ready():
                    return time.perf_counter() - self.started
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(interval)
        raise TimeoutError(f"{' '.join(self.argv)} was not ready within {timeout:.0f} s")

    def wait_http(self, path: str = "/healthz", timeout: float = 90.0) -> float:
        return self.wait_until(lambda: http_status("127.0.0.1", self.port, "GET", path, timeout=2)[0] < 500,
                               timeout)


def flask_argv(port: int, threads: int = 1) -> list[str]:
    return [PYTHON, "-m", "flask_app", "--port", str(port), "--threads", str(threads)]


def gunicorn_argv(port: int, workers: int = 2, extra: Sequence[str] = ()) -> list[str]:
    """gunicorn as the docs say to run it; the repo's gunicorn.conf.py is read (cwd is the root)."""
    return [PYTHON, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}", *extra,
            "flask_app:create_app()"]


GRADIO_APP = ROOT / "gradio_app.py"


def gradio_argv(port: int) -> list[str]:
    return [PYTHON, str(GRADIO_APP), "--port", str(port)]


class GradioCaller:
    """Predictions through the Gradio app's HTTP API, as ``gradio_client`` users make them."""

    def __init__(self, port: int, png_path: Path):
        from gradio_client import Client, handle_file

        self.client = Client(f"http://127.0.0.1:{port}/", verbose=False, analytics_enabled=False,
                             download_files=False)
        self.value = {"background": None, "layers": [], "composite": handle_file(str(png_path))}

    def predict(self) -> str:
        """The app's top label for the drawing (a digit as a string)."""
        answer, _seen = self.client.predict(self.value, api_name="/predict")
        return str(answer.get("label") if isinstance(answer, dict) else answer)

    def close(self) -> None:
        try:
            self.client.close()
        except Exception:  # older clients have no close(); nothing to release then
            pass


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


def children(pid: int) -> list[int]:
    """The pids of ``pid``'s live child processes (Linux /proc; none elsewhere)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(x) for x in fh.read().split()]
    except OSError:
        return []


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


def run_json(argv: list[str], timeout: float, env: dict[str, str] | None = None) -> dict:
    """Run a child that prints one JSON object as its last stdout line; return it."""
    proc = subprocess.run(argv, cwd=ROOT, env=child_env(env), capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --- the machine ------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "-"


def _git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                             timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return out.stdout.strip() + ("+changes" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "-"


def machine() -> dict[str, Any]:
    """The machine and software a run measured: everything a reader needs to compare runs."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 0
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        mem = 0
    return {
        "cpu": _cpu_model(),
        "cores": cores,
        "memory_gib": round(mem / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "numpy": _version("numpy"),
        "tensorflow": _version("tensorflow-cpu") if _version("tensorflow-cpu") != "-" else _version("tensorflow"),
        "keras": _version("keras"),
        "pillow": _version("pillow"),
        "scipy": _version("scipy"),
        "flask": _version("flask"),
        "waitress": _version("waitress"),
        "gunicorn": _version("gunicorn"),
        "gradio": _version("gradio"),
        "blas_threads": default_blas_threads(),
        "commit": _git_commit(),
    }


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


# --- the report -------------------------------------------------------------------------------


@dataclasses.dataclass
class Target:
    what: str
    goal: str
    measured: str
    met: bool | None  # None: not measured in this run

    @property
    def verdict(self) -> str:
        return {True: "met", False: "NOT met", None: "not measured"}[self.met]


@dataclasses.dataclass
class Section:
    """One measurement's results: a table, notes, and the targets it checks."""

    name: str
    title: str
    intro: str
    columns: list[str]
    rows: list[list[str]] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)
    targets: list[Target] = dataclasses.field(default_factory=list)
    run: dict[str, Any] = dataclasses.field(default_factory=dict)  # when, load, tiny mode, seconds

    def add(self, *cells: Any) -> None:
        if len(cells) != len(self.columns):
            raise ValueError(f"{self.name}: row {cells} does not fit columns {self.columns}")
        self.rows.append([str(c) for c in cells])

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Section":
        d = dict(d)
        d["targets"] = [Target(**t) for t in d.get("targets", [])]
        return cls(**d)

    def markdown(self) -> str:
        lines = [f"<!-- section: {self.name} -->", f"## {self.title}", ""]
        run = self.run
        if run:
            load = run.get("load_before"), run.get("load_after")
            lines.append(f"*Measured {run.get('date', '?')} in {run.get('seconds', 0):.0f} s; "
                         f"load average (1/5/15 min) before {fmt_load(load[0])}, after {fmt_load(load[1])}"
                         f"{'; TINY MODE: proves the code runs, the figures mean nothing' if run.get('tiny') else ''}"
                         f".*")
            lines.append("")
        if self.intro:
            lines += [self.intro, ""]
        lines += table(self.columns, self.rows)
        if self.notes:
            lines.append("")
            lines += [f"- {n}" for n in self.notes]
        lines.append("")
        return "\n".join(lines)


def fmt_load(load: Sequence[float] | None) -> str:
    return "/".join(f"{x:.2f}" for x in load) if load else "?"


def table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    def esc(cell: str) -> str:
        return str(cell).replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(esc(c) for c in columns) + " |",
           "| " + " | ".join("---" for _ in columns) + " |"]
    out += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows]
    return out
