"""The apps' "Learn my handwriting": a bounded queue of fine-tunes, each run in a worker process.

    learner = Learner(predictor.path, lambda: store, on_done=personal.drop)
    job = learner.submit("ana")      # Job(state="queued"); QueueFull, AlreadyLearning, TooFewDrawings
    learner.status("ana")            # queued -> running (percent) -> done (before / after) or failed (why)

The app process never imports TensorFlow: each job is ``python -m digitrec learn --user NAME --json`` in
a child process (the store's URL in its environment, never on its command line), which prints its
progress as JSON lines on a pipe. One job runs at a time (two cores: a second would halve both and slow
every answer); at most ``limit`` are queued or running, one per user; more are refused politely. A job
whose worker fails or is killed reports failed with why, and the user's previous model keeps answering:
the worker replaces it in the store only once the new one is whole.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from digitrec.learning.job import check_enough
from digitrec.store import Store

LIMIT = 4  # fine-tunes queued or running at once, over all users
NICE = 5  # the worker's niceness: the app keeps answering while it trains
KEPT_JOBS = 1024  # finished jobs remembered for status (the oldest forgotten first)
STATES = ("queued", "running", "done", "failed")
log = logging.getLogger("digitrec.learning")


class LearnRefused(Exception):
    """A Learn that cannot start now; the message says why and what to do."""


class QueueFull(LearnRefused):
    def __init__(self, limit: int) -> None:
        super().__init__(f"{limit} fine-tunes are queued already, the most this server takes: try again in a minute")


class AlreadyLearning(LearnRefused):
    def __init__(self, user: str, state: str) -> None:
        super().__init__(f"a fine-tune for {user} is {state} already: one at a time")


@dataclass
class Job:
    """One user's Learn, as the front ends show it."""

    user: str
    state: str = "queued"  # one of STATES
    percent: int = 0
    phase: str = ""
    before: dict | None = None  # done: the figures before and after (fractions), and how the first was measured
    after: dict | None = None
    figure: str | None = None
    error: str | None = None  # failed: why
    pid: int | None = field(default=None, repr=False)
    queued_at: float = field(default_factory=time.time, repr=False)

    def to_dict(self) -> dict:
        """The JSON front ends answer: ``user``, ``state``, ``percent``, and ``before`` / ``after`` when done or
        ``error`` when failed."""
        out = {k: v for k, v in asdict(self).items() if k not in ("pid", "queued_at")}
        return {k: v for k, v in out.items() if v is not None and (v != "" or k != "phase")}


def worker_command(user: str, model: Path) -> list[str]:
    """The worker: ``python -m digitrec learn`` for ``user`` from ``model``, progress as JSON lines."""
    return [
        sys.executable,
        "-m",
        "digitrec",
        "learn",
        "--user",
        user,
        "--model",
        str(model),
        "--json",
        "--nice",
        str(NICE),
    ]


class Learner:
    """The queue and its one runner thread (started with the first job); thread-safe."""

    def __init__(
        self,
        model: Path,
        store: Callable[[], Store],
        *,
        limit: int = LIMIT,
        on_done: Callable[[str], None] | None = None,
        command: Callable[[str, Path], Sequence[str]] = worker_command,
    ) -> None:
        self.model = Path(model)
        self.store = store
        self.limit = limit
        self.on_done = on_done
        self.command = command
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._queue: deque[Job] = deque()
        self._cond = threading.Condition()
        self._runner: threading.Thread | None = None
        self._proc: subprocess.Popen | None = None
        self._closed = False

    def submit(self, user: str) -> Job:
        """Queue a Learn for ``user`` (a checked name); the job as queued. Raises ``AlreadyLearning``, ``QueueFull``,
        ``TooFewDrawings`` and ``StoreError``."""
        check_enough(user, self.store().count(user))
        with self._cond:
            job = self._jobs.get(user)
            if job is not None and job.state in ("queued", "running"):
                raise AlreadyLearning(user, job.state)
            if sum(j.state in ("queued", "running") for j in self._jobs.values()) >= self.limit:
                raise QueueFull(self.limit)
            job = Job(user)
            self._jobs.pop(user, None)
            self._jobs[user] = job
            while len(self._jobs) > KEPT_JOBS:
                oldest = next(iter(self._jobs))
                if self._jobs[oldest].state in ("queued", "running"):
                    break
                self._jobs.pop(oldest)
            self._queue.append(job)
            if self._runner is None:
                self._runner = threading.Thread(target=self._run, name="digitrec-learn", daemon=True)
                self._runner.start()
            self._cond.notify()
            return Job(**asdict(job))  # a copy, as status gives: the runner thread changes the original

    def status(self, user: str) -> Job | None:
        """``user``'s latest job (a copy), or None when this server ran none for them."""
        with self._cond:
            job = self._jobs.get(user)
            return None if job is None else Job(**asdict(job))

    def forget(self, user: str) -> None:
        """ "Forget me": ``user``'s finished job goes (a queued or running one stays; its model is theirs to
        forget again)."""
        with self._cond:
            job = self._jobs.get(user)
            if job is not None and job.state not in ("queued", "running"):
                self._jobs.pop(user)

    def close(self) -> None:
        """Stop: the queued jobs fail, a running worker is killed (its user's previous model stays)."""
        with self._cond:
            self._closed = True
            for job in self._queue:
                job.state, job.error = "failed", "the server stopped before it began"
            self._queue.clear()
            proc = self._proc
            self._cond.notify_all()
        if proc is not None and proc.poll() is None:
            proc.kill()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                job = self._queue.popleft()
            self._work(job)
            if job.state == "done" and self.on_done is not None:
                self.on_done(job.user)

    def _work(self, job: Job) -> None:
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")
        env["DIGITREC_DB"] = self.store().url.render_as_string(hide_password=False)  # never in `ps`
        with tempfile.TemporaryFile("w+") as err:
            try:
                proc = subprocess.Popen(
                    list(self.command(job.user, self.model)),
                    stdout=subprocess.PIPE,
                    stderr=err,
                    stdin=subprocess.DEVNULL,
                    text=True,
                    env=env,
                )
            except OSError as exc:
                with self._cond:
                    job.state, job.error = "failed", f"the worker could not start ({exc.strerror or exc})"
                return
            with self._cond:
                self._proc = proc
                job.state, job.pid = "running", proc.pid
            for line in proc.stdout:
                self._hear(job, line)
            code = proc.wait()
            err.seek(0)
            tail = [line.strip() for line in err.read().splitlines() if line.strip()]
        with self._cond:
            self._proc = None
            if job.state == "running":  # no "done" and no "error" line: it died
                job.state, job.phase = "failed", ""
                if code < 0:
                    job.error = f"the fine-tune was stopped (signal {-code}); the previous model is kept"
                else:
                    why = tail[-1][:300] if tail else f"exit status {code}"
                    job.error = f"the fine-tune failed ({why}); the previous model is kept"

    def _hear(self, job: Job, line: str) -> None:
        """One JSON line from the worker: progress, its figures once done, or its error."""
        try:
            said = json.loads(line)
        except ValueError:
            return  # a stray line (a library's chatter on stdout)
        if not isinstance(said, dict):
            return
        with self._cond:
            if "percent" in said:
                job.percent = max(job.percent, min(100, int(said["percent"])))
                job.phase = str(said.get("phase", ""))
            if "error" in said:
                job.state, job.phase, job.error = "failed", "", f"{said['error']} (the previous model is kept)"
            elif "done" in said:
                done = said["done"]
                job.state, job.percent, job.phase = "done", 100, ""
                job.before, job.after, job.figure = done.get("before"), done.get("after"), done.get("figure")
                phases = ", ".join(f"{k} {v} s" for k, v in (done.get("phases") or {}).items())
                log.info("a Learn took %s s in its worker (%s)", done.get("seconds"), phases)  # never the name
