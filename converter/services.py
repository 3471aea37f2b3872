"""Every database write, status transition and enqueue of the converter.

Status moves only along ``ALLOWED_TRANSITIONS``, each move a conditional
UPDATE, so two workers (or a retry racing a reconciler) cannot both run a task.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Callable

import django_rq
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from rq.timeouts import JobTimeoutException

from . import pipeline, storage, tasks, uploads
from .models import Output, Project, Task
from .pipeline import Limits, PipelineError
from .spec import AnimationSpec, TaskSpec

log = logging.getLogger(__name__)

S = Task.Status
ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    S.QUEUED: {S.RUNNING, S.FAILED},
    S.RUNNING: {S.SUCCEEDED, S.FAILED, S.QUEUED},  # QUEUED: handed back for a retry
    S.SUCCEEDED: set(),
    S.FAILED: {S.QUEUED},  # only task_retry, for failures that may pass (RETRYABLE_CODES)
}
QUEUE = "convert"
# Failures that say nothing about the source: trying again later may work.
RETRYABLE_CODES = {"StorageUnavailable", "WorkerLost"}
# Jobs that will still run (a task with one of these needs no new job).
LIVE_JOB_STATUSES = {"queued", "scheduled", "deferred", "started"}


def retry_intervals_s() -> list[float]:
    """Backoff before the 2nd, 3rd... run after a transient failure."""
    return list(settings.CONVERTER_RETRY_INTERVALS_S)


def max_attempts() -> int:
    return len(retry_intervals_s()) + 1


def _storage_errors() -> tuple[type[BaseException], ...]:
    # boto3's connection errors are not OSError; S3 answering 5xx is a ClientError.
    errors: tuple[type[BaseException], ...] = (OSError, ConnectionError)
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:  # local storage only
        return errors
    return errors + (BotoCoreError, ClientError)


def limits() -> Limits:
    return Limits(
        max_source_pixels=settings.CONVERTER_MAX_SOURCE_PIXELS,
        max_source_duration_s=settings.CONVERTER_MAX_SOURCE_DURATION_S,
        max_output_frames=settings.CONVERTER_MAX_OUTPUT_FRAMES,
        max_output_pixels=settings.CONVERTER_MAX_OUTPUT_PIXELS,
        task_timeout_s=settings.CONVERTER_TASK_TIMEOUT_S,
        ffmpeg_memory_bytes=settings.CONVERTER_FFMPEG_MEMORY_BYTES,
    )


def project_default_for(user) -> Project:
    """The project a user's browser uploads belong to."""
    project, _ = Project.objects.get_or_create(name=f"default-{user.pk}", defaults={"owner": user})
    return project


def upload_check(upload, spec: TaskSpec) -> None:
    """Refuse, before anything is stored or queued, an upload that can never
    convert: not a video format we read, no picture, over the limits, or a
    start time past its end. Reads container headers only (no decoding)."""
    with storage.upload_path(upload) as path:
        info = pipeline.probe(path, limits(), decode=False)
    first = spec.trim.start + min(a.start_time for a in spec.animations)
    if first >= info.duration:
        raise PipelineError(
            "StartTimeOutOfRange",
            f"The start time {first:g} s is past the end of the video ({info.duration:.2f} s).",
        )


def _transition(task: Task, to: str, *, from_: tuple[str, ...] | None = None, **fields) -> bool:
    sources = [s for s, targets in ALLOWED_TRANSITIONS.items() if to in targets]
    if from_ is not None:
        sources = [s for s in sources if s in from_]
    n = Task.objects.filter(pk=task.pk, status__in=sources).update(status=to, **fields)
    task.refresh_from_db()
    return n == 1


def task_create(*, owner, spec: TaskSpec, upload, original_filename: str, project: Project | None = None) -> Task:
    """Store the source, record the task and queue it once the row is committed.

    The upload goes to storage before the row exists (slow I/O outside the
    transaction); if recording fails, the stored object is removed again.
    """
    task = Task(
        owner=owner,
        project=project or project_default_for(owner),
        spec=spec.to_dict(),
        original_filename=uploads.display_filename(original_filename),
        source_size=getattr(upload, "size", 0) or 0,
    )
    storage.save_source(task.source, upload)
    try:
        with transaction.atomic():
            task.save()
            transaction.on_commit(lambda: task_enqueue(task))
    except Exception:
        task.source.delete(save=False)
        raise
    return task


def job_id(task: Task, attempt: int | None = None) -> str:
    """RQ job id of a task's attempt (by default the next one to run)."""
    return f"convert-{task.task_id}-{task.attempts if attempt is None else attempt}"


def job_timeout_s(task: Task) -> int:
    """RQ's limit for one run: every animation's wall time plus the copying."""
    return int(settings.CONVERTER_TASK_TIMEOUT_S * len(task.spec["animations"]) + 120)


def task_enqueue(task: Task, *, delay_s: float = 0) -> None:
    """Queue the run for the task's current attempt. The job id names the
    attempt, so each QUEUED task has exactly one job, which the reconciler
    can look for; a finished job of the same id (a retried task) is replaced."""
    queue = django_rq.get_queue(QUEUE)
    old = queue.fetch_job(job_id(task))
    if old is not None:
        if old.get_status(refresh=False) in LIVE_JOB_STATUSES:
            return
        old.delete()
    options = dict(job_id=job_id(task), job_timeout=job_timeout_s(task), failure_ttl=7 * 24 * 3600)
    if delay_s > 0:
        queue.enqueue_in(timedelta(seconds=delay_s), tasks.convert_task, task.pk, **options)
    else:
        queue.enqueue(tasks.convert_task, task.pk, **options)


def requeue_forgotten() -> int:
    """Queue again every QUEUED task whose job Redis no longer holds (Redis
    restarted without its data, say) or whose job ended without running it.
    The database is the record; running a task twice is harmless."""
    queue = django_rq.get_queue(QUEUE)
    count = 0
    for task in Task.objects.filter(status=S.QUEUED):
        job = queue.fetch_job(job_id(task))
        if job is None or job.get_status(refresh=False) not in LIVE_JOB_STATUSES:
            task_enqueue(task)
            count += 1
    return count


def task_start(task: Task) -> bool:
    """QUEUED -> RUNNING; False if another worker got there first."""
    return _transition(task, S.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1, progress=0)


def task_progress(task: Task, percent: int) -> None:
    Task.objects.filter(pk=task.pk, status=S.RUNNING).update(progress=percent)


def task_succeed(task: Task) -> bool:
    return _transition(task, S.SUCCEEDED, progress=100, finished_at=timezone.now(), code="", message="")


def task_fail(task: Task, *, code: str, message: str) -> bool:
    return _transition(task, S.FAILED, finished_at=timezone.now(), code=code, message=message[:2000])


def task_requeue(task: Task, *, code: str, message: str) -> bool:
    """Hand a RUNNING task back to the queue after a transient failure."""
    return _transition(task, S.QUEUED, from_=(S.RUNNING,), code=code, message=message[:2000])


def task_retry(task: Task) -> bool:
    """Queue a task that failed for a reason outside its source (storage down,
    worker lost) for a fresh set of attempts. The source was kept for this."""
    n = Task.objects.filter(pk=task.pk, status=S.FAILED, code__in=RETRYABLE_CODES).update(
        status=S.QUEUED, attempts=0, progress=0, finished_at=None
    )
    task.refresh_from_db()
    if n == 1:
        transaction.on_commit(lambda: task_enqueue(task))
    return n == 1


def task_recover_lost(task: Task) -> str:
    """A RUNNING task whose run can no longer finish (its worker died, or RQ
    gave up on the job): queue it again, or fail it with ``WorkerLost`` once
    its attempts are used up. Returns the new status, or "" if the task moved
    on by itself meanwhile (the update is conditional on the attempt seen)."""
    running = Task.objects.filter(pk=task.pk, status=S.RUNNING, attempts=task.attempts)
    message = "The worker running this task stopped before finishing it."
    if task.attempts >= max_attempts():
        n = running.update(status=S.FAILED, code="WorkerLost", message=message, finished_at=timezone.now())
        new = S.FAILED
    else:
        n = running.update(status=S.QUEUED, code="WorkerLost", message=message)
        new = S.QUEUED
    task.refresh_from_db()
    if n != 1:
        return ""
    log.warning("task %s: worker lost during attempt %d; now %s", task.task_id, task.attempts, new)
    if new == S.QUEUED:
        task_enqueue(task)
    return new


def _progress_reporter(task: Task, index: int, count: int, deadline: float) -> Callable[[float], None]:
    last = {"percent": -1, "at": 0.0}

    def report(fraction: float) -> None:
        # Called for every frame sampled and encoded: the encoders' share of
        # the wall time limit is enforced here (ffmpeg has its own timer).
        if time.monotonic() > deadline:
            raise PipelineError(
                "Timeout",
                f"The conversion took longer than {settings.CONVERTER_TASK_TIMEOUT_S:g} s and was stopped.",
            )
        percent = min(99, int(100 * (index + fraction) / count))
        now = time.monotonic()
        if percent > last["percent"] and now - last["at"] >= 0.3:
            last.update(percent=percent, at=now)
            task_progress(task, percent)

    return report


def task_run(task: Task) -> None:
    """Convert a queued task: probe once, then make and store each animation.

    Outputs already stored by an earlier attempt are kept, so a task that runs
    twice writes each output once.
    """
    if not task_start(task):
        log.info("task %s is %s, not queued: skipped", task.task_id, task.status)
        return
    spec = TaskSpec.from_dict(task.spec)
    bounds = limits()
    try:
        with storage.local_copy(task.source) as path:
            info = pipeline.probe(path, bounds)
            Task.objects.filter(pk=task.pk).update(probe=info.to_dict())
            for index, animation in enumerate(spec.animations):
                _run_animation(task, index, animation, spec, path, info, bounds)
    except PipelineError as exc:
        _handle_failure(task, exc.code, exc.message, permanent=exc.permanent)
        return
    except _storage_errors() as exc:  # storage or network trouble: may pass
        log.warning("task %s: transient failure: %r", task.task_id, exc)
        _handle_failure(
            task, "StorageUnavailable", "Storage could not be reached; the source is kept.", permanent=False
        )
        return
    except JobTimeoutException:  # RQ's own limit for the whole job
        _handle_failure(task, "Timeout", "The conversion took too long and was stopped.", permanent=True)
        return
    except Exception:
        log.exception("task %s failed unexpectedly", task.task_id)
        task_fail(task, code="InternalError", message="An unexpected error stopped the conversion.")
        return
    task_succeed(task)


def _handle_failure(task: Task, code: str, message: str, *, permanent: bool) -> None:
    """Fail for good, or queue the next attempt after its backoff. The next
    run is a new job (named for the attempt), not RQ's Retry of this one, so
    the database alone says what should happen next."""
    if permanent or task.attempts >= max_attempts():
        task_fail(task, code=code, message=message)
        return
    delay = retry_intervals_s()[task.attempts - 1]
    if task_requeue(task, code=code, message=message):
        log.info("task %s: attempt %d failed (%s); next in %gs", task.task_id, task.attempts, code, delay)
        task_enqueue(task, delay_s=delay)


def _run_animation(task, index, animation: AnimationSpec, spec: TaskSpec, path, info, bounds) -> None:
    deadline = time.monotonic() + bounds.task_timeout_s
    output, _ = Output.objects.get_or_create(
        task=task,
        index=index,
        defaults={"spec": animation.to_dict(), "spec_key": str(animation), "format": animation.format},
    )
    if output.is_done:
        return
    result = pipeline.convert(
        path,
        info,
        animation,
        trim_start=spec.trim.start,
        trim_duration=spec.trim.duration,
        limits=bounds,
        on_progress=_progress_reporter(task, index, len(spec.animations), deadline),
    )
    storage.save_output(output.file, result.data, result.format)
    output.width, output.height = result.width, result.height
    output.frames, output.bytes = result.frames, len(result.data)
    output.frame_duration_ms = result.frame_duration_ms
    output.save()
