"""Every database write, status transition and enqueue of the converter.

Status moves only along ``ALLOWED_TRANSITIONS``, each move a conditional
UPDATE, so two workers (or a retry racing a reconciler) cannot both run a task.
"""

from __future__ import annotations

import logging
import time
from typing import Callable

import django_rq
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from rq import Retry

from . import pipeline, storage, tasks
from .models import Output, Project, Task
from .pipeline import Limits, PipelineError
from .spec import AnimationSpec, TaskSpec

log = logging.getLogger(__name__)

S = Task.Status
ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    S.QUEUED: {S.RUNNING, S.FAILED},
    S.RUNNING: {S.SUCCEEDED, S.FAILED, S.QUEUED},  # QUEUED: handed back for a retry
    S.SUCCEEDED: set(),
    S.FAILED: set(),
}
# Four runs in all: the first and RQ's three retries.
RETRY_INTERVALS_S = [10, 60, 300]
MAX_ATTEMPTS = len(RETRY_INTERVALS_S) + 1
QUEUE = "convert"


def limits() -> Limits:
    return Limits(
        max_source_pixels=settings.CONVERTER_MAX_SOURCE_PIXELS,
        max_source_duration_s=settings.CONVERTER_MAX_SOURCE_DURATION_S,
        max_output_frames=settings.CONVERTER_MAX_OUTPUT_FRAMES,
        max_output_pixels=settings.CONVERTER_MAX_OUTPUT_PIXELS,
        task_timeout_s=settings.CONVERTER_TASK_TIMEOUT_S,
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
        info = pipeline.probe(path, limits(), decode=False, audio_only_ok=spec.wants_waveform)
    first = spec.trim.start + min(a.start_time for a in spec.animations)
    if first >= info.duration:
        raise PipelineError(
            "StartTimeOutOfRange",
            f"The start time {first:g} s is past the end of the video ({info.duration:.2f} s).",
        )


def _transition(task: Task, to: str, **fields) -> bool:
    sources = [s for s, targets in ALLOWED_TRANSITIONS.items() if to in targets]
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
        original_filename=original_filename[:255],
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


def _job_id(task: Task) -> str:
    return f"convert-{task.task_id}-{task.attempts}"


def task_enqueue(task: Task) -> None:
    django_rq.get_queue(QUEUE).enqueue(
        tasks.convert_task,
        task.pk,
        job_id=_job_id(task),
        retry=Retry(max=len(RETRY_INTERVALS_S), interval=RETRY_INTERVALS_S),
        job_timeout=int(settings.CONVERTER_TASK_TIMEOUT_S * len(task.spec["animations"]) + 120),
    )


def requeue_forgotten() -> int:
    """Queue again every QUEUED task whose job Redis no longer holds (Redis
    restarted without its data, say). The database is the record."""
    queue = django_rq.get_queue(QUEUE)
    count = 0
    for task in Task.objects.filter(status=S.QUEUED):
        if queue.fetch_job(_job_id(task)) is None:
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
    return _transition(task, S.QUEUED, code=code, message=message[:2000])


def _progress_reporter(task: Task, index: int, count: int) -> Callable[[float], None]:
    last = {"percent": -1, "at": 0.0}

    def report(fraction: float) -> None:
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
            info = pipeline.probe(path, bounds, audio_only_ok=spec.wants_waveform)
            Task.objects.filter(pk=task.pk).update(probe=info.to_dict())
            for index, animation in enumerate(spec.animations):
                _run_animation(task, index, animation, spec, path, info, bounds)
    except PipelineError as exc:
        _handle_failure(task, exc.code, exc.message, permanent=exc.permanent)
        return
    except (OSError, ConnectionError) as exc:  # storage or network trouble: may pass
        log.warning("task %s: transient failure: %r", task.task_id, exc)
        _handle_failure(task, "StorageUnavailable", "Storage could not be reached.", permanent=False)
        return
    except Exception:
        log.exception("task %s failed unexpectedly", task.task_id)
        task_fail(task, code="InternalError", message="An unexpected error stopped the conversion.")
        return
    task_succeed(task)


def _handle_failure(task: Task, code: str, message: str, *, permanent: bool) -> None:
    if permanent or task.attempts >= MAX_ATTEMPTS:
        task_fail(task, code=code, message=message)
        return
    task_requeue(task, code=code, message=message)
    raise PipelineError(code, message, permanent=False)  # RQ's Retry schedules the next run


def _run_animation(task, index, animation: AnimationSpec, spec: TaskSpec, path, info, bounds) -> None:
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
        on_progress=_progress_reporter(task, index, len(spec.animations)),
    )
    storage.save_output(output.file, result.data, result.format)
    output.width, output.height = result.width, result.height
    output.frames, output.bytes = result.frames, len(result.data)
    output.frame_duration_ms = result.frame_duration_ms
    output.save()
