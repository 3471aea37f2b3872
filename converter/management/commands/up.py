"""``manage.py up``: the whole product on this machine, on embedded defaults.

Starts Redis and the SeaweedFS S3 server (unless something already answers at
the configured addresses), applies migrations and collects the static files,
then runs the workers, the reconciler and the web server (gunicorn), prints
the URL, and stops everything it started on Ctrl-C. Data
lives in CONVERTER_DATA_DIR, so a second run finds the first run's tasks.
"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from converter.services.queueing import NOTIFY_QUEUE, PREVIEW_QUEUE, QUEUE, requeue_forgotten
from project import localservices as ls
from project import safety

MANAGE = str(Path(settings.BASE_DIR) / "manage.py")
GUNICORN_CONF = str(Path(settings.BASE_DIR) / "project" / "gunicorn_conf.py")
RESTARTS_PER_WINDOW = 5
RESTART_WINDOW_S = 60


class Command(BaseCommand):
    help = "Start Redis, the S3 server, a worker and the web server; Ctrl-C stops them."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000", help="host:port for the web server")

    def handle(self, *args, addr: str, **options) -> None:
        safety.refuse_public_secrets([addr.rsplit(":", 1)[0]])
        data = Path(settings.DATA_DIR)
        data.mkdir(parents=True, exist_ok=True)
        started: list[ls.Service] = []
        workers: list[ls.Service] = []
        try:
            redis_url = urlparse(settings.REDIS_URL)
            redis_port = redis_url.port or 6379
            if not ls.port_open(redis_port, redis_url.hostname or "127.0.0.1"):
                self.stdout.write(f"Starting Redis on port {redis_port} ...")
                started.append(ls.redis_service(redis_port, data / "redis", persist=True).start())
            if settings.CONVERTER_STORAGE == "s3":
                endpoint = urlparse(settings.CONVERTER_S3_ENDPOINT)
                s3_port = endpoint.port or 80
                if not ls.port_open(s3_port, endpoint.hostname or "127.0.0.1"):
                    self.stdout.write(f"Starting SeaweedFS S3 on port {s3_port} ...")
                    s3 = ls.S3Config(
                        settings.CONVERTER_S3_ENDPOINT,
                        settings.CONVERTER_S3_BUCKET,
                        settings.CONVERTER_S3_ACCESS_KEY,
                        settings.CONVERTER_S3_SECRET_KEY,
                        settings.CONVERTER_S3_REGION,
                        tuple(
                            b
                            for b in settings.CONVERTER_API_BUCKETS
                            if b != settings.CONVERTER_S3_BUCKET
                        ),
                    )
                    base = (
                        19333 if not any(ls.port_open(p) for p in (19333, 19334, 19335)) else None
                    )
                    started.append(
                        ls.seaweed_service(s3, s3_port, data / "seaweedfs", base).start()
                    )
            call_command("migrate", interactive=False, verbosity=0)
            self.stdout.write(f"Re-queued {requeue_forgotten()} task(s) that Redis no longer held.")
            python = sys.executable
            # Conversions, notifications and the editor's previews each have
            # their own workers: a slow webhook receiver never delays a
            # conversion, and a person waiting for a preview never waits
            # behind one.
            names = [
                f"{QUEUE}-worker-{n}" for n in range(1, settings.CONVERTER_CONVERT_WORKERS + 1)
            ]
            for name, queue in [
                *((n, QUEUE) for n in names),
                (f"{NOTIFY_QUEUE}-worker", NOTIFY_QUEUE),
                (f"{PREVIEW_QUEUE}-worker", PREVIEW_QUEUE),
            ]:
                worker = ls.Service(
                    name, [python, MANAGE, "worker", "--queue", queue], data / f"{name}.log"
                )
                started.append(worker.start())
                workers.append(worker)
            # Re-queues what Redis forgets and what dead workers leave RUNNING.
            started.append(
                ls.Service(
                    "reconciler",
                    [
                        python,
                        MANAGE,
                        "reconcile",
                        "--every",
                        f"{settings.CONVERTER_RECONCILE_INTERVAL_S:g}",
                    ],
                    data / "reconciler.log",
                ).start()
            )
            call_command("collectstatic", interactive=False, verbosity=0)
            web = ls.Service(
                "web",
                [python, "-m", "gunicorn", "-c", GUNICORN_CONF, "--bind", addr],
                data / "web.log",
                ready=lambda: ls.port_open(int(addr.rsplit(":", 1)[1]), addr.rsplit(":", 1)[0]),
            )
            started.append(web.start())
            self.stdout.write(
                self.style.SUCCESS(f"Loopforge is running at http://{addr}/  (Ctrl-C stops it)")
            )
            self.stdout.write(f"Logs: {data}/*.log")
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            # Ctrl-C stops it even when started in the background by a shell,
            # which starts such jobs with SIGINT ignored (Python keeps that).
            signal.signal(signal.SIGINT, signal.default_int_handler)
            self._supervise(started, data)
        except KeyboardInterrupt:
            self.stdout.write("\nStopping ...")
        finally:
            # The web server and the reconciler first; then the workers, each
            # given CONVERTER_WORKER_GRACE_S to finish its conversion (RQ's warm
            # shutdown; one cut short is RUNNING with no worker, and the
            # reconciler queues it again); Redis and S3 last, which they need.
            rest = [s for s in reversed(started) if s not in workers]
            ls.stop_all([s for s in rest if s.name in ("web", "reconciler")])
            if workers:
                grace = settings.CONVERTER_WORKER_GRACE_S
                self.stdout.write(f"Letting running conversions finish (at most {grace:g} s) ...")
            ls.stop_all(workers, timeout_s=settings.CONVERTER_WORKER_GRACE_S)
            ls.stop_all([s for s in rest if s.name not in ("web", "reconciler")])

    def _supervise(self, services: list[ls.Service], data: Path) -> None:
        """Start again any service that exits; one that exits
        RESTARTS_PER_WINDOW times within RESTART_WINDOW_S stops everything
        (it will not come up, and the log says why)."""
        restarts: dict[str, list[float]] = {s.name: [] for s in services}
        while True:
            time.sleep(0.5)
            for service in services:
                if service.running:
                    continue
                now = time.monotonic()
                recent = [t for t in restarts[service.name] if now - t < RESTART_WINDOW_S]
                if len(recent) >= RESTARTS_PER_WINDOW:
                    self.stderr.write(
                        f"Stopped because {service.name} keeps exiting; see {service.log_path}."
                    )
                    return
                restarts[service.name] = [*recent, now]
                self.stderr.write(f"{service.name} exited; starting it again.")
                try:
                    service.start()
                except RuntimeError as exc:  # it exited before it was ready
                    self.stderr.write(str(exc))
