"""RQ jobs of conversions. A task's job id names its attempt, so each QUEUED
task has exactly one job, which the reconciler can look for."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import django_rq
from django.conf import settings
from django.db import transaction
from redis.exceptions import RedisError
from rq.job import Job

from ..errors import Code, LoopforgeError
from ..models import Task

QUEUE = "convert"
log = logging.getLogger(__name__)

# The RQ entry points (converter/tasks.py), by name: that module imports the
# services, so the services do not import it.
CONVERT_TASK = "converter.tasks.convert_task"
DELIVER_NOTIFICATION = "converter.tasks.deliver_notification"
NOTIFY_QUEUE = "notify"
# The editor's previews of a draft: short jobs a person waits for, on their
# own queue so that they never wait behind conversions.
PREVIEW_QUEUE = "previews"
DRAFT_PREVIEW = "converter.tasks.draft_preview"
DRAFT_MOMENTS = "converter.tasks.draft_moments"
SUGGEST_MOMENTS = "converter.tasks.suggest_moments"
ESTIMATE_OBJECT = "converter.tasks.estimate_object"
ESTIMATE_DRAFT = "converter.tasks.estimate_draft"
# How long a request waits for its job on the previews queue.
MOMENTS_WAIT_S = 20
ESTIMATE_WAIT_S = 15
PREVIEW_TIMEOUT_S = 300
# Jobs that will still run (a task with one of these needs no new job).
LIVE_JOB_STATUSES = {"queued", "scheduled", "deferred", "started"}
# A failed job's record is kept this long for inspection (rq info, the admin).
FAILED_JOB_TTL_S = 7 * 24 * 3600
# A retry whose time passed this long ago has lost its scheduler
# (``enqueue_overdue``); RQ's scheduler looks every second.
SCHEDULE_GRACE_S = 30
# Copying the source in and the outputs out, on top of each animation's limit.
JOB_OVERHEAD_S = 120


def job_id(task: Task, attempt: int | None = None) -> str:
    """RQ job id of a task's attempt (by default the next one to run)."""
    return f"convert-{task.public_id}-{task.attempts if attempt is None else attempt}"


def job_timeout_s(task: Task) -> int:
    """RQ's limit for one run: every animation's wall time plus the copying."""
    animations = len(task.spec["animations"])
    return int(settings.CONVERTER_TASK_TIMEOUT_S * animations + JOB_OVERHEAD_S)


def task_enqueue(task: Task, *, delay_s: float = 0) -> None:
    """Queue the run for the task's current attempt; a finished job of the
    same id (a retried task) is replaced, a live one left alone."""
    queue = django_rq.get_queue(QUEUE)
    old = queue.fetch_job(job_id(task))
    if old is not None:
        if old.get_status(refresh=False) in LIVE_JOB_STATUSES:
            return
        old.delete()
    options: dict[str, Any] = {
        "job_id": job_id(task),
        "job_timeout": job_timeout_s(task),
        "failure_ttl": FAILED_JOB_TTL_S,
    }
    if delay_s > 0:
        queue.enqueue_in(timedelta(seconds=delay_s), CONVERT_TASK, task.pk, **options)
    else:
        queue.enqueue(CONVERT_TASK, task.pk, **options)


def task_enqueue_after_commit(task: Task) -> None:
    """Queue a new task once its row is committed. If Redis cannot be reached
    then, the task stays QUEUED, its source stored: the reconciler
    (``requeue_forgotten``) queues it when Redis answers again. The row is the
    record, so the request that made it still succeeds."""

    def enqueue() -> None:
        try:
            task_enqueue(task)
        except RedisError:
            log.warning(
                "task %s recorded; queueing left to the reconciler", task.public_id, exc_info=True
            )

    transaction.on_commit(enqueue)


def draft_preview_enqueue_after_commit(draft_pk: int) -> None:
    """Queue a draft's preview once its row is committed. Without Redis the
    editor goes without: its preview stays pending (a person can still trim
    and convert by the numbers), and nothing else is lost."""

    def enqueue() -> None:
        try:
            queue = django_rq.get_queue(PREVIEW_QUEUE)
            queue.enqueue(
                DRAFT_PREVIEW, draft_pk, job_timeout=PREVIEW_TIMEOUT_S, failure_ttl=FAILED_JOB_TTL_S
            )
        except RedisError:
            log.warning("draft %s stored; its preview could not be queued", draft_pk, exc_info=True)

    transaction.on_commit(enqueue)


def draft_moments_enqueue(draft_pk: int, length_s: float) -> None:
    """Queue the search for a draft's best moments (the previews queue: a
    person waits for it, and conversions never wait for it)."""
    queue = django_rq.get_queue(PREVIEW_QUEUE)
    queue.enqueue(
        DRAFT_MOMENTS,
        draft_pk,
        length_s,
        job_timeout=PREVIEW_TIMEOUT_S,
        failure_ttl=FAILED_JOB_TTL_S,
    )


def preview_call(entry: str, *args: Any, wait_s: float) -> dict[str, Any]:
    """Run the job ``entry`` (a ``converter.tasks`` function answering a
    dict) on the previews queue and wait for its answer, at most ``wait_s``
    (then ``Timeout``); a refusal it answered is raised with its code
    (``_refusal``). For the requests a person or a program waits on
    (SuggestMoments, the estimate): the web process reads no video itself,
    the worker does, in its sandbox."""
    queue = django_rq.get_queue(PREVIEW_QUEUE)
    job = queue.enqueue(
        entry, *args, job_timeout=PREVIEW_TIMEOUT_S, result_ttl=60, failure_ttl=FAILED_JOB_TTL_S
    )
    result = job.latest_result(timeout=math.ceil(wait_s))
    if result is None:
        job.cancel()
        raise LoopforgeError(
            Code.TIMEOUT, f"This took longer than {wait_s:g} s; try a shorter video."
        )
    answer = result.return_value if result.type == result.Type.SUCCESSFUL else None
    if not isinstance(answer, dict):
        raise LoopforgeError(Code.INTERNAL_ERROR, "The server could not look at the video.")
    if "Code" in answer:
        raise _refusal(answer)
    return answer


def _refusal(answer: dict[str, Any]) -> LoopforgeError:
    """A previews job's refusal with the code it had (``converter.tasks``:
    the source's refusal, as the worker met it)."""
    code = str(answer["Code"])
    if code in Code._value2member_map_:
        return LoopforgeError(Code(code), answer["Message"])
    kind, _, field = code.partition(".")
    return LoopforgeError(Code(kind), answer["Message"], field=field)


def requeue_abandoned(worker_alive: Callable[[str | None], bool]) -> int:
    """Queue again every QUEUED task whose job a worker took and then died
    with before it started the task (between RQ's dequeue and
    ``task_start``: a machine lost at that moment). RQ keeps such a job
    "started" for as long as its timeout, so ``requeue_forgotten`` takes it
    for live; ``worker_alive`` (the reconciler's judgement, by heartbeat)
    says it is not. The dead run's job is replaced by a new one of the same
    attempt; if the worker was only slow, ``task_start`` lets one run win."""
    queue = django_rq.get_queue(QUEUE)
    count = 0
    for task in Task.objects.filter(status=Task.Status.QUEUED):
        job = queue.fetch_job(job_id(task))
        if job is None or job.get_status(refresh=False) != "started":
            continue
        if worker_alive(job.worker_name):
            continue
        job.delete()
        task_enqueue(task)
        count += 1
    return count


def enqueue_overdue(grace_s: float = SCHEDULE_GRACE_S) -> int:
    """Move to the queue every conversion job whose scheduled time (a
    retry's backoff) passed more than ``grace_s`` ago. RQ's scheduler runs
    in one worker at a time; when that worker dies, another takes it over
    only at its next maintenance, up to ten minutes later, and the retries
    wait. A job the scheduler moves at the same moment may then be queued
    twice: ``task_start`` lets one run win."""
    queue = django_rq.get_queue(QUEUE)
    registry = queue.scheduled_job_registry
    due = registry.get_jobs_to_schedule(int(time.time() - grace_s))
    moved = 0
    for job in Job.fetch_many(due, connection=queue.connection, serializer=queue.serializer):
        if job is None:
            continue
        registry.remove(job)
        queue.enqueue_job(job)
        moved += 1
    return moved


def requeue_forgotten() -> int:
    """Queue again every QUEUED task whose job Redis no longer holds (Redis
    restarted without its data, say) or whose job ended without running it.
    The database is the record; running a task twice is harmless."""
    queue = django_rq.get_queue(QUEUE)
    count = 0
    for task in Task.objects.filter(status=Task.Status.QUEUED):
        job = queue.fetch_job(job_id(task))
        if job is None or job.get_status(refresh=False) not in LIVE_JOB_STATUSES:
            task_enqueue(task)
            count += 1
    return count
