from __future__ import annotations

import stat

import pytest
from django.db import connection

from tests.media import FFMPEG
from tests.processes import Process, rq_worker


@pytest.fixture
def make_worker(transactional_db, tmp_path):
    """Start real worker processes with extra environment variables; all are
    stopped at the end."""
    assert connection.vendor == "postgresql"
    started: list[Process] = []

    def make(name: str = "worker", **env: str) -> Process:
        worker = rq_worker(tmp_path / f"{name}-{len(started)}.log", env).start()
        started.append(worker)
        return worker

    yield make
    for worker in started:
        worker.stop()


@pytest.fixture
def slow_ffmpeg(tmp_path) -> str:
    """An ffmpeg that reads its input at real-time speed (``-readrate 1``),
    so a test can catch it mid-task. It execs the real binary: the process is
    ffmpeg itself, with the parent-death signal its runner set."""
    path = tmp_path / "slow-ffmpeg"
    path.write_text(f'#!/bin/sh\nexec "{FFMPEG}" -readrate 1 "$@"\n')
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)
