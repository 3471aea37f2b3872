"""The two tiers of tests (tests/services_plugin.py): ``--fast`` starts no
server and leaves out every test that needs one, and a test that reaches a
server without saying it needs one fails, whether the servers run or not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import ROOT

MISMARKED = """
import redis
from django.conf import settings


def test_reaches_redis_without_saying_so():
    redis.Redis.from_url(settings.REDIS_URL).ping()


def test_swallows_the_refusal():
    try:
        redis.Redis.from_url(settings.REDIS_URL).ping()
    except BaseException:
        pass
"""

NEEDS_THE_DATABASE = """

def test_says_it_needs_the_database(db):
    from django.contrib.auth.models import User

    assert not User.objects.exists()
"""


# Plugins the child runs do without (loading them takes seconds).
UNUSED_PLUGINS = ("xdist", "playwright", "base_url", "schemathesis", "hypothesispytest")


def pytest_in_a_child(*args: str) -> str:
    """A pytest run of its own, with this project's configuration; its output."""
    env = {
        k: v
        for k, v in os.environ.items()
        # Its own servers and test database, never this run's.
        if not k.startswith(("PYTEST_", "CONVERTER_", "DATABASE_URL", "REDIS_URL"))
    }
    unused = [arg for name in UNUSED_PLUGINS for arg in ("-p", f"no:{name}")]
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"), "-q", *unused, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return out.stdout + out.stderr


def test_fast_starts_no_server_leaves_out_those_that_need_one_and_fails_the_unmarked(
    tmp_path: Path,
):
    (tmp_path / "test_mismarked.py").write_text(MISMARKED)
    out = pytest_in_a_child(
        "--fast", "--rootdir", str(ROOT), "tests/test_queue_worker.py", str(tmp_path)
    )
    # test_queue_worker.py: one test needs no server, three need a worker.
    assert "2 failed, 1 passed, 3 deselected" in out, out
    assert out.count("ServersNotAllowed") >= 2, out
    assert "servers started for this run: none" in out, out


@pytest.mark.servers
def test_the_unmarked_fail_as_well_when_the_servers_run(tmp_path: Path):
    (tmp_path / "test_mismarked.py").write_text(MISMARKED + NEEDS_THE_DATABASE)
    out = pytest_in_a_child("--rootdir", str(ROOT), str(tmp_path))
    assert "2 failed, 1 passed" in out and out.count("ServersNotAllowed") >= 2, out
    assert "servers started for this run: redis, seaweedfs" in out, out
