"""``python manage.py benchmark``: our encoders against the reference tools.

All the work is in the converter.bench package (also runnable as
``python -m converter.bench``); it needs no database, Redis or storage.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from converter.bench import cli


class Command(BaseCommand):
    help = "Benchmark our GIF/WebP encoders against ffmpeg, gifski and MoviePy."
    requires_system_checks: tuple[str, ...] = ()  # none: it touches no model
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "args",
            nargs="*",
            help="options of converter.bench, e.g. --quick, also after -- (see --help)",
        )

    def run_from_argv(self, argv: list[str]) -> None:
        # Hand everything after "benchmark" to the benchmark's own parser, so
        # its options (--quick, --only, ...) work here exactly as with -m; a
        # leading "--" (as in "benchmark -- --quick") only separates them.
        options = argv[2:]
        if options[:1] == ["--"]:
            options = options[1:]
        raise SystemExit(cli.main(options))

    def handle(self, *args: Any, **options: Any) -> None:
        raise SystemExit(cli.main(list(args)))
