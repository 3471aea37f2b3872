"""``manage.py worker``: an RQ worker on the converter's queues, started the
one way every deployment (``up``, the tests, a server) starts it: with the
project's JSON serializer and RQ's scheduler (delayed retries need it)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from converter.services.queueing import NOTIFY_QUEUE, PREVIEW_QUEUE, QUEUE


class Command(BaseCommand):
    help = "Run an RQ worker on the notification, preview and conversion queues (or some)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--queue",
            action="append",
            choices=[QUEUE, NOTIFY_QUEUE, PREVIEW_QUEUE],
            help="a queue to serve (repeatable); default: all, notifications first, "
            "then previews, then conversions",
        )

    def handle(self, *args: Any, queue: list[str] | None, **options: Any) -> None:
        call_command(
            "rqworker",
            *(queue or [NOTIFY_QUEUE, PREVIEW_QUEUE, QUEUE]),
            with_scheduler=True,
            serializer=settings.RQ_SERIALIZER,
            worker_class="converter.worker.Worker",  # its exit bounded (converter/worker.py)
        )
