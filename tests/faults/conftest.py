from __future__ import annotations

import os
import shutil
from pathlib import Path

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


# The real binary beside the slow wrapper (``slow_ffmpeg``): the sandbox
# binds only the folder of the ffmpeg it runs.
SLOW_REAL = "ffmpeg-real"


@pytest.fixture(scope="session")
def slow_ffmpeg(tmp_path_factory) -> str:
    """An ffmpeg that reads its input at real-time speed (``-readrate 1``),
    so a test can catch it mid-task. It execs the real binary (a link to
    the bundled one, in its own folder): the process is ffmpeg itself, in
    the sandbox, with the parent-death signals its runner and bwrap set.
    Processes of it run as ``slow_ffmpeg_exe``."""
    folder = tmp_path_factory.mktemp("slow-ffmpeg")
    real = folder / SLOW_REAL
    try:
        os.link(FFMPEG, real)
    except OSError:  # another file system
        shutil.copy(FFMPEG, real)
    path = folder / "slow-ffmpeg"
    path.write_text(f'#!/bin/sh\nexec "$(dirname "$0")/{SLOW_REAL}" -readrate 1 "$@"\n')
    path.chmod(0o755)  # the sandbox runs it as nobody
    return str(path)


@pytest.fixture(scope="session")
def slow_ffmpeg_exe(slow_ffmpeg) -> str:
    return str(Path(slow_ffmpeg).parent / SLOW_REAL)
