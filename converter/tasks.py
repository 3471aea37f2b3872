"""RQ entry points: load by id, call a service. Nothing else lives here.

The services enqueue these by their dotted path (``CONVERT_TASK``...), so
this module may import the services without a cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import LoopforgeError
from .models import Draft, Task
from .pipeline.sandbox import die_with_parent
from .services import conversion, deliveries, preview_jobs
from .storage import ObjectNotFound


def convert_task(task_pk: int) -> None:
    die_with_parent()  # a killed worker takes its horse (and ffmpeg) with it
    task = Task.objects.filter(pk=task_pk).first()
    if task is None:
        return  # deleted while queued
    conversion.task_run(task)


def deliver_notification(task_pk: int, channel: str) -> None:
    task = Task.objects.filter(pk=task_pk).select_related("project").first()
    if task is None:
        return
    deliveries.delivery_attempt(task, channel)


def draft_preview(draft_pk: int) -> None:
    die_with_parent()
    draft = Draft.objects.filter(pk=draft_pk).first()
    if draft is None:
        return  # removed before its preview ran
    preview_jobs.draft_preview_make(draft)


def draft_moments(draft_pk: int, length_s: float) -> None:
    die_with_parent()
    draft = Draft.objects.filter(pk=draft_pk).first()
    if draft is None:
        return
    preview_jobs.draft_moments_make(draft, length_s)


def suggest_moments(uri: str, project: str, length_s: float, count: int) -> dict[str, Any]:
    """The API's SuggestMoments, run on the previews queue."""
    die_with_parent()
    return _answered(
        lambda: {"Moments": preview_jobs.object_moments(uri, project, length_s, count)}
    )


def estimate_object(uri: str, project: str, spec: dict[str, Any]) -> dict[str, Any]:
    """The API's EstimateMediaConvertTask, run on the previews queue."""
    die_with_parent()
    return _answered(lambda: {"Animations": preview_jobs.object_estimate(uri, project, spec)})


def estimate_draft(draft_pk: int, spec: dict[str, Any]) -> dict[str, Any]:
    """The editor's estimate of a draft, run on the previews queue."""
    die_with_parent()
    draft = Draft.objects.filter(pk=draft_pk).first()
    if draft is None:
        return {"Code": "ResourceNotFound", "Message": "There is no such draft."}
    return _answered(lambda: {"Animations": preview_jobs.draft_estimate(draft, spec)})


def _answered(work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A job result the web process reads: the answer, or the refusal's
    code and message."""
    try:
        return work()
    except LoopforgeError as exc:
        return {"Code": exc.code, "Message": exc.message}
    except ObjectNotFound:  # removed since the request was checked
        return {"Code": "SourceNotFound", "Message": "The source no longer exists."}
