"""Every status change of a task. Status moves only along
``ALLOWED_TRANSITIONS``, each move one conditional UPDATE (``_transition``),
so two workers, or a retry racing the reconciler, cannot both move a task."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from ..errors import Code
from ..models import Task
from .deliveries import notification_enqueue
from .queueing import task_enqueue

log = logging.getLogger(__name__)

S = Task.Status
ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    S.QUEUED: {S.RUNNING, S.FAILED},
    S.RUNNING: {S.SUCCEEDED, S.FAILED, S.QUEUED},  # QUEUED: handed back for a retry
    S.SUCCEEDED: set(),
    S.FAILED: {S.QUEUED},  # only task_retry: failures that may pass, or the owner's Retry
}
MAX_MESSAGE_CHARS = 2000  # a failure's message as stored
RETRYABLE_CODES = tuple(str(code) for code in Code if code.retryable)
WORKER_LOST_MESSAGE = "The worker running this task stopped before finishing it."


def retry_intervals_s() -> list[float]:
    """Backoff before the 2nd, 3rd... run after a transient failure."""
    return list(settings.CONVERTER_RETRY_INTERVALS_S)


def max_attempts() -> int:
    return len(retry_intervals_s()) + 1


def _transition(task: Task, to: str, *, where: dict[str, Any] | None = None, **fields: Any) -> bool:
    """Move ``task`` to ``to`` if its row is in a state that may reach it (and
    matches ``where``, e.g. the status or attempt the caller saw). Returns
    whether this call made the move; ``task`` is reloaded either way."""
    sources = [s for s, targets in ALLOWED_TRANSITIONS.items() if to in targets]
    rows = Task.objects.filter(pk=task.pk, status__in=sources, **(where or {}))
    moved = rows.update(status=to, **fields) == 1
    task.refresh_from_db()
    return moved


def task_start(task: Task) -> bool:
    """QUEUED -> RUNNING; False if another worker got there first."""
    return _transition(
        task, S.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1, progress=0
    )


def task_progress(task: Task, percent: int) -> None:
    """Progress of a RUNNING task (not a status change)."""
    Task.objects.filter(pk=task.pk, status=S.RUNNING).update(progress=percent)


def task_succeed(task: Task) -> bool:
    """RUNNING -> SUCCEEDED; its completion message is queued on commit."""
    done = _transition(
        task, S.SUCCEEDED, progress=100, finished_at=timezone.now(), code="", message=""
    )
    if done:
        transaction.on_commit(lambda: notification_enqueue(task))
    return done


def task_fail(task: Task, *, code: str, message: str) -> bool:
    """-> FAILED with a code and message; its completion message is queued on commit."""
    done = _transition(
        task,
        S.FAILED,
        finished_at=timezone.now(),
        code=code,
        message=message[:MAX_MESSAGE_CHARS],
    )
    if done:
        transaction.on_commit(lambda: notification_enqueue(task))
    return done


def task_requeue(task: Task, *, code: str, message: str) -> bool:
    """Hand a RUNNING task back to the queue after a transient failure."""
    return _transition(
        task, S.QUEUED, where={"status": S.RUNNING}, code=code, message=message[:MAX_MESSAGE_CHARS]
    )


def task_retry(task: Task, *, any_failure: bool = False) -> bool:
    """Queue a task that failed for a reason outside its source (storage down,
    worker lost) for a fresh set of attempts. The source was kept for this.
    ``any_failure``: its owner asked (``removal.task_retry``), whatever the code."""
    where: dict[str, Any] = {"status": S.FAILED}
    if not any_failure:
        where["code__in"] = RETRYABLE_CODES
    retried = _transition(
        task,
        S.QUEUED,
        where=where,
        attempts=0,
        progress=0,
        finished_at=None,
    )
    if retried:
        transaction.on_commit(lambda: task_enqueue(task))
    return retried


def task_recover_lost(task: Task) -> str:
    """A RUNNING task whose run can no longer finish (its worker died, or RQ
    gave up on the job): queue it again, or fail it with ``WorkerLost`` once
    its attempts are used up. Returns the new status, or "" if the task moved
    on by itself meanwhile (the update is conditional on the attempt seen)."""
    seen = {"status": S.RUNNING, "attempts": task.attempts}
    lost = {"code": str(Code.WORKER_LOST), "message": WORKER_LOST_MESSAGE}
    if task.attempts >= max_attempts():
        new = S.FAILED
        moved = _transition(task, new, where=seen, finished_at=timezone.now(), **lost)
    else:
        new = S.QUEUED
        moved = _transition(task, new, where=seen, **lost)
    if not moved:
        return ""
    log.warning(
        "task %s: worker lost during attempt %d; now %s", task.public_id, task.attempts, new
    )
    if new == S.QUEUED:
        task_enqueue(task)
    else:
        transaction.on_commit(lambda: notification_enqueue(task))
    return new
