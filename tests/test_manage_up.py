"""The product on its embedded defaults, as ``./loopforge start`` runs it:
SQLite, its own Redis and S3 server, a worker and the web server."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from project import localservices as ls

ROOT = Path(__file__).resolve().parent.parent


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


def start(env: dict, port: int) -> subprocess.Popen:
    """``manage.py up`` (what ``./loopforge start`` runs), once it printed its
    URL. If it does not within 90 s, it is stopped, and everything it started
    with it, before the test fails: a hung start leaves nothing running."""
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "up", "--addr", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    proc.data = Path(env["CONVERTER_DATA_DIR"])
    proc.lines = queue.Queue()  # read on a thread: a silent hang cannot block the test
    proc.reader = threading.Thread(
        target=lambda: [proc.lines.put(line) for line in proc.stdout], daemon=True
    )
    proc.reader.start()
    printed: list[str] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            printed.append(proc.lines.get(timeout=0.5))
        except queue.Empty:
            continue
        if f"Loopforge is running at http://127.0.0.1:{port}/" in printed[-1]:
            return proc
    abandon(proc)
    raise AssertionError("manage.py up did not start:\n" + "".join(printed) + printed_since(proc))


def stop(proc: subprocess.Popen) -> str:
    """Ctrl-C, as a person would; returns what it printed afterwards."""
    os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        abandon(proc)
        raise
    return printed_since(proc)


def abandon(proc: subprocess.Popen) -> None:
    """Ctrl-C, then SIGKILL whatever still runs: ``up`` and the services it
    started on its data folder (each in a session of its own)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    subprocess.run(["pkill", "-KILL", "-f", str(proc.data)], check=False)


def printed_since(proc: subprocess.Popen) -> str:
    """What ``up`` printed since last asked (all of it, once it has exited)."""
    if proc.poll() is not None:
        proc.reader.join(timeout=10)
    out = []
    while not proc.lines.empty():
        out.append(proc.lines.get_nowait())
    return "".join(out)


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


def test_start_runs_the_whole_product_and_converts_on_sqlite(tmp_path, clips):
    env = embedded_env(tmp_path / "data")
    port = ls.free_port()
    proc = start(env, port)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/") as response:
            assert response.status == 200

        # A conversion on SQLite through the product's own worker.
        script = (
            "from converter.services import submission; from tests.factories import make_user, task_spec, upload_of;"
            "from converter.models import Task; import time, pathlib;"
            f"t = submission.task_create(owner=make_user(), spec=task_spec(), upload=upload_of(pathlib.Path({str(clips.moving())!r})), original_filename='m.mp4');"
            "deadline = time.time() + 90\n"
            "while time.time() < deadline and not Task.objects.get(pk=t.pk).is_finished: time.sleep(0.3)\n"
            "t.refresh_from_db(); print('STATUS', t.status, t.code, t.outputs.first().frames if t.outputs.exists() else 0)"
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
    proc = start(env, port)
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
