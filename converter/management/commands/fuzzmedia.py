"""``python manage.py fuzzmedia``: the media fuzzer's longer run.

All the work is in the converter.mediafuzz package (also runnable as
``python -m converter.mediafuzz``); it needs no database, Redis or storage.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from converter.mediafuzz import cli


class Command(BaseCommand):
    help = "Mutate valid clips of every container; count how probe and conversion end."
    requires_system_checks: tuple[str, ...] = ()  # none: it touches no model
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "args", nargs="*", help="options of converter.mediafuzz, e.g. --cases 20000 --seed 7"
        )

    def run_from_argv(self, argv: list[str]) -> None:
        # Everything after "fuzzmedia" goes to the fuzzer's own parser (as
        # with the benchmark), so its options work here exactly as with -m.
        options = argv[2:]
        if options[:1] == ["--"]:
            options = options[1:]
        raise SystemExit(cli.main(options))

    def handle(self, *args: Any, **options: Any) -> None:
        raise SystemExit(cli.main(list(args)))
