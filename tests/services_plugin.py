"""The servers of the test session (Redis, SeaweedFS for S3, PostgreSQL),
started only when a selected test needs them, and the two tiers of tests.

Loaded with ``-p tests.services_plugin`` (pyproject.toml), so that its
``pytest_load_initial_conftests`` runs before pytest-django sets Django up.
That hook only *reserves* the servers' ports (each held by a bound socket
until its server starts) and puts their addresses in the environment, which
is all the settings read.

After collection every test is in one of two tiers:

- **needs servers**: it is marked ``django_db``, ``browser`` or ``servers``,
  or it uses a fixture of ``SERVER_FIXTURES``, directly or through other
  fixtures (a fixture of ours that needs the servers requests ``servers``).
  It gets the ``servers`` marker. If any selected test has it, the servers
  start once, before the first test. ``--fast`` deselects all of them, and
  the tests marked ``slow`` (the format matrix, minutes of CPU on its own).
- **fast**, the rest, which must not touch a server: while one runs, a
  connection to a server's port raises ``ServersNotAllowed`` and fails the
  test, even if the code under test swallows the error. So a test that
  needs a server but does not say so fails in both tiers, instead of
  passing only because the servers happened to be running.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from project import localservices as ls

S3 = ls.S3Config("", "loopforge-test", "testaccess", "testsecret-0123456789")
# The settings' default for CONVERTER_API_BUCKETS: the app's bucket + "-api".
API_BUCKET = f"{S3.bucket}-api"

MARKER = "servers"
SLOW = "slow"  # needs no server, but is too slow for --fast
SERVER_MARKERS = frozenset({MARKER, "django_db", "browser"})
# Fixtures that reach a server: pytest-django's database and live server,
# the clients (whose views need the database), Playwright's browser, and
# ours, which request "servers".
SERVER_FIXTURES = frozenset(
    {
        MARKER,
        "db",
        "transactional_db",
        "django_db_reset_sequences",
        "django_db_serialized_rollback",
        "django_db_setup",
        "live_server",
        "client",
        "async_client",
        "admin_client",
        "admin_user",
        "django_user_model",
        "browser",
        "context",
        "page",
    }
)


def needs_servers(item: pytest.Item) -> bool:
    if any(item.get_closest_marker(name) for name in SERVER_MARKERS):
        return True
    return not SERVER_FIXTURES.isdisjoint(getattr(item, "fixturenames", ()))


class ServersNotAllowed(BaseException):
    """A test that is not marked as needing servers connected to one. A
    BaseException, so that a client library's ``except Exception`` (Redis,
    boto) cannot turn it into a quiet fallback."""


class Reservation:
    """A port on 127.0.0.1 held by a bound socket, so that nobody else takes
    it, until ``release`` just before its server binds it."""

    def __init__(self, port: int = 0) -> None:
        self._socket: socket.socket | None = socket.socket()
        self._socket.bind(("127.0.0.1", port))
        self.port: int = self._socket.getsockname()[1]

    def release(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None


def _reserve_seaweed(count: int) -> tuple[int, list[Reservation]]:
    """``count`` consecutive ports for SeaweedFS, and their gRPC twins (+10000)."""
    for _ in range(50):
        base = ls.free_seaweed_port(count)
        held: list[Reservation] = []
        try:
            for port in range(base, base + count):
                held += [Reservation(port), Reservation(port + 10000)]
        except OSError:  # taken meanwhile, or one we hold already: another block
            for reservation in held:
                reservation.release()
            continue
        return base, held
    raise RuntimeError("no free port block for SeaweedFS")


class Services:
    """The session's servers: their addresses chosen at once, their processes
    started on demand (``start``); ``started`` names what was started."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.started: list[str] = []
        self._redis_port = Reservation()
        self.redis_port = self._redis_port.port
        self.s3_port, self._s3_ports = _reserve_seaweed(1)
        self._seaweed_base, self._seaweed_ports = _reserve_seaweed(3)
        self.s3 = ls.S3Config(
            f"http://127.0.0.1:{self.s3_port}",
            S3.bucket,
            S3.access_key,
            S3.secret_key,
            more_buckets=(API_BUCKET,),
        )
        self._postgres_port: Reservation | None = None
        self.redis: ls.Service | None = None
        self.seaweed: ls.Service | None = None
        self.postgres: ls.Service | None = None

    def environment(self) -> dict[str, str]:
        """What the settings read, pointing at these servers."""
        return {
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "CONVERTER_STORAGE": "s3",
            "CONVERTER_S3_ENDPOINT": self.s3.endpoint,
            "CONVERTER_S3_BUCKET": self.s3.bucket,
            "CONVERTER_S3_ACCESS_KEY": self.s3.access_key,
            "CONVERTER_S3_SECRET_KEY": self.s3.secret_key,
            "CONVERTER_DATA_DIR": str(self.root / "data"),
            # The tests' webhook receiver listens on 127.0.0.1.
            "CONVERTER_WEBHOOK_ALLOW_PRIVATE": "True",
        }

    def postgres_url(self) -> str:
        """The machine's PostgreSQL on 5432, or a private one (started with
        the others) on a port of its own."""
        # A name of this run's own: pytest-django creates "test_<name>", and
        # several test runs may share one server.
        name = f"loopforge_{os.getpid()}"
        if ls.port_open(5432):
            return f"postgres://postgres@127.0.0.1:5432/{name}"
        self._postgres_port = Reservation()
        return f"postgres://postgres@127.0.0.1:{self._postgres_port.port}/{name}"

    @property
    def ports(self) -> set[int]:
        """The servers' ports, which a fast test must not connect to."""
        ports = {self.redis_port, self.s3_port, 5432}
        if self._postgres_port:
            ports.add(self._postgres_port.port)
        return ports

    def start(self) -> None:
        self._redis_port.release()
        self.redis = ls.redis_service(self.redis_port, self.root / "redis", persist=False).start()
        self.started.append("redis")
        for reservation in self._s3_ports + self._seaweed_ports:
            reservation.release()
        self.seaweed = ls.seaweed_service(
            self.s3, self.s3_port, self.root / "seaweedfs", base_port=self._seaweed_base
        ).start()
        self.started.append("seaweedfs")
        if self._postgres_port:
            self._postgres_port.release()
            port = self._postgres_port.port
            self.postgres = ls.postgres_service(port, self.root / "postgres").start()
            self.started.append("postgres")

    def restart_redis(self) -> None:
        """Stop Redis and start an empty one on the same port (data lost)."""
        assert self.redis, "Redis was not started"
        self.redis.kill()
        self.redis = ls.redis_service(self.redis_port, self.root / "redis", persist=False).start()

    def stop(self) -> None:
        ls.stop_all([s for s in (self.postgres, self.seaweed, self.redis) if s])
        for reservation in [self._redis_port, *self._s3_ports, *self._seaweed_ports]:
            reservation.release()
        if self._postgres_port:
            self._postgres_port.release()


SERVICES: Services | None = None


def services() -> Services:
    assert SERVICES is not None, "tests.services_plugin did not set up the session"
    return SERVICES


@pytest.fixture(scope="session")
def servers() -> Services:
    """The session's servers. A fixture that needs them and requests none of
    pytest-django's database fixtures requests this one."""
    return services()


# --- the guard: no server for a test that does not say it needs one -------------

_refused: set[int] = set()  # the servers' ports, while a fast test runs
_violations: list[str] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event != "socket.connect" or not _refused:
        return
    address = args[1]
    if isinstance(address, tuple) and len(address) >= 2 and address[1] in _refused:
        message = (
            f"this test connected to {address[0]}:{address[1]}, a server of the test "
            "session, but is not marked as needing servers: request the fixture that "
            f"gives it (db, client, worker, servers...) or mark it @pytest.mark.{MARKER}"
        )
        _violations.append(message)
        raise ServersNotAllowed(message)


class _Guard:
    def __init__(self, item: pytest.Item | None) -> None:
        self.active = item is not None and not item.get_closest_marker(MARKER)

    def __enter__(self) -> None:
        if self.active:
            _refused.update(services().ports)

    def __exit__(self, *exc: object) -> None:
        _refused.clear()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    _violations.clear()
    try:
        return (yield)
    finally:
        _violations.clear()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    if item.get_closest_marker(MARKER) and not services().started:
        pytest.fail(f"{item.nodeid} needs the servers, which this run did not start")
    with _Guard(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    with _Guard(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Iterator[pytest.TestReport]:
    report: pytest.TestReport = yield
    if _violations:
        if report.passed:  # the error was swallowed: the test fails all the same
            report.outcome = "failed"
            report.longrepr = f"ServersNotAllowed: {_violations[0]}"
        _violations.clear()
    return report


# --- the session ---------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fast",
        action="store_true",
        help="run only the tests that need no server (database, Redis, S3, worker, live "
        "server, browser), and start none",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: Any, args: Any) -> None:
    global SERVICES
    if getattr(early_config.known_args_namespace, "help", False):
        return
    root = Path(tempfile.mkdtemp(prefix="loopforge-test-"))
    SERVICES = Services(root)

    def cleanup() -> None:
        services().stop()
        shutil.rmtree(root, ignore_errors=True)

    early_config.add_cleanup(cleanup)
    os.environ.update(SERVICES.environment())
    if "DATABASE_URL" not in os.environ:
        os.environ["DATABASE_URL"] = SERVICES.postgres_url()
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # sync ORM inside Playwright tests
    sys.addaudithook(_audit)


def pytest_configure(config: pytest.Config) -> None:
    if SERVICES is not None:
        # Pages name static files by their hashed names (WhiteNoise's manifest
        # storage), as in production: collected into this run's data folder.
        from django.core.management import call_command

        call_command("collectstatic", interactive=False, verbosity=0)
    config.addinivalue_line(
        "markers",
        f"{MARKER}: needs the session's Redis, SeaweedFS and PostgreSQL (given by "
        "itself to a test that uses the database, a client, the live server, the "
        "browser or a worker); --fast leaves these tests out",
    )
    config.addinivalue_line(
        "markers",
        f"{SLOW}: needs no server but takes too long for --fast, which leaves it out "
        "(the full run has it)",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if needs_servers(item) and not item.get_closest_marker(MARKER):
            item.add_marker(MARKER)
    if config.getoption("fast", False):
        fast = [i for i in items if not any(map(i.get_closest_marker, (MARKER, SLOW)))]
        if len(fast) < len(items):
            config.hook.pytest_deselected(items=[i for i in items if i not in set(fast)])
            items[:] = fast


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> None:
    if session.config.option.collectonly or SERVICES is None:
        return
    if any(item.get_closest_marker(MARKER) for item in session.items):
        SERVICES.start()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if SERVICES is None:
        return
    if getattr(config.option, "numprocesses", None) and not config.getoption("fast"):
        # Under xdist each worker starts its own servers; this process starts none.
        terminalreporter.write_line("servers: started by each xdist worker that needs them")
        return
    started = ", ".join(SERVICES.started) or "none"
    terminalreporter.write_line(f"servers started for this run: {started}")
