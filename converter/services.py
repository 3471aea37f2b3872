"""Every database write, status transition and enqueue of the converter.

Status moves only along ``ALLOWED_TRANSITIONS``, each move a conditional
UPDATE, so two workers (or a retry racing a reconciler) cannot both run a task.
"""

from __future__ import annotations

import hmac
import logging
import math
import re
import time
from datetime import timedelta
from typing import Callable

import django_rq
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone
from rq import Retry
from rq.timeouts import JobTimeoutException

from . import notifications, storage, tasks, uploads
from .models import (
    AccessKey,
    Delivery,
    Output,
    Project,
    Task,
    UsageRecord,
    hash_secret,
    new_access_key_secret,
)
from .pipeline.convert import convert
from .pipeline.errors import PipelineError
from .pipeline.limits import Limits
from .pipeline.probe import VideoInfo, probe
from .spec import AnimationSpec, ImmRequest, ObjectUri, TaskSpec, expand_uri

log = logging.getLogger(__name__)

S = Task.Status
ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    S.QUEUED: {S.RUNNING, S.FAILED},
    S.RUNNING: {S.SUCCEEDED, S.FAILED, S.QUEUED},  # QUEUED: handed back for a retry
    S.SUCCEEDED: set(),
    S.FAILED: {S.QUEUED},  # only task_retry, for failures that may pass (RETRYABLE_CODES)
}
QUEUE = "convert"
NOTIFY_QUEUE = "notify"
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


class ServiceError(ValueError):
    """A request the service refuses; ``code`` is the API's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


PROJECT_NAME_RE = r"^[a-zA-Z][a-zA-Z0-9_-]{0,127}$"  # the reference's rule, roughly


def project_create(
    *, owner, name: str, description: str = "", monthly_frame_quota: int | None = None
) -> Project:
    """A new project owned by ``owner``. Names are unique per installation."""
    if not isinstance(name, str) or not re.match(PROJECT_NAME_RE, name):
        raise ServiceError(
            "InvalidArgument.ProjectName",
            "ProjectName must start with a letter and hold up to 128 letters, digits, '-' or '_'.",
        )
    try:
        with transaction.atomic():
            return Project.objects.create(
                owner=owner,
                name=name,
                description=description[:256],
                monthly_frame_quota=monthly_frame_quota,
            )
    except IntegrityError:
        raise ServiceError(
            "ResourceAlreadyExists", f"A project named {name!r} already exists."
        ) from None


def project_delete(project: Project) -> None:
    """Delete a project with its tasks, outputs, keys and usage. Objects
    written to API buckets stay: they belong to whoever owns the bucket.
    A user's default project (their browser history) is not deleted this way."""
    if project.name == f"default-{project.owner_id}":
        raise ServiceError(
            "Forbidden",
            "A user's default project holds their browser uploads; it cannot be deleted.",
        )
    for task in project.tasks.all():
        task_delete_files(task)
    project.delete()


def task_delete_files(task: Task) -> None:
    if task.source:
        task.source.delete(save=False)
    for output in task.outputs.all():
        if output.file:
            output.file.delete(save=False)


def project_set_quota(project: Project, *, monthly_frame_quota: int | None) -> Project:
    project.monthly_frame_quota = monthly_frame_quota
    project.save(update_fields=["monthly_frame_quota"])
    return project


def access_key_create(project: Project) -> tuple[AccessKey, str]:
    """A new key for ``project`` and its secret, which is never stored or shown again."""
    secret = new_access_key_secret()
    key = AccessKey.objects.create(project=project, secret_hash=hash_secret(secret))
    return key, secret


def access_key_revoke(key: AccessKey) -> bool:
    n = AccessKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    key.refresh_from_db()
    return n == 1


def access_key_authenticate(key_id: str, secret: str) -> AccessKey | None:
    """The active key with this id and secret, or None. The hash is compared
    even for an unknown id, so timing does not reveal which ids exist."""
    key = (
        AccessKey.objects.select_related("project", "project__owner").filter(key_id=key_id).first()
    )
    stored = key.secret_hash if key else hash_secret("no-such-key")
    matches = hmac.compare_digest(stored, hash_secret(secret))
    if key is None or not matches or not key.is_active:
        return None
    # At most one write a minute per key: the timestamp is informational.
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        AccessKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


def upload_check(upload, spec: TaskSpec) -> VideoInfo:
    """Refuse, before anything is stored or queued, an upload that can never
    convert: not a video format we read, no picture, over the limits, or a
    start time past its end. Reads container headers only (no decoding).
    Returns the probe, whose duration lets the quota check count frames."""
    with storage.upload_path(upload) as path:
        info = probe(path, limits(), decode=False, audio_only_ok=spec.wants_waveform)
    first = spec.trim.start + min(a.start_time for a in spec.animations)
    if first >= info.duration:
        raise PipelineError(
            "StartTimeOutOfRange",
            f"The start time {first:g} s is past the end of the video ({info.duration:.2f} s).",
        )
    return info


def _transition(task: Task, to: str, *, from_: tuple[str, ...] | None = None, **fields) -> bool:
    sources = [s for s, targets in ALLOWED_TRANSITIONS.items() if to in targets]
    if from_ is not None:
        sources = [s for s in sources if s in from_]
    n = Task.objects.filter(pk=task.pk, status__in=sources).update(status=to, **fields)
    task.refresh_from_db()
    return n == 1


def task_create(
    *,
    owner,
    spec: TaskSpec,
    upload,
    original_filename: str,
    project: Project | None = None,
    source_duration: float | None = None,
) -> Task:
    """Store the source, record the task and queue it once the row is committed.

    The upload goes to storage before the row exists (slow I/O outside the
    transaction); if recording fails, the stored object is removed again.
    The project's frame quota is checked before the upload is stored and again,
    serialised per project, when the row is written.
    """
    project = project or project_default_for(owner)
    estimate, _ = estimate_frames(spec, source_duration)
    _quota_check(project, estimate)
    task = Task(
        owner=owner,
        project=project,
        spec=spec.to_dict(),
        original_filename=uploads.display_filename(original_filename),
        source_size=getattr(upload, "size", 0) or 0,
        estimated_frames=estimate,
    )
    storage.save_source(task.source, upload)
    try:
        with transaction.atomic():
            _quota_check(Project.objects.select_for_update().get(pk=project.pk), estimate)
            task.save()
            transaction.on_commit(lambda: task_enqueue(task))
    except Exception:
        task.source.delete(save=False)
        raise
    return task


def month_start(now=None):
    now = now or timezone.now()
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def estimate_frames(spec: TaskSpec, source_duration: float | None = None) -> tuple[int, bool]:
    """Frames the request will make, as far as the request (and the source's
    duration, when probed) tells: (frames, exact). Without the duration it is
    exact when every animation has a ``Number`` or the source a ``Duration``;
    otherwise only the known part is counted."""
    total, exact = 0, True
    length = spec.trim.duration if spec.trim.duration > 0 else None
    if source_duration is not None:
        rest = max(0.0, source_duration - spec.trim.start)
        length = min(length, rest) if length is not None else rest
    for a in spec.animations:
        counted = None
        if length is not None:
            span = length - a.start_time
            counted = max(0, math.floor(span / a.interval - 1e-6) + 1) if span > 0 else 0
        if a.number > 0:
            counted = min(a.number, counted) if counted is not None else a.number
        if counted is None:
            exact = False
        else:
            total += counted
    return total, exact


def project_frames_used(project: Project) -> int:
    """Frames billed to the project this calendar month (UTC)."""
    return (
        UsageRecord.objects.filter(project=project, created_at__gte=month_start()).aggregate(
            n=Sum("frames")
        )["n"]
        or 0
    )


def project_frames_committed(project: Project) -> int:
    """Frames billed this month plus the estimates of tasks still to finish."""
    used = project_frames_used(project)
    pending = (
        Task.objects.filter(project=project, status__in=(S.QUEUED, S.RUNNING)).aggregate(
            n=Sum("estimated_frames")
        )["n"]
        or 0
    )
    return used + pending


def _quota_check(project: Project, estimate: int) -> None:
    """Refuse before any work when the month's quota would be exceeded. A
    request whose frame count cannot be known up front (no Number and no
    Duration) is refused only once the quota is used up; its real frames are
    billed when it finishes, so it may overrun the quota once."""
    quota = project.monthly_frame_quota
    if quota is None:
        return
    committed = project_frames_committed(project)
    if committed >= quota or committed + estimate > quota:
        raise ServiceError(
            "QuotaExceeded",
            f"Project {project.name} may make {quota} frames a month; {committed} are used or "
            f"reserved and this task needs {estimate or 'an unknown number of'} more.",
        )


def task_create_from_request(*, project: Project, request: ImmRequest, body: dict) -> Task:
    """An API task: the source is a bucket object the worker downloads; every
    animation goes to its own (expanded) URI. Checked before anything is
    queued: buckets open to the API, the source exists, the quota."""
    targets = [ObjectUri.parse(uri, "URI") for uri in request.target_uris()]
    try:
        for uri in [request.source, *targets]:
            storage.object_check_allowed(uri.bucket, uri.key, project.name)
    except storage.ObjectForbidden as exc:
        raise ServiceError("Forbidden", str(exc)) from None
    try:
        size = storage.object_size(request.source.bucket, request.source.key)
    except storage.ObjectNotFound:
        raise ServiceError(
            "ResourceNotFound", f"The source object {request.source} does not exist."
        ) from None
    if size > settings.CONVERTER_MAX_UPLOAD_BYTES:
        raise ServiceError(
            "InvalidArgument.Sources.URI",
            f"The source is {size:,} bytes; the limit is {settings.CONVERTER_MAX_UPLOAD_BYTES:,}.",
        )
    estimate, _ = estimate_frames(request.spec)
    with transaction.atomic():
        # One creation at a time per project, so two requests cannot both
        # pass the quota check with the last frames left.
        project = Project.objects.select_for_update().get(pk=project.pk)
        _quota_check(project, estimate)
        task = Task.objects.create(
            owner=project.owner,
            project=project,
            source_uri=str(request.source),
            original_filename=request.source.key.rsplit("/", 1)[-1][:255],
            source_size=size,
            spec=request.spec.to_dict(),
            user_data=request.user_data,
            tags=request.tags,
            notification=request.notification,
            request=body,
            estimated_frames=estimate,
        )
        transaction.on_commit(lambda: task_enqueue(task))
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
    return _transition(
        task, S.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1, progress=0
    )


def task_progress(task: Task, percent: int) -> None:
    Task.objects.filter(pk=task.pk, status=S.RUNNING).update(progress=percent)


def task_succeed(task: Task) -> bool:
    done = _transition(
        task, S.SUCCEEDED, progress=100, finished_at=timezone.now(), code="", message=""
    )
    if done:
        transaction.on_commit(lambda: notification_enqueue(task))
    return done


def task_fail(task: Task, *, code: str, message: str) -> bool:
    done = _transition(
        task, S.FAILED, finished_at=timezone.now(), code=code, message=message[:2000]
    )
    if done:
        transaction.on_commit(lambda: notification_enqueue(task))
    return done


# --- Completion messages ----------------------------------------------------------
# Sent once: only the caller whose conditional UPDATE reached the terminal
# state enqueues them. Each channel is its own RQ job with Retry; every
# attempt leaves a Delivery row.


def notification_enqueue(task: Task) -> None:
    channels = []
    if (task.notification or {}).get("MNS"):
        channels.append(Delivery.Channel.MNS)
    if (task.notification or {}).get("Webhook"):
        channels.append(Delivery.Channel.WEBHOOK)
    intervals = settings.CONVERTER_WEBHOOK_RETRY_INTERVALS_S
    for channel in channels:
        django_rq.get_queue(NOTIFY_QUEUE).enqueue(
            tasks.deliver_notification,
            task.pk,
            str(channel),
            job_id=f"notify-{task.task_id}-{channel}",
            retry=Retry(max=len(intervals), interval=intervals) if intervals else None,
        )


class DeliveryFailed(Exception):
    """Raised after a failed attempt is recorded, so RQ's Retry tries again."""


def delivery_attempt(task: Task, channel: str) -> Delivery:
    """Send the task's completion message on one channel once, record the
    attempt, and raise DeliveryFailed if it did not get through."""
    message = notifications.message_for(task)
    config = task.notification or {}
    if channel == Delivery.Channel.MNS:
        target = config["MNS"]["TopicName"]
        outcome = notifications.publish_stream(target, message)
    else:
        target = config["Webhook"]["URL"]
        outcome = notifications.post_webhook(target, config["Webhook"].get("Secret", ""), message)
    attempt = Delivery.objects.filter(task=task, channel=channel).count() + 1
    delivery = Delivery.objects.create(
        task=task,
        channel=channel,
        target=target[:2048],
        message_id=message["id"],
        attempt=attempt,
        ok=outcome.ok,
        status_code=outcome.status_code,
        error=outcome.error,
        duration_ms=outcome.duration_ms,
    )
    if not outcome.ok and not outcome.permanent:
        raise DeliveryFailed(
            f"{channel} delivery {attempt} for {task.task_id} failed: {outcome.error}"
        )
    return delivery


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
        n = running.update(
            status=S.FAILED, code="WorkerLost", message=message, finished_at=timezone.now()
        )
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
    else:
        transaction.on_commit(lambda: notification_enqueue(task))
    return new


def _progress_reporter(
    task: Task, index: int, count: int, deadline: float
) -> Callable[[float], None]:
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
        with storage.task_source_copy(task) as path:
            info = probe(path, bounds, audio_only_ok=spec.wants_waveform)
            Task.objects.filter(pk=task.pk).update(probe=info.to_dict())
            for index, animation in enumerate(spec.animations):
                _run_animation(task, index, animation, spec, path, info, bounds)
    except PipelineError as exc:
        _handle_failure(task, exc.code, exc.message, permanent=exc.permanent)
        return
    except storage.ObjectNotFound:
        task_fail(task, code="SourceNotFound", message="The source object no longer exists.")
        return
    except _storage_errors() as exc:  # storage or network trouble: may pass
        log.warning("task %s: transient failure: %r", task.task_id, exc)
        _handle_failure(
            task,
            "StorageUnavailable",
            "Storage could not be reached; the source is kept.",
            permanent=False,
        )
        return
    except JobTimeoutException:  # RQ's own limit for the whole job
        _handle_failure(
            task, "Timeout", "The conversion took too long and was stopped.", permanent=True
        )
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
        log.info(
            "task %s: attempt %d failed (%s); next in %gs", task.task_id, task.attempts, code, delay
        )
        task_enqueue(task, delay_s=delay)


def _run_animation(
    task, index, animation: AnimationSpec, spec: TaskSpec, path, info, bounds
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


# --- Metering -------------------------------------------------------------------


def usage_record(output: Output) -> UsageRecord:
    """Bill an output's frames to its project, once: the row is unique per
    output, so a task that runs again (a retry, a duplicate job) adds nothing."""
    record, _ = UsageRecord.objects.get_or_create(
        output=output,
        defaults={
            "project_id": output.task.project_id,
            "task_id": output.task_id,
            "frames": output.frames,
        },
    )
    return record
