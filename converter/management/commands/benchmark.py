"""``python manage.py benchmark``: our encoders against the reference tools.

All the work is in converter.benchmark (also runnable as
``python -m converter.benchmark``); it needs no database, Redis or storage.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from converter import benchmark


class Command(BaseCommand):
    help = "Benchmark our GIF/WebP encoders against ffmpeg, gifski and MoviePy."
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "args",
            nargs="*",
            help="options of converter.benchmark, after --, e.g. -- --quick (see -- --help)",
        )

    def run_from_argv(self, argv: list[str]) -> None:
        # Hand everything after "benchmark" to the benchmark's own parser, so
        # its options (--quick, --only, ...) work here exactly as with -m.
        raise SystemExit(benchmark.main(argv[2:]))

    def handle(self, *args: Any, **options: Any) -> None:
        raise SystemExit(benchmark.main(list(args)))
