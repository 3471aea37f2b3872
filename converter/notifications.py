"""Completion messages: the envelope, its HMAC signature, and the two ways
out: a Redis stream named by ``MNS.TopicName`` and a webhook POST.

No database writes here (services record each attempt); every function takes
plain values or a task and either returns an outcome or raises.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import redis
from django.conf import settings

from . import netguard
from .imm import IMM_STATUS, TASK_TYPE, iso, task_to_imm
from .models import Task

SIGNATURE_HEADER = "X-Loopforge-Signature"  # "sha256=<hex HMAC-SHA256 of the body>"
SOURCE = "loopforge"
WEBHOOK_TIMEOUT_S = 10  # the whole exchange: a slow receiver must not hold a worker for long
MAX_ERROR_CHARS = 500
STREAM_PREFIX = "loopforge:mns:"


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


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: str, signature: str) -> bool:
    """What a receiver does (and the tests): recompute and compare in constant time."""
    return hmac.compare_digest(sign(body, secret), signature)


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
    except redis.RedisError as exc:
        return Outcome(False, None, f"Redis: {exc}"[:MAX_ERROR_CHARS], _ms(started))
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
        return Outcome(
            False, None, (str(exc) or type(exc).__name__)[:MAX_ERROR_CHARS], _ms(started)
        )
    if 200 <= response.status < 300:
        return Outcome(True, response.status, "", _ms(started))
    return Outcome(False, response.status, f"HTTP {response.status}", _ms(started))


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
