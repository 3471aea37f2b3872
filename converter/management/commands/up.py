"""``manage.py up``: the whole product on this machine, on embedded defaults.

Starts Redis and the SeaweedFS S3 server (unless something already answers at
the configured addresses), applies migrations, then runs one RQ worker and the
web server, prints the URL, and stops everything it started on Ctrl-C. Data
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

from converter.services.queueing import NOTIFY_QUEUE, QUEUE, requeue_forgotten
from project import localservices as ls

MANAGE = str(Path(settings.BASE_DIR) / "manage.py")


class Command(BaseCommand):
    help = "Start Redis, the S3 server, a worker and the web server; Ctrl-C stops them."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000", help="host:port for the web server")

    def handle(self, *args, addr: str, **options) -> None:
        data = Path(settings.DATA_DIR)
        data.mkdir(parents=True, exist_ok=True)
        started: list[ls.Service] = []
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
            # Conversions and notifications each have their own worker, so a
            # slow webhook receiver never delays a conversion.
            for queue in (QUEUE, NOTIFY_QUEUE):
                started.append(
                    ls.Service(
                        f"{queue}-worker",
                        [python, MANAGE, "worker", "--queue", queue],
                        data / f"{queue}-worker.log",
                    ).start()
                )
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
            web = ls.Service(
                "web",
                [python, MANAGE, "runserver", addr, "--noreload", "--insecure"],
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
            while all(s.running for s in started):
                time.sleep(0.5)
            dead = [s.name for s in started if not s.running]
            self.stderr.write(f"Stopped because {', '.join(dead)} exited; see the logs in {data}.")
        except KeyboardInterrupt:
            self.stdout.write("\nStopping ...")
        finally:
            ls.stop_all(list(reversed(started)))
