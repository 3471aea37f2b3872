"""The processes tests start (an RQ worker, the reconciler, ``manage.py up``):
each in a session of its own, with its output in a log file."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class Process:
    """``argv`` run from the checkout with its output (stdout and stderr) in
    ``log_path``. ``env`` is the whole environment (default: this process's,
    as it is at ``start``), ``extra_env`` is laid over it."""

    def __init__(
        self,
        argv: list[str],
        log_path: Path,
        *,
        env: Mapping[str, str] | None = None,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self.argv = argv
        self.log_path = log_path
        self.env = env
        self.extra_env = dict(extra_env or {})
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        """Start it (again, after ``stop``: the log goes on in the same file)."""
        env = {
            **(os.environ if self.env is None else self.env),
            "PYTHONUNBUFFERED": "1",  # its log is read while it runs
            **self.extra_env,
        }
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.argv,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped as one
            )
        return self

    @property
    def pid(self) -> int:
        assert self.proc, "not started"
        return self.proc.pid

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def send(self, sig: int, *, group: bool = False) -> None:
        """Send ``sig`` to the process, or to its whole group (Ctrl-C in a
        terminal reaches every process of the foreground group)."""
        if not self.running:
            return
        with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
            if group:
                os.killpg(self.pid, sig)
            else:
                os.kill(self.pid, sig)

    def wait(self, timeout_s: float | None = None) -> int:
        assert self.proc, "not started"
        return self.proc.wait(timeout_s)

    def stop(
        self, sig: int = signal.SIGTERM, *, group: bool = False, timeout_s: float = 15
    ) -> None:
        """Ask it to stop (``sig``, SIGTERM: terminate) and wait; whatever of
        its group still runs after ``timeout_s`` is killed."""
        if not self.running:
            return
        self.send(sig, group=group)
        try:
            self.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL the process and its group at once, and reap it."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):  # the whole group ended meanwhile
            os.killpg(self.pid, signal.SIGKILL)
        self.proc.wait()

    def log(self) -> str:
        """Everything it printed so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, size: int = 2000) -> str:
        return self.log()[-size:]


def database_env() -> dict[str, str]:
    """The environment that points a child process at the test database."""
    from django.db import connection

    db = connection.settings_dict
    return {"DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}


def manage(*args: str) -> list[str]:
    """``manage.py`` with ``args``, run by this interpreter."""
    return [sys.executable, str(ROOT / "manage.py"), *args]


def rq_worker(log_path: Path, extra_env: Mapping[str, str] | None = None) -> Process:
    """A real ``manage.py worker`` on the test database (not started yet)."""
    return Process(
        manage("worker"),
        log_path,
        extra_env={**database_env(), "CONVERTER_LOG_LEVEL": "INFO", **(extra_env or {})},
    )
