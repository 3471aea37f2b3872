"""A task's run in the worker: probe the source once, then make, store and
bill each animation; failures end the task or queue its next attempt."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import transaction
from rq.timeouts import JobTimeoutException

from .. import storage
from ..errors import Code
from ..models import Output, Task
from ..pipeline.convert import convert
from ..pipeline.errors import PipelineError
from ..pipeline.limits import Limits
from ..pipeline.probe import VideoInfo, probe
from ..spec import AnimationSpec, ObjectUri, TaskSpec, expand_uri
from .lifecycle import (
    max_attempts,
    retry_intervals_s,
    task_fail,
    task_progress,
    task_requeue,
    task_start,
    task_succeed,
)
from .limits import limits
from .metering import usage_record
from .queueing import task_enqueue

log = logging.getLogger(__name__)

# Progress is written at most this often (it is one UPDATE).
PROGRESS_INTERVAL_S = 0.3


def _storage_errors() -> tuple[type[BaseException], ...]:
    # boto3's connection errors are not OSError; S3 answering 5xx is a ClientError.
    errors: tuple[type[BaseException], ...] = (OSError, ConnectionError)
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:  # local storage only
        return errors
    return (*errors, BotoCoreError, ClientError)


def _progress_reporter(
    task: Task, index: int, count: int, deadline: float
) -> Callable[[float], None]:
    last = {"percent": -1, "at": 0.0}

    def report(fraction: float) -> None:
        # Called for every frame sampled and encoded: the encoders' share of
        # the wall time limit is enforced here (ffmpeg has its own timer).
        if time.monotonic() > deadline:
            raise PipelineError(
                Code.TIMEOUT,
                f"The conversion took longer than {settings.CONVERTER_TASK_TIMEOUT_S:g} s "
                "and was stopped.",
            )
        percent = min(99, int(100 * (index + fraction) / count))
        now = time.monotonic()
        if percent > last["percent"] and now - last["at"] >= PROGRESS_INTERVAL_S:
            last.update(percent=percent, at=now)
            task_progress(task, percent)

    return report


def task_run(task: Task) -> None:
    """Convert a queued task: probe once, then make and store each animation.

    Outputs already stored by an earlier attempt are kept, so a task that runs
    twice writes each output once.
    """
    if not task_start(task):
        log.info("task %s is %s, not queued: skipped", task.public_id, task.status)
        return
    spec = TaskSpec.from_dict(task.spec)
    bounds = limits()
    try:
        with storage.task_source_copy(task) as path:
            info = probe(path, bounds, audio_only_ok=spec.wants_waveform)
            Task.objects.filter(pk=task.pk).update(probe=info.to_dict())
            for index, animation in enumerate(spec.animations):
                _run_animation(task, index, animation, spec, path, info, bounds)
    except PipelineError as exc:
        _handle_failure(task, exc.code, exc.message, permanent=exc.permanent)
        return
    except storage.ObjectNotFound:
        task_fail(task, code=Code.SOURCE_NOT_FOUND, message="The source object no longer exists.")
        return
    except _storage_errors() as exc:  # storage or network trouble: may pass
        log.warning("task %s: transient failure: %r", task.public_id, exc)
        _handle_failure(
            task,
            Code.STORAGE_UNAVAILABLE,
            "Storage could not be reached; the source is kept.",
            permanent=False,
        )
        return
    except JobTimeoutException:  # RQ's own limit for the whole job
        _handle_failure(
            task, Code.TIMEOUT, "The conversion took too long and was stopped.", permanent=True
        )
        return
    except Exception:
        log.exception("task %s failed unexpectedly", task.public_id)
        task_fail(
            task, code=Code.INTERNAL_ERROR, message="An unexpected error stopped the conversion."
        )
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
        log.info(
            "task %s: attempt %d failed (%s); next in %gs",
            task.public_id,
            task.attempts,
            code,
            delay,
        )
        task_enqueue(task, delay_s=delay)


def _run_animation(
    task: Task,
    index: int,
    animation: AnimationSpec,
    spec: TaskSpec,
    path: Path,
    info: VideoInfo,
    bounds: Limits,
) -> None:
    deadline = time.monotonic() + bounds.task_timeout_s
    output, _ = Output.objects.get_or_create(
        task=task,
        index=index,
        defaults={
            "spec": animation.to_dict(),
            "spec_key": str(animation),
            "format": animation.format,
        },
    )
    if output.is_done:
        return
    result = convert(
        path,
        info,
        animation,
        trim_start=spec.trim.start,
        trim_duration=spec.trim.duration,
        limits=bounds,
        on_progress=_progress_reporter(task, index, len(spec.animations), deadline),
    )
    if animation.uri:
        target = ObjectUri.parse(_target_uri(task, index, animation), "URI")
        storage.object_put(target.bucket, target.key, result.data, result.format)
        output.uri = str(target)
    else:
        storage.save_output(output.file, result.data, result.format)
    output.width, output.height = result.width, result.height
    output.frames, output.bytes = result.frames, len(result.data)
    output.frame_duration_ms = result.frame_duration_ms
    with transaction.atomic():
        output.save()
        usage_record(output)


def _target_uri(task: Task, index: int, animation: AnimationSpec) -> str:
    source = ObjectUri.parse(task.source_uri) if task.source_uri else None
    return expand_uri(
        animation.uri,
        source=source,
        source_name=task.original_filename,
        fmt=animation.format,
        index=index,
        tags=task.tags or {},
    )
