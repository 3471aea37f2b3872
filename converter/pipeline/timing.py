"""Where a task's time goes: its parts timed by name, for one log line.

On a short, small clip the fixed costs (fetching, probing, starting the
sampler, MoviePy's clip, the encoder's start, the share page's renditions)
are much of the whole; ``Stopwatch`` names each so that the worker's log and
the benchmark show them, and ``first_pull`` times how long an iterator of
frames takes to give its first one."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")


class Stopwatch:
    """Seconds per named part, in the order the parts first ran."""

    def __init__(self) -> None:
        self.parts: dict[str, float] = {}
        self._started = time.monotonic()

    @contextmanager
    def part(self, name: str) -> Iterator[None]:
        """Time the block as ``name`` (added to what ``name`` had)."""
        start = time.monotonic()
        try:
            yield
        finally:
            self.add(name, time.monotonic() - start)

    def add(self, name: str, seconds: float) -> None:
        self.parts[name] = self.parts.get(name, 0.0) + seconds

    def __str__(self) -> str:
        total = time.monotonic() - self._started
        shown = format_parts(self.parts)
        return f"{shown}; total {total:.2f}s" if shown else f"total {total:.2f}s"


def format_parts(parts: dict[str, float]) -> str:
    """``{"probe_s": 0.1, "store": 0.2}`` as "probe 0.10s, store 0.20s", in order."""
    return ", ".join(f"{name.removesuffix('_s')} {seconds:.2f}s" for name, seconds in parts.items())


def first_pull(frames: Iterator[T], record: Callable[[float, float], None]) -> Iterator[T]:
    """``frames`` again; ``record`` gets the moment of the first request for
    a frame and the moment it arrived (``time.monotonic``; a generator's
    body starts at that request)."""
    asked = time.monotonic()
    for n, frame in enumerate(frames):
        if n == 0:
            record(asked, time.monotonic())
        yield frame
