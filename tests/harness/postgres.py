"""A throw-away PostgreSQL server for the tests and benchmarks: Debian's binaries, a temporary
directory, a free port on 127.0.0.1, a password, and nothing left behind.

    with TempPostgres() as pg:
        pg.url   # postgresql://digitrec:...@127.0.0.1:PORT/digitrec

``initdb`` refuses to run as root (CI runs as root), so as root the server runs as the unprivileged
``postgres`` user that Debian's package creates (``runuser``). scripts/install-postgresql.sh
installs the package; ``make test`` runs it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

SERVER_USER = "postgres"  # Debian's package creates it
DATABASE = "digitrec"
ROLE = "digitrec"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server can be started here; the message says why."""


def binaries() -> Path:
    """The newest installed ``/usr/lib/postgresql/<version>/bin`` that has ``initdb``."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if not found:
        raise PostgresUnavailable("PostgreSQL is not installed (scripts/install-postgresql.sh installs it)")
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TempPostgres:
    """A PostgreSQL server in a temporary directory, on 127.0.0.1 only, stopped and removed on exit."""

    def __init__(self) -> None:
        self.bin = binaries()
        self.port = _free_port()
        self.password = secrets.token_hex(12)
        self.dir = Path(tempfile.mkdtemp(prefix="digitrec-pg-"))
        self.data = self.dir / "data"
        self.as_root = os.geteuid() == 0

    @property
    def url(self) -> str:
        return f"postgresql://{ROLE}:{self.password}@127.0.0.1:{self.port}/{DATABASE}"

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        prefix = ["runuser", "-u", SERVER_USER, "--"] if self.as_root else []
        done = subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=timeout, cwd=self.dir)
        if done.returncode != 0:
            raise PostgresUnavailable(f"{Path(args[0]).name} failed: {(done.stderr or done.stdout).strip()[-800:]}")
        return done

    def __enter__(self) -> TempPostgres:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        if self.as_root:
            try:
                shutil.chown(self.dir, SERVER_USER)
            except (LookupError, OSError) as exc:
                raise PostgresUnavailable(f"cannot hand {self.dir} to the {SERVER_USER} user ({exc})") from None
        pwfile = self.dir / "pw"
        pwfile.write_text(self.password + "\n")
        if self.as_root:
            shutil.chown(pwfile, SERVER_USER)
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            ROLE,
            "--pwfile",
            str(pwfile),
            "-A",
            "scram-sha-256",
            "-E",
            "UTF8",
            "--no-sync",
        )
        pwfile.unlink()
        # Loopback only; the socket file in our own directory; fsync off: a test server's data is throw-away.
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100"
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.dir / "log"), "-w", "start"
        )
        self._create_database()

    def _create_database(self) -> None:
        import psycopg

        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(
                    host="127.0.0.1",
                    port=self.port,
                    user=ROLE,
                    password=self.password,
                    dbname="postgres",
                    autocommit=True,
                ) as conn:
                    conn.execute(f"CREATE DATABASE {DATABASE}")
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def reset(self) -> None:
        """An empty database again (between tests)."""
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=ROLE, password=self.password, dbname=DATABASE, autocommit=True
        ) as conn:
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")

    def stop(self) -> None:
        if self.data.is_dir():
            with contextlib.suppress(PostgresUnavailable, subprocess.TimeoutExpired):  # not running: nothing to stop
                self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop", timeout=60)
        shutil.rmtree(self.dir, ignore_errors=True)
