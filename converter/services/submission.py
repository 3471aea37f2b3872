"""New tasks: from a person's upload or a program's API request. Everything
that can be refused is refused here, before anything is queued."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from .. import storage, uploads
from ..errors import Code, LoopforgeError, invalid
from ..models import Project, Task
from ..pipeline import isolated
from ..pipeline.errors import PipelineError
from ..pipeline.probe import VideoInfo
from ..spec import ImmRequest, ObjectUri, TaskSpec
from .limits import limits
from .metering import frames_reserved, quota_check
from .projects import project_default_for
from .queueing import task_enqueue


def upload_check(upload: UploadedFile[bytes], spec: TaskSpec) -> VideoInfo:
    """Refuse, before anything is stored or queued, an upload that can never
    convert: not a video format we read, no picture, over the limits, or a
    start time past its end. Reads container headers only (no decoding), in
    the sandbox (``isolated``): the upload is untrusted.
    Returns the probe, whose duration lets the quota check count frames."""
    with storage.upload_path(upload) as path:
        info = isolated.probe(path, limits(), decode=False, audio_only_ok=spec.wants_waveform)
    first = spec.trim.start + min(a.start_time for a in spec.animations)
    if first >= info.duration:
        raise PipelineError(
            Code.START_TIME_OUT_OF_RANGE,
            f"The start time {first:g} s is past the end of the video ({info.duration:.2f} s).",
        )
    return info


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
            transaction.on_commit(lambda: task_enqueue(task))
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


def task_create_from_request(
    *, project: Project, request: ImmRequest, body: dict[str, Any]
) -> Task:
    """An API task: the source is a bucket object the worker downloads; every
    animation goes to its own (expanded) URI. Checked before anything is
    queued: buckets open to the API, the source exists, the quota."""
    targets = [ObjectUri.parse(uri, "URI") for uri in request.target_uris()]
    for uri in [request.source, *targets]:
        storage.object_check_allowed(uri.bucket, uri.key, project.name)
    try:
        size = storage.object_size(request.source.bucket, request.source.key)
    except storage.ObjectNotFound:
        raise LoopforgeError(
            Code.RESOURCE_NOT_FOUND, f"The source object {request.source} does not exist."
        ) from None
    if size > settings.CONVERTER_MAX_UPLOAD_BYTES:
        raise invalid(
            "Sources.URI",
            f"The source is {size:,} bytes; the limit is {settings.CONVERTER_MAX_UPLOAD_BYTES:,}.",
        )
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
        transaction.on_commit(lambda: task_enqueue(task))
    return task
