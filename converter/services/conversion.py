"""A task's run in the worker: probe the source once, then make, store and
bill each animation; failures end the task or queue its next attempt."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from rq.timeouts import JobTimeoutException

from .. import storage
from ..errors import Code, LoopforgeError
from ..models import Output, Task
from ..pipeline import isolated, renditions
from ..pipeline.convert import AnimationResult, convert, reads_key_frames
from ..pipeline.errors import timed_out
from ..pipeline.fit import fit
from ..pipeline.limits import Limits
from ..pipeline.probe import VideoInfo
from ..pipeline.timing import Stopwatch
from ..spec import AnimationSpec, ObjectUri, TaskSpec, Trim, expand_uri
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
from .queueing import job_timeout_s, task_enqueue

log = logging.getLogger(__name__)

# Progress is written at most this often (it is one UPDATE).
PROGRESS_INTERVAL_S = 0.3


def _progress_reporter(
    task: Task, index: int, count: int, deadline: float
) -> Callable[[float], None]:
    last = {"percent": -1, "at": 0.0}

    def report(fraction: float) -> None:
        # Called for every frame sampled and encoded: the encoders' share of
        # the wall time limit is enforced here (ffmpeg has its own timer).
        if time.monotonic() > deadline:
            raise timed_out(settings.CONVERTER_TASK_TIMEOUT_S)
        percent = min(99, int(100 * (index + fraction) / count))
        now = time.monotonic()
        if percent > last["percent"] and now - last["at"] >= PROGRESS_INTERVAL_S:
            last.update(percent=percent, at=now)
            task_progress(task, percent)

    return report


@dataclass(frozen=True)
class AnimationPlan:
    """One animation to make: its spec and where it goes."""

    index: int
    spec: AnimationSpec
    target: ObjectUri | None  # the bucket object the API named; None: our outputs storage


@dataclass(frozen=True)
class TaskPlan:
    """Everything a run needs, parsed and expanded once from the task's row:
    plain values that storage and the pipeline take as arguments."""

    source: ObjectUri | str  # a bucket object (API tasks), or the stored upload's name
    project: str  # whose objects the source's keys must be (CONVERTER_API_OBJECT_SCOPE)
    trim: Trim
    animations: tuple[AnimationPlan, ...]
    limits: Limits
    audio_only_ok: bool  # a waveform was asked for, so a file without picture will do


def task_plan(task: Task) -> TaskPlan:
    """The plan of ``task``'s run. Raises ``SpecError`` for a target URI
    that cannot be expanded (a tag it names is missing, say), and
    ``ObjectForbidden`` for an object the API may not touch."""
    spec = TaskSpec.from_dict(task.spec)
    source = ObjectUri.parse(task.source_uri) if task.source_uri else None

    def target(index: int, animation: AnimationSpec) -> ObjectUri | None:
        if not animation.uri:
            return None
        uri = expand_uri(
            animation.uri,
            source=source,
            source_name=task.original_filename,
            fmt=animation.format,
            index=index,
            tags=task.tags or {},
        )
        return ObjectUri.parse(uri, "URI")

    plan = TaskPlan(
        source=source if source is not None else str(task.source.name),
        project=task.project.name,
        trim=spec.trim,
        animations=tuple(
            AnimationPlan(i, animation, target(i, animation))
            for i, animation in enumerate(spec.animations)
        ),
        limits=limits(),
        audio_only_ok=spec.wants_waveform,
    )
    # Checked again in the worker, as expanded now: the settings may have
    # changed since the request, and a key is what storage will touch.
    objects = [source, *(a.target for a in plan.animations)]
    for uri in (o for o in objects if o is not None):
        storage.object_check_allowed(uri.bucket, uri.key, plan.project)
    return plan


def task_run(task: Task) -> None:
    """A queued task's run: claim, plan, fetch, probe, convert and store each
    animation, finish. Outputs stored by an earlier attempt are kept, so a
    task that runs twice writes each output once."""
    if not task_start(task):
        log.info("task %s is %s, not queued: skipped", task.public_id, task.status)
        return
    watch = Stopwatch()
    try:
        plan = task_plan(task)
        with ExitStack() as stack:
            with watch.part("fetch"):
                path = stack.enter_context(storage.source_copy(plan.source, plan.project))
            with watch.part("probe"):
                info = isolated.probe(
                    path,
                    plan.limits,
                    audio_only_ok=plan.audio_only_ok,
                    key_frames=reads_key_frames(a.spec.format for a in plan.animations),
                )
            Task.objects.filter(pk=task.pk).update(probe=info.to_dict())
            for animation in plan.animations:
                _make_animation(task, plan, animation, path, info, watch)
    except Exception as exc:  # every failure ends here, classified by _failure
        _fail_or_retry(task, _failure(task, exc))
        return
    task_succeed(task)
    log.info("task %s timings: %s", task.public_id, watch)


def _make_animation(
    task: Task,
    plan: TaskPlan,
    animation: AnimationPlan,
    path: Path,
    info: VideoInfo,
    watch: Stopwatch,
) -> None:
    """Convert one animation, store it where it goes, record and bill it;
    ``watch`` times each part (the conversion's own fixed costs by name)."""
    deadline = time.monotonic() + plan.limits.task_timeout_s
    output, _ = Output.objects.get_or_create(
        task=task,
        index=animation.index,
        defaults={
            "spec": animation.spec.to_dict(),
            "spec_key": str(animation.spec),
            "format": animation.spec.format,
        },
    )
    if output.is_done:
        return
    progress = _progress_reporter(task, animation.index, len(plan.animations), deadline)
    if animation.spec.max_bytes is not None:
        # Under a cap: candidates until one fits (never a larger file).
        with watch.part("fit"):
            fitted = fit(
                path,
                info,
                animation.spec,
                animation.spec.max_bytes,
                trim_start=plan.trim.start,
                trim_duration=plan.trim.duration,
                limits=plan.limits,
                on_progress=progress,
            )
        result = fitted.result
        output.fit_report = fitted.report()
    else:
        started = time.monotonic()
        result = convert(
            path,
            info,
            animation.spec,
            trim_start=plan.trim.start,
            trim_duration=plan.trim.duration,
            limits=plan.limits,
            on_progress=progress,
        )
        fixed = {k: v for k, v in result.timings.items() if k != "convert_s"}
        for name, seconds in fixed.items():
            watch.add(name.removesuffix("_s"), seconds)
        watch.add("sample+encode", time.monotonic() - started - sum(fixed.values()))
    with watch.part("store"):
        if animation.target is not None:
            storage.object_put(animation.target, result.data, result.format)
            output.uri = str(animation.target)
        else:
            storage.save_output(output.file, result.data, result.format)
    output.width, output.height = result.width, result.height
    output.frames, output.bytes = result.frames, len(result.data)
    output.frame_duration_ms = result.frame_duration_ms
    with watch.part("renditions"):
        _store_renditions(output, result)
    with transaction.atomic():
        output.save()
        usage_record(output)


def _store_renditions(output: Output, result: AnimationResult) -> None:
    """The MP4 and poster sharing needs (``renditions``), beside the output
    and before its row says it is done: a done output has them. Not billed."""
    made = renditions.make(result.data, result.format, result.frame_duration_ms)
    if made.video:
        storage.save_rendition(output.video, "video.mp4", made.video, "video/mp4")
        output.video_bytes = len(made.video)
    else:  # an MP4 output is its own video
        output.video_bytes = len(result.data)
    output.video_width, output.video_height = made.width, made.height
    storage.save_rendition(output.poster, "poster.jpg", made.poster, "image/jpeg")


def _failure(task: Task, exc: Exception) -> LoopforgeError:
    """What an exception that stopped a run means for its task."""
    if isinstance(exc, storage.StorageUnavailable):  # the one failure that may pass
        log.warning("task %s: storage unavailable: %s", task.public_id, exc.detail)
        return LoopforgeError(
            Code.STORAGE_UNAVAILABLE, "Storage could not be reached; the source is kept."
        )
    if isinstance(exc, LoopforgeError):
        return exc
    if isinstance(exc, storage.ObjectNotFound):
        return LoopforgeError(Code.SOURCE_NOT_FOUND, "The source object no longer exists.")
    if isinstance(exc, JobTimeoutException):  # RQ's own limit for the whole job
        return timed_out(job_timeout_s(task))
    log.error("task %s failed unexpectedly", task.public_id, exc_info=exc)
    return LoopforgeError(Code.INTERNAL_ERROR, "An unexpected error stopped the conversion.")


def _fail_or_retry(task: Task, failure: LoopforgeError) -> None:
    """Fail for good, or queue the next attempt after its backoff. The next
    run is a new job (named for the attempt), not RQ's Retry of this one, so
    the database alone says what should happen next."""
    if failure.permanent or task.attempts >= max_attempts():
        task_fail(task, code=failure.code, message=failure.message)
        return
    delay = retry_intervals_s()[task.attempts - 1]
    if task_requeue(task, code=failure.code, message=failure.message):
        log.info(
            "task %s: attempt %d failed (%s); next in %gs",
            task.public_id,
            task.attempts,
            failure.code,
            delay,
        )
        task_enqueue(task, delay_s=delay)
