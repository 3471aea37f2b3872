"""New tasks: from a person's upload or a program's API request. Everything
that can be refused is refused here, before anything is queued."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from .. import storage, uploads
from ..errors import Code, LoopforgeError, invalid
from ..models import Draft, Project, Task
from ..pipeline import isolated
from ..pipeline.errors import PipelineError
from ..pipeline.geometry import crop_box
from ..pipeline.probe import NO_PICTURE, VideoInfo
from ..spec import ImmRequest, ObjectUri, TaskSpec
from .limits import limits
from .metering import frames_reserved, quota_check
from .previews import PENDING, draft_proxy_discard
from .projects import project_default_for
from .queueing import draft_preview_enqueue_after_commit, task_enqueue_after_commit


def upload_check(upload: UploadedFile[bytes], spec: TaskSpec) -> VideoInfo:
    """Refuse, before anything is stored or queued, an upload that can never
    convert: not a video format we read, no picture, over the limits, or a
    start time past its end. Reads container headers only (no decoding), in
    the sandbox (``isolated``): the upload is untrusted.
    Returns the probe, whose duration lets the quota check count frames."""
    with storage.upload_path(upload) as path:
        info = isolated.probe(path, limits(), decode=False, audio_only_ok=spec.wants_waveform)
    _start_check(info.duration, spec)
    _crop_check(info.width, info.height, spec)
    return info


def _crop_check(width: int, height: int, spec: TaskSpec) -> None:
    """A crop must start inside the picture (``geometry.crop_box``; a
    waveform is drawn on its own canvas, checked when it is drawn)."""
    for animation in spec.animations:
        if animation.crop is not None and not animation.waveform:
            crop_box(animation.crop, width, height)


def _start_check(duration: float, spec: TaskSpec) -> None:
    first = spec.trim.start + min(a.start_time for a in spec.animations)
    if first >= duration:
        raise PipelineError(
            Code.START_TIME_OUT_OF_RANGE,
            f"The start time {first:g} s is past the end of the video ({duration:.2f} s).",
        )


def task_create(
    *,
    owner: User,
    spec: TaskSpec,
    upload: UploadedFile[bytes],
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
    estimate = frames_reserved(spec, source_duration)
    quota_check(project, estimate)
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
            quota_check(Project.objects.select_for_update().get(pk=project.pk), estimate)
            task.save()
            task_enqueue_after_commit(task)
    except Exception:
        task.source.delete(save=False)
        raise
    return task


def task_submit_upload(*, owner: User, spec: TaskSpec, upload: UploadedFile[bytes]) -> Task:
    """A person's upload: checked (``upload_check``), stored, recorded, queued."""
    info = upload_check(upload, spec)
    return task_create(
        owner=owner,
        spec=spec,
        upload=upload,
        original_filename=upload.name or "",
        source_duration=info.duration,
    )


def draft_create(*, owner: User, upload: UploadedFile[bytes]) -> Draft:
    """The editor's background upload: probed (container headers only, as
    ``upload_check`` does; a file with only sound is accepted, since the
    waveform option is chosen later), then stored and recorded, and its
    preview queued (``previews``). No conversion is queued until
    ``task_submit_draft``."""
    with storage.upload_path(upload) as path:
        info = isolated.probe(path, limits(), decode=False, audio_only_ok=True)
    draft = Draft(
        owner=owner,
        original_filename=uploads.display_filename(upload.name or ""),
        source_size=getattr(upload, "size", 0) or 0,
        probe=info.to_dict(),
        preview=dict(PENDING),
    )
    storage.save_source(draft.source, upload)
    return _draft_record(draft)


def _draft_record(draft: Draft) -> Draft:
    """Record a draft whose source is stored (removed again if the row
    cannot be written) and queue its preview."""
    try:
        draft.save()
    except Exception:
        draft.source.delete(save=False)
        raise
    draft_preview_enqueue_after_commit(draft.pk)
    return draft


def draft_from_task(*, owner: User, task: Task) -> Draft:
    """Edit again: a new draft of ``task``'s stored source (copied in
    storage, not uploaded again), with its probe, for the editor to open
    with the task's settings. Refused with ``SourceNotFound`` where the
    task keeps no source of its own (an API task reads its bucket's)."""
    if task.owner_id != owner.pk or not task.source.name or not task.probe:
        raise LoopforgeError(
            Code.SOURCE_NOT_FOUND, "This task keeps no source to edit again; upload the video."
        )
    draft = Draft(
        owner=owner,
        original_filename=task.original_filename,
        source_size=task.source_size,
        probe=task.probe,
        preview=dict(PENDING),
    )
    try:
        storage.copy_source(task.source.name, draft.source)
    except storage.ObjectNotFound:
        raise LoopforgeError(
            Code.SOURCE_NOT_FOUND, "This task's source is no longer stored; upload the video."
        ) from None
    return _draft_record(draft)


def task_submit_draft(*, owner: User, spec: TaskSpec, draft: Draft) -> Task:
    """Convert pressed in the editor: the task made from ``draft``'s stored
    source (not uploaded again), checked as ``task_submit_upload`` checks an
    upload, queued once committed. A draft makes one task: a second use
    (Convert pressed twice) is refused with ``DraftUsed``."""
    # The probe as stored (a plain dict: a VideoInfo of later versions may
    # have other fields); only what the checks need is read.
    duration = float(draft.probe["duration"])
    if draft.probe.get("audio_only") and not spec.wants_waveform:
        raise PipelineError(Code.NO_VIDEO_STREAM, NO_PICTURE)
    _start_check(duration, spec)
    _crop_check(int(draft.probe["width"]), int(draft.probe["height"]), spec)
    project = project_default_for(owner)
    estimate = frames_reserved(spec, duration)
    quota_check(project, estimate)
    with transaction.atomic():
        quota_check(Project.objects.select_for_update().get(pk=project.pk), estimate)
        task = Task.objects.create(
            owner=owner,
            project=project,
            spec=spec.to_dict(),
            source=draft.source.name,
            original_filename=draft.original_filename,
            source_size=draft.source_size,
            estimated_frames=estimate,
        )
        # Claimed with a conditional update: of two Converts racing, one wins.
        claimed = Draft.objects.filter(pk=draft.pk, owner=owner, task__isnull=True).update(
            task=task, claimed_at=timezone.now()
        )
        if claimed != 1:
            raise LoopforgeError(
                Code.DRAFT_USED,
                "This video was already converted; choose the file again for another one.",
            )
        draft_proxy_discard(draft)  # the task plays no proxy
        task_enqueue_after_commit(task)
    return task


def source_object_check(source: ObjectUri) -> int:
    """The size of a bucket object named as a source, which must exist and
    be within the upload limit (``ResourceNotFound``,
    ``InvalidArgument.Sources.URI``)."""
    try:
        size = storage.object_size(source.bucket, source.key)
    except storage.ObjectNotFound:
        raise LoopforgeError(
            Code.RESOURCE_NOT_FOUND, f"The source object {source} does not exist."
        ) from None
    if size > settings.CONVERTER_MAX_UPLOAD_BYTES:
        raise invalid(
            "Sources.URI",
            f"The source is {size:,} bytes; the limit is {settings.CONVERTER_MAX_UPLOAD_BYTES:,}.",
        )
    return size


def task_create_from_request(
    *, project: Project, request: ImmRequest, body: dict[str, Any]
) -> Task:
    """An API task: the source is a bucket object the worker downloads; every
    animation goes to its own (expanded) URI. Checked before anything is
    queued: buckets open to the API, the source exists, the quota."""
    targets = [ObjectUri.parse(uri, "URI") for uri in request.target_uris()]
    for uri in [request.source, *targets]:
        storage.object_check_allowed(uri.bucket, uri.key, project.name)
    size = source_object_check(request.source)
    estimate = frames_reserved(request.spec)
    with transaction.atomic():
        # One creation at a time per project, so two requests cannot both
        # pass the quota check with the last frames left.
        project = Project.objects.select_for_update().get(pk=project.pk)
        quota_check(project, estimate)
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
        task_enqueue_after_commit(task)
    return task
