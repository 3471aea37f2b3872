"""Waiting in tests: one poller for everything a test waits for."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T],
    timeout_s: float = 60,
    interval_s: float = 0.2,
    what: str | Callable[[], str] = "condition",
) -> T:
    """Call ``predicate`` every ``interval_s`` until it returns something true,
    and return that; after ``timeout_s`` fail with an AssertionError naming
    ``what`` (a callable is called then, so it can show a log as it is at
    the end, not as it was at the start)."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            break
        time.sleep(interval_s)
    described = what() if callable(what) else what
    raise AssertionError(f"timed out after {timeout_s:g} s waiting for {described}")
