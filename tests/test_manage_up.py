"""The product on its embedded defaults, as ``./loopforge start`` runs it:
SQLite, its own Redis and S3 server, workers (started again when one dies)
and gunicorn with WhiteNoise."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from project import localservices as ls
from tests.poll import wait_until
from tests.processes import ROOT, Process, manage

# It starts servers of its own (the product's embedded Redis and S3 server):
# a test of the full tier, like those that use the session's.
pytestmark = pytest.mark.servers


def embedded_env(data: Path) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CONVERTER_", "DATABASE_URL", "REDIS_URL"))
    }
    env.update(
        CONVERTER_DATA_DIR=str(data),
        REDIS_URL=f"redis://127.0.0.1:{ls.free_port()}/0",
        CONVERTER_S3_ENDPOINT=f"http://127.0.0.1:{ls.free_seaweed_port()}",
    )
    return env


class Up(Process):
    """``manage.py up`` (what ``./loopforge start`` runs) on ``env``'s data
    folder, printing to ``log_path``."""

    def __init__(self, env: dict, port: int, log_path: Path) -> None:
        super().__init__(manage("up", "--addr", f"127.0.0.1:{port}"), log_path, env=env)
        self.data = Path(env["CONVERTER_DATA_DIR"])
        self.url = f"http://127.0.0.1:{port}/"
        self._shown = 0

    def printed_since(self) -> str:
        """What it printed since last asked."""
        printed = self.log()
        since, self._shown = printed[self._shown :], len(printed)
        return since


def start(env: dict, port: int, log_path: Path) -> Up:
    """``manage.py up``, once it printed its URL. If it does not within 90 s,
    it is stopped, and everything it started with it, before the test fails:
    a hung start leaves nothing running."""
    proc = Up(env, port, log_path).start()

    def printed_url() -> bool:
        return f"Loopforge is running at {proc.url}" in proc.log()

    try:
        wait_until(lambda: printed_url() or not proc.running, 90, 0.5, what="its URL")
        assert printed_url(), "it exited"
    except AssertionError as failed:
        abandon(proc)
        raise AssertionError(
            f"manage.py up did not start ({failed}):\n{proc.printed_since()}"
        ) from None
    proc.printed_since()  # what it printed so far: stop() returns what comes after
    return proc


def stop(proc: Up) -> str:
    """Ctrl-C, as a person would; returns what it printed afterwards."""
    proc.send(signal.SIGINT, group=True)
    try:
        proc.wait(timeout_s=60)
    except subprocess.TimeoutExpired:
        abandon(proc)
        raise
    return proc.printed_since()


def abandon(proc: Up) -> None:
    """Ctrl-C, then SIGKILL whatever still runs: ``up`` and the services it
    started on its data folder (each in a session of its own)."""
    proc.stop(signal.SIGINT, group=True, timeout_s=30)
    subprocess.run(["pkill", "-KILL", "-f", str(proc.data)], check=False)


def shell(env: dict, script: str) -> str:
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return out.stdout + out.stderr


def _processes_of(data: Path, command: str) -> list[int]:
    """The services (process group leaders) whose command line holds
    ``command`` and whose environment names the data folder ``data`` (other
    tests run workers too)."""
    found = subprocess.run(["pgrep", "-f", command], capture_output=True, text=True).stdout
    pids = []
    for pid in map(int, found.split()):
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        if f"CONVERTER_DATA_DIR={data}".encode() in environ.split(b"\0"):
            pids.append(pid)
    # The service itself leads its process group (its children share it).
    return [pid for pid in pids if os.getpgid(pid) == pid]


def test_start_runs_the_whole_product_and_converts_on_sqlite(tmp_path, clips):
    env = embedded_env(tmp_path / "data")
    port = ls.free_port()
    proc = start(env, port, tmp_path / "up-1.log")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/") as response:
            assert response.status == 200
            assert response.headers["Server"].startswith("gunicorn")
            page = response.read().decode()
        # Static files under hashed names, compressed, cached for a year (WhiteNoise).
        css = re.search(r'href="(/static/converter/app\.[0-9a-f]{12}\.css)"', page)
        assert css, page
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{css.group(1)}", headers={"Accept-Encoding": "gzip"}
        )
        with urllib.request.urlopen(request) as response:  # noqa: S310
            assert "immutable" in response.headers["Cache-Control"]
            assert response.headers["Content-Encoding"] == "gzip"
        # Secrets of its own, not public ones.
        secrets = proc.data / "secrets"
        assert {p.name for p in secrets.iterdir()} == {"django-secret-key", "s3-secret-key"}

        # A crashed worker is started again, and converts.
        [worker] = _processes_of(proc.data, "worker --queue convert")
        os.killpg(worker, signal.SIGKILL)
        wait_until(
            lambda: "convert-worker-1 exited; starting it again." in proc.log(),
            30,
            what="the restart",
        )

        # A conversion on SQLite through the product's own worker.
        script = (
            "import pathlib\n"
            "from converter.models import Task\n"
            "from tests.factories import make_task\n"
            "from tests.poll import wait_until\n"
            f"t = make_task(pathlib.Path({str(clips.moving())!r}))\n"
            "wait_until(lambda: Task.objects.get(pk=t.pk).is_finished, 90, 0.3, what='the task')\n"
            "t.refresh_from_db()\n"
            "frames = t.outputs.first().frames if t.outputs.exists() else 0\n"
            "print('STATUS', t.status, t.code, frames)"
        )
        out = shell(env, script)
        assert "STATUS succeeded  6" in out, out
    finally:
        assert "Stopping" in stop(proc)
    # Nothing it started is left running.
    leftover = subprocess.run(
        ["pgrep", "-f", str(tmp_path / "data")], capture_output=True, text=True
    ).stdout
    assert not leftover.strip(), leftover

    # A second start reuses the data: the task and its stored animation are there.
    proc = start(env, port, tmp_path / "up-2.log")
    try:
        out = shell(
            env,
            (
                "from converter.models import Task; t = Task.objects.get();"
                "print('AGAIN', t.status, t.outputs.get().file.read(6))"
            ),
        )
        assert "AGAIN succeeded b'GIF89a'" in out, out
    finally:
        stop(proc)
