"""Fixed-window rate limits in Redis, shared by every web process.

One counter per (scope, identity, minute): INCR, and EXPIRE on first use. A
burst at a window's edge can reach twice the limit over two windows; that is
accepted for its simplicity (no lists, one round trip).
"""

from __future__ import annotations

import hashlib
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

    def __init__(self, limit: int, retry_after_s: int, what: str = "new tasks a minute") -> None:
        super().__init__(
            Code.THROTTLING, f"Too many {what}: at most {limit}. Try again in {retry_after_s} s."
        )
        self.limit = limit
        self.retry_after_s = retry_after_s


def hit(scope: str, identity: str, limit: int, window_s: int = WINDOW_S, what: str = "") -> None:
    """Count one event; raise ``RateLimited`` past ``limit`` in this window.

    A limit of 0 disables the check. If Redis cannot be reached the event is
    let through (the queue is down anyway: a new task waits for the reconciler).
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
        retry_after = max(1, int((window + 1) * window_s - now) + 1)
        raise RateLimited(limit, retry_after, what or "new tasks a minute")


def task_creation_by_user(user) -> None:
    """Per-user limit on new tasks (web uploads and API calls alike)."""
    hit("user", str(user.pk), settings.CONVERTER_RATE_LIMIT_PER_MINUTE)


def draft_creation_by_user(user) -> None:
    """Per-user limit on the editor's background uploads, counted apart from
    tasks (each conversion in the editor makes one of each)."""
    hit("draft", str(user.pk), settings.CONVERTER_RATE_LIMIT_PER_MINUTE)


def estimate_by_user(user) -> None:
    """Per-user limit on the editor's estimates, counted apart from tasks:
    the editor asks again (debounced) as the settings change, so it may ask
    three times as often."""
    hit(
        "estimate",
        str(user.pk),
        3 * settings.CONVERTER_RATE_LIMIT_PER_MINUTE,
        what="estimates a minute",
    )


def task_creation_by_key(access_key_id: str) -> None:
    """Per-access-key limit on new tasks through the API."""
    hit("key", str(access_key_id), settings.CONVERTER_KEY_RATE_LIMIT_PER_MINUTE)


def _hashed(name: str) -> str:
    # A name a client chose becomes part of a key only as a digest: it can
    # never spell another key of ours.
    return hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def login_attempt(ip: str, username: str) -> None:
    """Per-address and per-username limits on login attempts: each costs a
    password hash (about half a second of CPU), and a username must not be
    guessed at from many addresses."""
    hit("login-ip", ip, settings.CONVERTER_LOGINS_PER_MINUTE, what="login attempts a minute")
    hit(
        "login-user",
        _hashed(username.strip().lower()),
        settings.CONVERTER_LOGINS_PER_USERNAME_PER_HOUR,
        window_s=3600,
        what="login attempts for this account in an hour",
    )


def signup_attempt(ip: str) -> None:
    """Per-address limit on new accounts."""
    hit(
        "signup-ip",
        ip,
        settings.CONVERTER_SIGNUPS_PER_HOUR,
        window_s=3600,
        what="new accounts from this address in an hour",
    )
