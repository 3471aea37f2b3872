"""Metering: frames are the billing unit (the reference bills per output
frame). Estimates before a task runs, the monthly quota, and one usage record
per stored output."""

from __future__ import annotations

import math
from datetime import datetime

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from ..errors import Code, LoopforgeError
from ..models import Output, Project, Task, UsageRecord
from ..spec import TaskSpec

UNFINISHED = (Task.Status.QUEUED, Task.Status.RUNNING)


def month_start(now: datetime | None = None) -> datetime:
    """The start of ``now``'s calendar month (UTC)."""
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


def frames_reserved(spec: TaskSpec, source_duration: float | None = None) -> int:
    """The frames held against the quota while a task is unfinished: the
    estimate where it is exact, else the most the task may make (every
    animation of unknown length at CONVERTER_MAX_OUTPUT_FRAMES), so that no
    number of such tasks can pass the quota at once."""
    estimate, exact = estimate_frames(spec, source_duration)
    if exact:
        return estimate
    cap = settings.CONVERTER_MAX_OUTPUT_FRAMES
    return sum(min(a.number, cap) if a.number > 0 else cap for a in spec.animations)


def project_frames_used(project: Project) -> int:
    """Frames billed to the project this calendar month (UTC)."""
    used = UsageRecord.objects.filter(project=project, created_at__gte=month_start()).aggregate(
        n=Sum("frames")
    )["n"]
    return int(used or 0)


def project_frames_committed(project: Project) -> int:
    """Frames billed this month plus the estimates of tasks still to finish."""
    pending = Task.objects.filter(project=project, status__in=UNFINISHED).aggregate(
        n=Sum("estimated_frames")
    )["n"]
    return project_frames_used(project) + int(pending or 0)


def quota_check(project: Project, estimate: int) -> None:
    """Refuse before any work when the month's quota would be exceeded by
    ``estimate`` more frames (``frames_reserved``: the worst case where the
    count cannot be known up front)."""
    quota = project.monthly_frame_quota
    if quota is None:
        return
    committed = project_frames_committed(project)
    if committed + estimate > quota:
        raise LoopforgeError(
            Code.QUOTA_EXCEEDED,
            f"Project {project.name} may make {quota} frames a month; {committed} are used or "
            f"reserved and this task needs {estimate or 'an unknown number of'} more.",
        )


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
