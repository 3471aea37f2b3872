"""Fixed-window rate limits in Redis, shared by every web process.

One counter per (scope, identity, minute): INCR, and EXPIRE on first use. A
burst at a window's edge can reach twice the limit over two windows; that is
accepted for its simplicity (no lists, one round trip).
"""

from __future__ import annotations

import logging
import time

import django_rq
from django.conf import settings
from redis.exceptions import RedisError

from .errors import Code, LoopforgeError

log = logging.getLogger(__name__)

WINDOW_S = 60


class RateLimited(LoopforgeError):
    """Too many requests; ``retry_after_s`` says when the window resets."""

    def __init__(self, limit: int, retry_after_s: int) -> None:
        super().__init__(
            Code.THROTTLING,
            f"Too many new tasks: at most {limit} a minute. Try again in {retry_after_s} s.",
        )
        self.limit = limit
        self.retry_after_s = retry_after_s


def hit(scope: str, identity: str, limit: int, window_s: int = WINDOW_S) -> None:
    """Count one event; raise ``RateLimited`` past ``limit`` in this window.

    A limit of 0 disables the check. If Redis cannot be reached the event is
    let through (the queue is down anyway, and creating the task will say so).
    """
    if limit <= 0:
        return
    now = time.time()
    window = int(now // window_s)
    key = f"loopforge:ratelimit:{scope}:{identity}:{window}"
    try:
        connection = django_rq.get_connection("convert")
        pipe = connection.pipeline()
        pipe.incr(key)
        pipe.expire(key, window_s + 5)
        count = pipe.execute()[0]
    except RedisError as exc:
        log.warning("rate limit %s unavailable: %r", scope, exc)
        return
    if count > limit:
        raise RateLimited(limit, max(1, int((window + 1) * window_s - now) + 1))


def task_creation_by_user(user) -> None:
    """Per-user limit on new tasks (web uploads and API calls alike)."""
    hit("user", str(user.pk), settings.CONVERTER_RATE_LIMIT_PER_MINUTE)


def task_creation_by_key(access_key_id: str) -> None:
    """Per-access-key limit on new tasks through the API."""
    hit("key", str(access_key_id), settings.CONVERTER_KEY_RATE_LIMIT_PER_MINUTE)
