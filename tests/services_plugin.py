"""Real services for the test session, started before Django reads its settings.

Loaded with ``-p tests.services_plugin`` (see pyproject.toml), so that its
``pytest_load_initial_conftests`` runs before pytest-django sets Django up:
the private Redis and SeaweedFS on free ports, and PostgreSQL (the machine's,
or a private cluster when none answers), are in the environment by then.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from project import localservices as ls

S3 = ls.S3Config("", "loopforge-test", "testaccess", "testsecret-0123456789")


class Services:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.redis_port = ls.free_port()
        self.s3_port = ls.free_seaweed_port()
        self.s3 = ls.S3Config(
            f"http://127.0.0.1:{self.s3_port}", S3.bucket, S3.access_key, S3.secret_key
        )
        self.redis = ls.redis_service(self.redis_port, root / "redis", persist=False)
        self.seaweed = ls.seaweed_service(self.s3, self.s3_port, root / "seaweedfs")
        self.postgres: ls.Service | None = None

    def start(self) -> None:
        self.redis.start()
        self.seaweed.start()
        os.environ.update(
            REDIS_URL=f"redis://127.0.0.1:{self.redis_port}/0",
            CONVERTER_STORAGE="s3",
            CONVERTER_S3_ENDPOINT=self.s3.endpoint,
            CONVERTER_S3_BUCKET=self.s3.bucket,
            CONVERTER_S3_ACCESS_KEY=self.s3.access_key,
            CONVERTER_S3_SECRET_KEY=self.s3.secret_key,
            CONVERTER_DATA_DIR=str(self.root / "data"),
            # The tests' webhook receiver listens on 127.0.0.1.
            CONVERTER_WEBHOOK_ALLOW_PRIVATE="True",
        )
        os.environ.setdefault("DATABASE_URL", self._postgres_url())
        os.environ.setdefault(
            "DJANGO_ALLOW_ASYNC_UNSAFE", "true"
        )  # sync ORM inside Playwright tests

    def _postgres_url(self) -> str:
        # A name of this run's own: pytest-django creates "test_<name>", and
        # several test runs may share one server.
        name = f"loopforge_{os.getpid()}"
        if ls.port_open(5432):
            return f"postgres://postgres@127.0.0.1:5432/{name}"
        port = ls.free_port()
        self.postgres = ls.postgres_service(port, self.root / "postgres").start()
        return f"postgres://postgres@127.0.0.1:{port}/{name}"

    def restart_redis(self) -> None:
        """Stop Redis and start an empty one on the same port (data lost)."""
        self.redis.kill()
        self.redis = ls.redis_service(self.redis_port, self.root / "redis", persist=False).start()

    def stop(self) -> None:
        ls.stop_all([s for s in (self.postgres, self.seaweed, self.redis) if s])


SERVICES: Services | None = None


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args) -> None:
    global SERVICES
    if getattr(early_config.known_args_namespace, "help", False):
        return
    root = Path(tempfile.mkdtemp(prefix="loopforge-test-"))
    SERVICES = Services(root)

    def cleanup() -> None:
        SERVICES.stop()
        shutil.rmtree(root, ignore_errors=True)

    early_config.add_cleanup(cleanup)
    SERVICES.start()
