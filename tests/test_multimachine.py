"""Several machines against shared PostgreSQL, Redis and S3, for real:
network namespaces stand for them (tests/netns.py). ``svc`` holds the
servers; ``m1`` and ``m2`` run gunicorn and workers, ``m3`` only workers;
``client`` runs the load (converter/bench/load.py). Mid-run every process of
``m3`` is killed; every task must still end Succeeded exactly once, with
one output and one usage record, the dead machine's tasks finished by the
others."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import pytest

from project import localservices as ls
from tests.media import ffmpeg, pattern
from tests.netns import Machine, NamespacesRefused, Network
from tests.poll import wait_until
from tests.processes import ROOT, Process, manage

# It starts servers of its own, in namespaces; the full tier, as the
# session's servers are. Bounded: the load run has its own deadline, every
# wait here has one, and pytest-timeout stops the rest.
pytestmark = [pytest.mark.servers, pytest.mark.timeout(1200)]

# Enough load that every machine holds jobs when m3 dies and the others
# carry on for minutes after; more only lengthens CI (a slow CI machine took
# 720 s for 300).
TASKS = 150
USERS = 12  # closed-loop clients: about two tasks in flight per conversion worker
KILL_AFTER_SUCCEEDED = 30
LOAD_TIMEOUT_S = 720  # a quiet 2-core machine needs about 90 s
WORKERS_PER_MACHINE = 2
PASSWORD = "a-Long-passw0rd!"
PG_PORT, REDIS_PORT, S3_PORT, WEED_BASE, WEB_PORT = 5432, 6379, 8333, 9333, 8000


@pytest.fixture
def scratch():
    """A folder the ``postgres`` user can reach (pytest's tmp_path is root's
    own), removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="loopforge-netns-"))
    root.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def network():
    if os.geteuid() != 0:
        pytest.skip("creating network namespaces needs root")
    net = Network()
    try:
        net.create()
    except NamespacesRefused as exc:
        net.remove()
        pytest.skip(f"the kernel refuses network namespaces: {exc}")
    try:
        yield net
    finally:
        net.remove()


def answers(net: Network, client: Machine, host: str, port: int) -> bool:
    """Whether ``host:port`` accepts a connection, seen from ``client``."""
    code = f"import socket; socket.create_connection(({host!r}, {port}), 1).close()"
    net.python(client, code, timeout_s=10)
    return True


REDIS_PASSWORD = secrets.token_urlsafe(24)


def start_servers(net: Network, svc: Machine, client: Machine, root: Path) -> ls.S3Config:
    """PostgreSQL, Redis and SeaweedFS on ``svc``'s address only."""
    s3 = ls.S3Config(
        f"http://{svc.address}:{S3_PORT}",
        "loopforge",
        "loopforge",
        secrets.token_urlsafe(24),
        more_buckets=("loopforge-api",),
    )
    services = [
        ls.postgres_service(PG_PORT, root / "pg", svc.address, str(net.subnet)),
        ls.redis_service(
            REDIS_PORT, root / "redis", persist=False, host=svc.address, password=REDIS_PASSWORD
        ),
        ls.seaweed_service(s3, S3_PORT, root / "weed", WEED_BASE, svc.address),
    ]
    ports = [PG_PORT, REDIS_PORT, S3_PORT]
    for service, port in zip(services, ports, strict=True):
        service.argv = net.argv(svc, service.argv)
        service.ready = lambda port=port: answers(net, client, svc.address, port)
        service.start(timeout_s=90)
    # The S3 server answers before it can store: wait for a round trip (and
    # make the API bucket), from another machine.
    check = (
        "from project.localservices import S3Config, seaweed_ready; import sys; "
        f"sys.exit(0 if seaweed_ready(S3Config(*{json.dumps(list(s3.__dict__.values()))})) else 1)"
    )
    wait_until(lambda: _ok(lambda: net.python(client, check)), 60, 0.5, what="S3 round trip")
    net.python(
        client,
        "import psycopg; psycopg.connect("
        f"'postgresql://postgres@{svc.address}:{PG_PORT}/postgres', autocommit=True)"
        ".execute('CREATE DATABASE loopforge')",
    )
    return s3


def _ok(call) -> bool:
    try:
        call()
    except Exception:
        return False
    return True


def machine_env(svc: Machine, s3: ls.S3Config, web: list[Machine], secret: str) -> dict:
    """What every machine is given: the shared servers, the same secret key."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CONVERTER_", "DATABASE_URL", "REDIS_URL", "DJANGO_"))
    }
    env.update(
        DATABASE_URL=f"postgres://postgres@{svc.address}:{PG_PORT}/loopforge",
        REDIS_URL=f"redis://:{REDIS_PASSWORD}@{svc.address}:{REDIS_PORT}/0",
        CONVERTER_STORAGE="s3",
        CONVERTER_S3_ENDPOINT=s3.endpoint,
        CONVERTER_S3_BUCKET=s3.bucket,
        CONVERTER_S3_ACCESS_KEY=s3.access_key,
        CONVERTER_S3_SECRET_KEY=s3.secret_key,
        DJANGO_SECRET_KEY=secret,
        DJANGO_ALLOWED_HOSTS=",".join(m.address for m in web),
        # One user makes every web task here; the limits are for people.
        CONVERTER_RATE_LIMIT_PER_MINUTE="100000",
        CONVERTER_KEY_RATE_LIMIT_PER_MINUTE="100000",
        CONVERTER_RECONCILE_INTERVAL_S="2",
        CONVERTER_WEB_WORKERS="1",
        CONVERTER_WEB_THREADS="8",
        CONVERTER_LOG_LEVEL="INFO",
    )
    return env


def run_on(net: Network, machine: Machine, env: dict, *args: str, timeout_s: float = 120) -> str:
    done = subprocess.run(
        net.argv(machine, manage(*args)),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )
    assert done.returncode == 0, f"{args} on {machine.name}: {done.stderr[-3000:]}"
    return done.stdout


SETUP = f"""
import json
from django.contrib.auth import get_user_model
from converter.services import access_keys, projects
user = get_user_model().objects.create_user("load", password={PASSWORD!r})
project = projects.project_create(owner=user, name="load")
key, secret = access_keys.access_key_create(project)
print(json.dumps({{"key_id": key.key_id, "secret": secret}}))
"""

HELD = """
import json, socket
import django_rq
from rq.worker import Worker
connection = django_rq.get_connection("convert")
print(json.dumps([w.get_current_job_id() for w in Worker.all(connection=connection)
                  if w.hostname == {host!r} and w.get_current_job_id()]))
"""

FACTS = """
import json
from converter.models import Output, Task, UsageRecord
tasks = {}
for t in Task.objects.all():
    outputs = list(Output.objects.filter(task=t))
    tasks[t.public_id] = {
        "status": t.status, "attempts": t.attempts, "code": t.code, "outputs": len(outputs),
        "done": [o.is_done for o in outputs],
        "usage": [UsageRecord.objects.filter(output=o).count() for o in outputs],
    }
print(json.dumps({"tasks": tasks, "usage_rows": UsageRecord.objects.count()}))
"""


def shell(net: Network, machine: Machine, env: dict, code: str) -> object:
    return json.loads(run_on(net, machine, env, "shell", "-c", code).strip().splitlines()[-1])


class Cluster:
    """The machines' processes: started, their logs, the kill."""

    def __init__(self, net: Network, envs: dict[str, dict], logs: Path) -> None:
        self.net, self.envs, self.logs = net, envs, logs
        self.procs: list[Process] = []

    def start(
        self, machine: Machine, name: str, argv: list[str], env: dict | None = None
    ) -> Process:
        log = self.logs / f"{machine.name}-{name}.log"
        proc = Process(self.net.argv(machine, argv), log, env=env or self.envs[machine.name])
        self.procs.append(proc.start())
        return proc

    def start_roles(self, web: list[Machine], workers_only: list[Machine]) -> None:
        """Web machines: gunicorn, conversion workers, a notification worker
        and a reconciler; the others: conversion workers only."""
        for m in (*web, *workers_only):
            for n in range(WORKERS_PER_MACHINE):
                self.start(m, f"convert-{n}", manage("worker", "--queue", "convert"))
        gunicorn = [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(ROOT / "project" / "gunicorn_conf.py"),
        ]
        for m in web:
            self.start(m, "notify", manage("worker", "--queue", "notify"))
            self.start(m, "reconciler", manage("reconcile", "--every", "2"))
            self.start(m, "web", [*gunicorn, "--bind", f"{m.address}:{WEB_PORT}"])

    def tails(self) -> str:
        return "\n".join(f"--- {p.log_path.name}\n{p.log_tail(1500)}" for p in self.procs)


def worker_hosts(net: Network, client: Machine, svc: Machine) -> list[str]:
    """The host name of every registered conversion worker, from Redis."""
    code = (
        "import redis, json; "
        f"r = redis.Redis(host={svc.address!r}, port={REDIS_PORT}, password={REDIS_PASSWORD!r}); "
        "print(json.dumps(sorted((r.hget(w, 'hostname') or b'?').decode() "
        "for w in r.smembers('rq:workers:convert'))))"
    )
    return json.loads(net.python(client, code))


def kill_while_busy(net: Network, victim: Machine, via: Machine, env: dict) -> list[str]:
    """Every process of ``victim``, SIGKILLed at a moment its workers hold
    jobs (two workers and a queue never empty: at once); the jobs held."""
    held: list = []
    for _ in range(20):
        held = shell(net, via, env, HELD.format(host=victim.name))  # type: ignore[assignment]
        if held:
            break
    killed = net.kill_all(victim)
    assert held and killed, (held, killed)
    wait_until(lambda: not net.pids(victim), 10, 0.2, what=f"{victim.name}'s processes to die")
    return held


def load_argv(
    web: list[Machine], key: dict, clip: Path, progress: Path, records: Path
) -> list[str]:
    return [
        sys.executable, "-m", "converter.bench.load",
        *(a for m in web for a in ("--web", f"http://{m.address}:{WEB_PORT}")),
        "--username", "load", "--password", PASSWORD, "--project", "load",
        "--key-id", key["key_id"], "--key-secret", key["secret"],
        "--clip", str(clip), "--tasks", str(TASKS), "--users", str(USERS),
        "--api-share", "0.5", "--poll-s", "0.5", "--timeout-s", str(LOAD_TIMEOUT_S),
        "--progress", str(progress), "--records", str(records),
    ]  # fmt: skip


def succeeded_so_far(progress: Path) -> int:
    try:
        return int(json.loads(progress.read_text())["succeeded"])
    except (FileNotFoundError, ValueError):
        return 0


def test_three_machines_finish_every_task_once_when_one_dies(network: Network, tmp_path, scratch):
    net = network
    svc, client = net.add("svc"), net.add("client")
    m1, m2, m3 = net.add("m1"), net.add("m2"), net.add("m3")
    web = [m1, m2]
    s3 = start_servers(net, svc, client, scratch)
    env = machine_env(svc, s3, web, secrets.token_urlsafe(50))
    envs = {m.name: {**env, "CONVERTER_DATA_DIR": str(tmp_path / m.name)} for m in (m1, m2, m3)}
    run_on(net, m1, envs["m1"], "migrate", "--no-input")
    for m in web:
        run_on(net, m, envs[m.name], "collectstatic", "--no-input", "-v", "0")
    key = shell(net, m1, envs["m1"], SETUP)
    assert isinstance(key, dict)

    cluster = Cluster(net, envs, tmp_path)
    cluster.start_roles(web, [m3])
    wait_until(
        lambda: (
            _ok(lambda: [answers(net, client, m.address, WEB_PORT) for m in web])
            and len(worker_hosts(net, client, svc)) == 3 * WORKERS_PER_MACHINE
        ),
        120,
        0.5,
        what=lambda: f"the web servers and {3 * WORKERS_PER_MACHINE} workers\n{cluster.tails()}",
    )
    assert Counter(worker_hosts(net, client, svc)) == {
        m.name: WORKERS_PER_MACHINE for m in (m1, m2, m3)
    }

    clip = tmp_path / "clip.mp4"
    ffmpeg(*pattern("64x48", 10, 1), "-c:v", "libx264", "-pix_fmt", "yuv420p", str(clip))
    progress, records = tmp_path / "progress.json", tmp_path / "records.json"
    started = time.monotonic()
    load = cluster.start(client, "load", load_argv(web, key, clip, progress, records), env)
    wait_until(
        lambda: succeeded_so_far(progress) >= KILL_AFTER_SUCCEEDED or not load.running,
        180,
        0.5,
        what=lambda: f"{KILL_AFTER_SUCCEEDED} tasks done\n{cluster.tails()}",
    )
    assert load.running, load.log_tail()
    held = kill_while_busy(net, m3, m1, envs["m1"])
    killed_at = time.monotonic() - started

    load.wait(LOAD_TIMEOUT_S + 60)
    assert load.proc and load.proc.returncode == 0, load.log_tail()
    assert "Traceback" not in load.log(), load.log_tail(4000)  # no user thread died
    run = json.loads(records.read_text())
    summary = run["summary"]
    facts = shell(net, m1, envs["m1"], FACTS)
    assert isinstance(facts, dict)

    # The client: every task submitted once and seen to succeed.
    # A lost task is one the client still saw unfinished when its time ran
    # out: the database says whether it was stuck or only slow (a loaded
    # machine), and how long the run took.
    unfinished = {
        t["task_id"]: facts["tasks"].get(t["task_id"])
        for t in run["tasks"]
        if t["task_id"] and t["status"] not in ("succeeded", "failed")
    }
    elapsed = f"{time.monotonic() - started:.0f} s"
    assert summary["not_submitted"] == 0 and summary["lost"] == 0, (
        summary, run["errors"][:5], unfinished, elapsed,
    )  # fmt: skip
    assert summary["duplicate_ids"] == 0 and summary["succeeded"] == TASKS, summary
    kinds = Counter((t["kind"], t["web"]) for t in run["tasks"])
    assert len(kinds) == 4 and min(kinds.values()) >= TASKS // 4 - 1, kinds  # both kinds, both webs
    # The database: exactly these tasks, each Succeeded once with one
    # stored output billed once.
    tasks = facts["tasks"]
    assert set(tasks) == {t["task_id"] for t in run["tasks"]} and len(tasks) == TASKS
    assert Counter(t["status"] for t in tasks.values()) == {"succeeded": TASKS}
    assert all(t["outputs"] == 1 and t["done"] == [True] for t in tasks.values())
    assert all(t["usage"] == [1] for t in tasks.values()) and facts["usage_rows"] == TASKS
    # What m3 held when it died was finished by the others.
    held_tasks = {job.removeprefix("convert-").rsplit("-", 1)[0] for job in held}
    assert held_tasks <= set(tasks)
    ran = {
        m.name: sum(
            p.log().count("convert: Job OK")
            for p in cluster.procs
            if p.log_path.name.startswith(f"{m.name}-convert")
        )
        for m in (m1, m2, m3)
    }
    print(
        f"\nconversions finished per machine: {ran}"
        f"\n{TASKS} tasks on 2 web + 1 worker-only machines, m3 killed at {killed_at:.0f} s "
        f"holding {sorted(held_tasks)} (attempts now "
        f"{[tasks[t]['attempts'] for t in sorted(held_tasks)]}): {json.dumps(summary)}"
    )
