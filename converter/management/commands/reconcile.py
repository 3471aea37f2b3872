"""``manage.py reconcile``: re-queue tasks that Redis forgot or whose worker died.

Once by default; ``--every SECONDS`` loops (``manage.py up`` runs it so).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from django.conf import settings
from django.core.management.base import BaseCommand

from converter.reconcile import reconcile


class Command(BaseCommand):
    help = "Re-queue QUEUED tasks with no job and RUNNING tasks whose worker is gone."

    def add_arguments(self, parser):
        parser.add_argument(
            "--every",
            type=float,
            default=None,
            metavar="SECONDS",
            help=(
                f"repeat forever (e.g. {settings.CONVERTER_RECONCILE_INTERVAL_S:g}); "
                "default: run once"
            ),
        )

    def handle(self, *args, every: float | None, **options) -> None:
        while True:
            try:
                report = reconcile()
                if report.changed or every is None:  # a loop stays quiet when all is well
                    self.stdout.write(f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S} {report}")
            except Exception as exc:  # Redis or the database is down: try next time
                if every is None:
                    raise
                self.stderr.write(f"reconcile failed: {exc!r}")
            if every is None:
                return
            time.sleep(every)
