"""A management command that hands its whole command line to a module's own
``main(argv) -> int`` (the benchmark, the media fuzzer), so its options work
as with ``python -m``; a leading ``--`` only separates them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class PassThroughCommand(BaseCommand):
    main: Callable[[list[str]], int]
    example = ""  # options to show in --help
    requires_system_checks: tuple[str, ...] = ()  # none: such a command touches no model
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("args", nargs="*", help=f"its own options, e.g. {self.example}")

    def run_from_argv(self, argv: list[str]) -> None:
        options = argv[2:]  # everything after the command's name
        if options[:1] == ["--"]:
            options = options[1:]
        raise SystemExit(type(self).main(options))

    def handle(self, *args: Any, **options: Any) -> None:
        raise SystemExit(type(self).main(list(args)))
