from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection

from tests import services_plugin
from tests.media import Clips
from tests.processes import Process, rq_worker

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def clips(tmp_path_factory) -> Clips:
    return Clips(tmp_path_factory.mktemp("clips"))


@pytest.fixture
def no_pyav_here(monkeypatch) -> None:
    """PyAV cannot open a file in this process: untrusted bytes are read by
    a sandboxed child only (``converter.pipeline.isolated``)."""
    import av

    def refuse(*args, **kwargs):
        raise AssertionError("PyAV opened a file in the calling process")

    monkeypatch.setattr(av, "open", refuse)


@pytest.fixture(scope="session")
def services_handle(servers: services_plugin.Services) -> services_plugin.Services:
    """The session's servers, for tests that stop or restart one."""
    return servers


@pytest.fixture
def user_client(client):
    """Django's test client, logged in as a new user (``client.user``)."""
    from tests.factories import make_user

    user = make_user()
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture(autouse=True)
def _empty_queue(request) -> None:
    """Each test that has the servers starts with an empty queue: no job from
    an earlier test (whose rows the database has since rolled back) is left
    to a worker, and no notification stream of one."""
    if request.node.get_closest_marker(services_plugin.MARKER):
        import django_rq
        import redis
        from django.conf import settings

        django_rq.get_connection("convert").flushdb()
        redis.Redis.from_url(settings.CONVERTER_NOTIFY_REDIS_URL).flushdb()  # and its streams


@pytest.fixture
def worker(request, transactional_db, tmp_path) -> Iterator[Process]:
    """A real ``manage.py rqworker`` process for tests that need the real queue.
    The test's data is committed (transactional_db) so the worker's connection
    sees it. A test marked ``worker_env(NAME=value, ...)`` gives the worker
    extra settings."""
    assert connection.vendor == "postgresql", (
        "the worker fixture shares the PostgreSQL test database"
    )
    marker = request.node.get_closest_marker("worker_env")
    w = rq_worker(tmp_path / "worker.log", marker.kwargs if marker else None).start()
    yield w
    w.stop()


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


@pytest.fixture
def page(page):
    """Playwright's page; the test fails if the browser refused anything
    under the Content-Security-Policy (Chromium says so on the console)."""
    refused: list[str] = []
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    yield page
    assert not refused, refused


@pytest.fixture(scope="session")
def live_server(request):
    """pytest-django's live server, serving static files as production does:
    WhiteNoise (a middleware of the app) answers from the collected files
    under their hashed names, which Django's own static handler (it reads
    the source folders) does not know."""
    from pytest_django.live_server_helper import LiveServer

    addr = request.config.getvalue("liveserver") or "localhost"
    server = LiveServer(addr, start=False)
    server.thread.static_handler = lambda app: app  # the app itself, WhiteNoise first
    server.start()
    yield server
    server.stop()
