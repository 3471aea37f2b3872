from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from tests import services_plugin
from tests.media import Clips

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def clips(tmp_path_factory) -> Clips:
    return Clips(tmp_path_factory.mktemp("clips"))


@pytest.fixture(scope="session")
def services_handle() -> services_plugin.Services:
    return services_plugin.SERVICES


@pytest.fixture
def user_client(client):
    """Django's test client, logged in as a new user (``client.user``)."""
    from tests.factories import make_user

    user = make_user()
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture(autouse=True)
def _empty_queue(request):
    """Each test starts with an empty queue: no job from an earlier test (whose
    rows the database has since rolled back) is left to a worker, and no
    notification stream of one."""
    import django_rq
    import redis
    from django.conf import settings

    django_rq.get_connection("convert").flushdb()
    redis.Redis.from_url(settings.CONVERTER_NOTIFY_REDIS_URL).flushdb()
    yield


class Worker:
    """A real ``manage.py rqworker`` process on the test database."""

    def __init__(self, log_path: Path, env: dict | None = None) -> None:
        self.log_path = log_path
        self.extra_env = env or {}
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Worker":
        db = connection.settings_dict
        env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "CONVERTER_LOG_LEVEL": "INFO",
            **self.extra_env,
        }
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, str(ROOT / "manage.py"), "worker"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def worker(request, transactional_db, tmp_path):
    """A worker process for tests that need the real queue. The test's data is
    committed (transactional_db) so the worker's connection sees it. A test
    marked ``worker_env(NAME=value, ...)`` gives the worker extra settings."""
    assert connection.vendor == "postgresql", (
        "the worker fixture shares the PostgreSQL test database"
    )
    marker = request.node.get_closest_marker("worker_env")
    w = Worker(tmp_path / "worker.log", marker.kwargs if marker else None).start()
    yield w
    w.stop()


def wait_until(predicate, timeout_s: float = 60, interval_s: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
            "--disable-dev-shm-usage",
        ],
    }
