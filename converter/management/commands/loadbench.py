"""``manage.py loadbench``: the load benchmark against a running stack.

For each worker count (``--workers 1,2,4``) it starts that many conversion
workers of its own (``manage.py worker --queue convert``, this process's
settings), runs a bounded load through the web servers
(``converter.bench.load``: people uploading clips through the page and API
clients, each polling its task), stops the workers and prints throughput,
the p50/p95 of page and API latency and of task completion, errors and lost
tasks, and CPU per task. Run the stack without conversion workers of its
own, and with the per-user and per-key task limits raised, so that only the
benchmark's workers convert and nothing is throttled::

    CONVERTER_CONVERT_WORKERS=0 CONVERTER_RATE_LIMIT_PER_MINUTE=100000 \\
      CONVERTER_KEY_RATE_LIMIT_PER_MINUTE=100000 ./loopforge start &
    .venv/bin/python manage.py loadbench --workers 1,2,4 --tasks 60

Figures and how to read them: docs/load-benchmark.md.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import django_rq
import imageio_ffmpeg
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rq.worker import Worker

from converter.bench.load import LoadConfig, run
from converter.services import access_keys, projects
from converter.services.queueing import QUEUE

MANAGE = str(Path(settings.BASE_DIR) / "manage.py")
WORKER_START_S = 60


def machine_cpu_s() -> float:
    """CPU seconds every core of this machine has spent so far (/proc/stat)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    busy = sum(int(v) for i, v in enumerate(fields) if i not in (3, 4))  # not idle, iowait
    return busy / os.sysconf("SC_CLK_TCK")


def tree_cpu_s(root: int) -> float:
    """CPU seconds of process ``root`` and all its descendants, those still
    running and those it reaped (/proc: utime, stime, cutime, cstime)."""
    total, todo, seen = 0.0, [root], set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            tasks = list(Path(f"/proc/{pid}/task").iterdir())
        except OSError:
            continue  # it ended meanwhile (its parent's cutime has it)
        total += sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")
        for task in tasks:
            with contextlib.suppress(OSError):
                todo += [int(c) for c in (task / "children").read_text().split()]
    return total


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def conversion_workers() -> int:
    connection = django_rq.get_connection(QUEUE)
    return len(Worker.all(queue=django_rq.get_queue(QUEUE), connection=connection))


def make_clip(folder: Path, size: str, seconds: float) -> Path:
    clip = folder / "clip.mp4"
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-v", "error", "-y", "-f", "lavfi",
         "-i", f"testsrc2=size={size}:rate=10:duration={seconds}",
         "-c:v", "libx264", "-pix_fmt", "yuv420p", str(clip)],
        check=True,
    )  # fmt: skip
    return clip


class Command(BaseCommand):
    help = "Load benchmark against the running stack, for 1, 2 and 4 conversion workers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--web", action="append", help="a web address (repeat; default "
                            "http://127.0.0.1:8000)")  # fmt: skip
        parser.add_argument("--workers", default="1,2,4", help="worker counts, comma-separated")
        parser.add_argument("--tasks", type=int, default=60, help="tasks per worker count")
        parser.add_argument("--users", type=int, default=4, help="concurrent clients")
        parser.add_argument("--api-share", type=float, default=0.5)
        parser.add_argument("--clip-size", default="64x48")
        parser.add_argument("--clip-seconds", type=float, default=1.0)
        parser.add_argument("--timeout-s", type=float, default=600, help="per worker count")
        parser.add_argument("--json", type=Path, help="also write the results here")
        parser.add_argument(
            "--stack-pid",
            type=int,
            help="the pid of the stack (`manage.py up`): its CPU (web, Redis, S3...) per task",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        web = tuple(w.rstrip("/") for w in (opts["web"] or ["http://127.0.0.1:8000"]))
        counts = [int(n) for n in opts["workers"].split(",") if n]
        if conversion_workers():
            self.stderr.write(
                f"warning: {conversion_workers()} conversion worker(s) already serve the queue; "
                "their work is in the throughput but not in the CPU figures"
            )
        if opts["tasks"] > settings.CONVERTER_RATE_LIMIT_PER_MINUTE:
            self.stderr.write(
                "warning: CONVERTER_RATE_LIMIT_PER_MINUTE is "
                f"{settings.CONVERTER_RATE_LIMIT_PER_MINUTE}: uploads will be throttled"
            )
        password = secrets.token_urlsafe(16)
        user = get_user_model().objects.create_user(
            f"loadbench-{secrets.token_hex(4)}", password=password
        )
        project = projects.project_create(owner=user, name=f"loadbench-{secrets.token_hex(4)}")
        key, secret = access_keys.access_key_create(project)
        results = []
        with tempfile.TemporaryDirectory(prefix="loadbench-") as tmp:
            clip = make_clip(Path(tmp), opts["clip_size"], opts["clip_seconds"])
            for n in counts:
                config = LoadConfig(
                    web=web,
                    username=user.username,
                    password=password,
                    key_id=key.key_id,
                    key_secret=secret,
                    project=project.name,
                    clip=clip,
                    tasks=opts["tasks"],
                    users=opts["users"],
                    api_share=opts["api_share"],
                    bucket=settings.CONVERTER_API_BUCKETS[0],
                    timeout_s=opts["timeout_s"],
                )
                results.append(self._one(n, config, Path(tmp), opts["stack_pid"]))
                self.stdout.write(json.dumps(results[-1]))
        self.stdout.write(self._table(results))
        if opts["json"]:
            opts["json"].write_text(json.dumps(results, indent=2))

    def _one(self, n: int, config: LoadConfig, tmp: Path, stack: int | None) -> dict[str, Any]:
        """One load run with ``n`` workers of our own."""
        before = conversion_workers()
        cpu_children, cpu_machine = children_cpu_s(), machine_cpu_s()
        cpu_stack = tree_cpu_s(stack) if stack else 0.0
        workers = [
            subprocess.Popen(
                [sys.executable, MANAGE, "worker", "--queue", QUEUE],
                stdout=open(tmp / f"worker-{n}-{i}.log", "ab"),  # noqa: SIM115 (the child's)
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
            for i in range(n)
        ]
        try:
            deadline = time.monotonic() + WORKER_START_S
            while conversion_workers() < before + n:
                if time.monotonic() > deadline:
                    raise CommandError(f"{n} workers did not register in {WORKER_START_S} s")
                time.sleep(0.2)
            report = run(config)
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            for worker in workers:
                try:
                    worker.wait(60)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()
        summary = report.summary()
        done = max(summary["succeeded"], 1)
        worker_cpu = children_cpu_s() - cpu_children
        machine_cpu = machine_cpu_s() - cpu_machine
        stack_cpu = tree_cpu_s(stack) - cpu_stack if stack else None
        return {
            "workers": n,
            **summary,
            "worker_cpu_s_per_task": round(worker_cpu / done, 3),
            "stack_cpu_s_per_task": round(stack_cpu / done, 3) if stack_cpu is not None else None,
            # Everything on the machine, other users' work included.
            "machine_cpu_s_per_task": round(machine_cpu / done, 3),
            "first_errors": report.errors[:3],
        }

    @staticmethod
    def _table(results: list[dict[str, Any]]) -> str:
        head = (
            "| workers | tasks | ok | lost | errors | tasks/min | page p50/p95 s | "
            "API p50/p95 s | completion p50/p95 s | CPU s/task: workers | stack | machine |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|---|"
        )
        rows = [
            f"| {r['workers']} | {r['tasks']} | {r['succeeded']} | {r['lost']} | {r['errors']} "
            f"| {r['tasks_per_minute']} "
            f"| {r['page_latency_s']['p50']} / {r['page_latency_s']['p95']} "
            f"| {r['api_latency_s']['p50']} / {r['api_latency_s']['p95']} "
            f"| {r['completion_s']['p50']} / {r['completion_s']['p95']} "
            f"| {r['worker_cpu_s_per_task']} | {r['stack_cpu_s_per_task']} "
            f"| {r['machine_cpu_s_per_task']} |"
            for r in results
        ]
        return "\n".join([head, *rows])
