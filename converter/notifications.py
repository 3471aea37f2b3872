"""Completion messages: the envelope, its HMAC signature, and the two ways
out: a Redis stream named by ``MNS.TopicName`` and a webhook POST.

No database writes here (services record each attempt); every function takes
plain values or a task and either returns an outcome or raises.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import socket
import ssl
import time
import uuid
from dataclasses import dataclass
from typing import Any

import redis
from django.conf import settings

from . import netguard
from .imm import IMM_STATUS, TASK_TYPE, iso, task_to_imm
from .models import Task

# "t=<unix seconds>,v1=<hex HMAC-SHA256 of '<t>.' + body>": the time is signed
# too, so a receiver can refuse a message replayed later (as Stripe's do).
SIGNATURE_HEADER = "X-Loopforge-Signature"
SIGNATURE_TOLERANCE_S = 300  # what ``verify`` accepts between signing and checking
SOURCE = "loopforge"
WEBHOOK_TIMEOUT_S = 10  # the whole exchange: a slow receiver must not hold a worker for long
MAX_ERROR_CHARS = 500
STREAM_PREFIX = "loopforge:mns:"

log = logging.getLogger(__name__)


def message_id(task: Task) -> str:
    # Derived from the task, so every retry sends the same id and receivers
    # can drop duplicates.
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"loopforge:task-finished:{task.public_id}"))


def message_for(task: Task) -> dict[str, Any]:
    """The reference's envelope: id, source, type, subject, time, and the
    task's fields in ``content``."""
    status = IMM_STATUS[task.status]
    return {
        "id": message_id(task),
        "source": SOURCE,
        "specversion": "1.0",
        "type": f"{TASK_TYPE}:Task{status}",
        "subject": f"project/{task.project.name}/task/{task.public_id}",
        "time": iso(task.finished_at),
        "datacontenttype": "application/json",
        "content": task_to_imm(task),
    }


def body_of(message: dict[str, Any]) -> bytes:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """The signature header's value for ``body`` sent at ``timestamp`` (now)."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def verify(
    body: bytes,
    secret: str,
    header: str,
    *,
    tolerance_s: int = SIGNATURE_TOLERANCE_S,
    now: float | None = None,
) -> bool:
    """What a receiver does (and the tests): read ``t`` and every ``v1`` from
    the header, refuse a time more than ``tolerance_s`` away from ``now``
    (a replay), recompute the HMAC over ``t.body`` and compare in constant
    time."""
    fields = [part.split("=", 1) for part in header.split(",") if "=" in part]
    stamps = [value for name, value in fields if name.strip() == "t"]
    if len(stamps) != 1 or not stamps[0].isascii() or not stamps[0].isdigit():
        return False
    t = int(stamps[0])
    if abs((time.time() if now is None else now) - t) > tolerance_s:
        return False
    expected = sign(body, secret, t).split(",v1=", 1)[1]
    return any(
        hmac.compare_digest(expected, value) for name, value in fields if name.strip() == "v1"
    )


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status_code: int | None = None
    error: str = ""
    duration_ms: int = 0
    permanent: bool = False  # trying again cannot help (a refused address)


def stream_key(project: str, topic: str) -> str:
    """The Redis key of a project's topic: each project has its own key space
    (project names hold no ':'), in a database the job queue does not use."""
    return f"{STREAM_PREFIX}{project}:{topic}"


def publish_stream(project: str, topic: str, message: dict[str, Any]) -> Outcome:
    """XADD the message to the project's stream ``topic`` (``stream_key``;
    trimmed to about CONVERTER_NOTIFY_STREAM_MAXLEN entries so an unread
    stream cannot grow without bound). Fields: id, type, subject, message
    (the JSON envelope)."""
    started = time.monotonic()
    try:
        client = redis.Redis.from_url(settings.CONVERTER_NOTIFY_REDIS_URL, socket_timeout=10)
        client.xadd(
            stream_key(project, topic),
            {
                "id": message["id"],
                "type": message["type"],
                "subject": message["subject"],
                "message": body_of(message),
            },
            maxlen=settings.CONVERTER_NOTIFY_STREAM_MAXLEN,
            approximate=True,
        )
    except redis.RedisError:
        # Redis's own message names its host and port: kept in the log only.
        log.warning("publishing to %s failed", stream_key(project, topic), exc_info=True)
        return Outcome(False, None, "The notification stream could not be reached.", _ms(started))
    return Outcome(True, None, "", _ms(started))


def post_webhook(url: str, secret: str, message: dict[str, Any]) -> Outcome:
    """POST the envelope as JSON; signed when the webhook has a secret. A 2xx
    answer is success; anything else (or no answer) is a failed attempt.

    Sent through ``netguard.safe_post``: private, loopback, link-local and
    metadata addresses are refused unless CONVERTER_WEBHOOK_ALLOW_PRIVATE (or
    CONVERTER_OUTBOUND_ALLOW_CIDRS), the connection goes to the address that
    was checked (no DNS rebinding), and redirects are never followed."""
    started = time.monotonic()
    allow = ("0.0.0.0/0", "::/0") if settings.CONVERTER_WEBHOOK_ALLOW_PRIVATE else ()
    body = body_of(message)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Loopforge-Webhook/1",
        "X-Loopforge-Event": message["type"],
        "X-Loopforge-Message-Id": message["id"],
    }
    if secret:
        headers[SIGNATURE_HEADER] = sign(body, secret)
    try:
        response = netguard.safe_post(url, body, headers, WEBHOOK_TIMEOUT_S, allow_cidrs=allow)
    except netguard.BlockedURL as exc:
        return Outcome(False, None, f"refused: {exc.message}"[:MAX_ERROR_CHARS], 0, permanent=True)
    except OSError as exc:
        log.info("webhook POST to %s failed", url, exc_info=True)
        return Outcome(False, None, _failure(exc), _ms(started))
    if 200 <= response.status < 300:
        return Outcome(True, response.status, "", _ms(started))
    return Outcome(False, response.status, f"HTTP {response.status}", _ms(started))


def _failure(exc: OSError) -> str:
    """What went wrong, for the client who owns the receiver: the kind of
    failure, never the error's own text, which may name addresses inside
    the installation (the log keeps it)."""
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"The receiver did not answer within {WEBHOOK_TIMEOUT_S} s."
    if isinstance(exc, ConnectionRefusedError):
        return "The receiver refused the connection."
    if isinstance(exc, ConnectionResetError | BrokenPipeError | ConnectionAbortedError):
        return "The receiver closed the connection."
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "The receiver's TLS certificate could not be verified."
    if isinstance(exc, ssl.SSLError):
        return "The TLS handshake with the receiver failed."
    if isinstance(exc, socket.gaierror):
        return "The receiver's host name could not be resolved."
    return "The receiver could not be reached or gave no valid HTTP answer."


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
