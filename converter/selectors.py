"""Reads. Every query that a person's request makes is scoped to its owner.

One convention: a selector that looks one thing up returns it or None; the
caller says what a miss means (the pages answer 404, the API
``ResourceNotFound``). Lists are QuerySets or lists, never None.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    TextField,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, TruncDay, TruncMonth

from .models import AccessKey, Delivery, Draft, Output, Project, Task, UsageRecord


def task_list_for_owner(
    user: User, *, q: str = "", status: str = "", format: str = ""
) -> QuerySet[Task]:
    """The person's tasks, newest first, narrowed by file name (any part,
    any case), status and output format."""
    tasks = Task.objects.filter(owner=user)
    if q:
        tasks = tasks.filter(original_filename__icontains=q)
    if status:
        tasks = tasks.filter(status=status)
    if format:
        tasks = tasks.filter(outputs__format=format).distinct()
    return tasks.prefetch_related(Prefetch("outputs", queryset=Output.objects.order_by("index")))


def task_get_for_owner(user: User, public_id: str) -> Task | None:
    """The person's task (never someone else's: the page must not confirm
    that another person's task exists)."""
    return Task.objects.filter(owner=user, public_id=public_id).first()


def draft_get_for_owner(user: User, public_id: str) -> Draft | None:
    """The person's draft (another person's is not found, as with tasks)."""
    return Draft.objects.filter(owner=user, public_id=public_id).first()


def task_get_shared(share_key: str) -> Task | None:
    """The finished task whose share link this is; a revoked link's task
    keeps no key (``removal.share_link_revoke``), so nothing finds it."""
    if not share_key:
        return None
    return Task.objects.filter(share_key=share_key, status=Task.Status.SUCCEEDED).first()


def _done() -> Q:
    # Stored in our outputs storage, or written to its API URI.
    return ~Q(file="") | Q(bytes__gt=0, uri__gt="")


def output_get(task: Task, index: int) -> Output | None:
    """A finished output of the task."""
    return task.outputs.filter(_done(), index=index).first()


def output_list(task: Task) -> list[Output]:
    """The task's finished outputs, in order."""
    return list(task.outputs.filter(_done()).order_by("index"))


def delivery_list(task: Task) -> QuerySet[Delivery]:
    """Every notification attempt of the task, oldest first."""
    return Delivery.objects.filter(task=task).order_by("created_at", "id")


# --- The API: every read is scoped to the access key's project --------------------


def task_get_for_project(project: Project, public_id: str) -> Task | None:
    return (
        Task.objects.filter(project=project, public_id=public_id)
        .select_related("project")
        .prefetch_related(Prefetch("outputs", queryset=Output.objects.order_by("index")))
        .first()
    )


@dataclass(frozen=True)
class TaskFilter:
    statuses: tuple[str, ...] = ()  # Task.Status values
    tags: tuple[tuple[str, str], ...] = ()
    # (field, start, end) with field one of created_at, started_at, finished_at
    ranges: tuple[tuple[str, datetime | None, datetime | None], ...] = ()
    ascending: bool = False


@dataclass(frozen=True)
class Cursor:
    """Where a page ended: keyset on (created_at, id), so pages stay correct
    while tasks are added (new ones sort before the first page or after the
    last, never into a page already read)."""

    created_at: datetime
    pk: int


def task_list_for_project(
    project: Project, filters: TaskFilter, *, limit: int, after: Cursor | None
) -> tuple[list[Task], Cursor | None]:
    """One page of the project's tasks and the cursor of the next page (None
    when this is the last)."""
    qs = Task.objects.filter(project=project).select_related("project")
    if filters.statuses:
        qs = qs.filter(status__in=filters.statuses)
    for i, (name, value) in enumerate(filters.tags):
        # KeyTextTransform takes the tag name literally (a name with "__" is
        # not split into a path); the Cast makes the comparison a plain text
        # one, which SQLite needs (its JSON "exact" expects a JSON right side).
        alias = f"tag_{i}"
        qs = qs.alias(**{alias: Cast(KeyTextTransform(name, "tags"), TextField())}).filter(
            **{alias: value}
        )
    for field, start, end in filters.ranges:
        if start is not None:
            qs = qs.filter(**{f"{field}__gte": start})
        if end is not None:
            qs = qs.filter(**{f"{field}__lt": end})
    if after is not None:
        if filters.ascending:
            qs = qs.filter(
                Q(created_at__gt=after.created_at) | Q(created_at=after.created_at, pk__gt=after.pk)
            )
        else:
            qs = qs.filter(
                Q(created_at__lt=after.created_at) | Q(created_at=after.created_at, pk__lt=after.pk)
            )
    order = ["created_at", "pk"] if filters.ascending else ["-created_at", "-pk"]
    rows = list(
        qs.order_by(*order).prefetch_related(
            Prefetch("outputs", queryset=Output.objects.order_by("index"))
        )[: limit + 1]
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (Cursor(rows[-1].created_at, rows[-1].pk) if more else None)


def usage_for_project(
    project: Project, *, granularity: str, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """Frames and outputs billed per day or per month (UTC) in [start, end)."""
    trunc = TruncDay if granularity == "day" else TruncMonth
    rows = (
        UsageRecord.objects.filter(project=project, created_at__gte=start, created_at__lt=end)
        .annotate(period=trunc("created_at", tzinfo=UTC))
        .values("period")
        .annotate(frames=Sum("frames"), outputs=Count("id"))
        .order_by("period")
    )
    return [dict(row) for row in rows]


def usage_for_owner(
    user: User, *, granularity: str, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """Frames per project and period for every project a person owns."""
    trunc = TruncDay if granularity == "day" else TruncMonth
    rows = (
        UsageRecord.objects.filter(project__owner=user, created_at__gte=start, created_at__lt=end)
        .annotate(period=trunc("created_at", tzinfo=UTC))
        .values("project__name", "period")
        .annotate(frames=Sum("frames"), outputs=Count("id"))
        .order_by("-period", "project__name")
    )
    return [dict(row) for row in rows]


def project_list_for_owner(user: User) -> QuerySet[Project]:
    return Project.objects.filter(owner=user).annotate(
        active_keys=Count("access_keys", filter=Q(access_keys__revoked_at__isnull=True))
    )


def project_get_for_owner(user: User, name: str) -> Project | None:
    return Project.objects.filter(owner=user, name=name).first()


def access_key_list(project: Project) -> QuerySet[AccessKey]:
    """The project's keys, newest first, revoked ones too."""
    return project.access_keys.all()


def access_key_get(project: Project, key_id: str, *, active: bool = False) -> AccessKey | None:
    """One of the project's keys (only an unrevoked one when ``active``)."""
    keys = project.access_keys.filter(key_id=key_id)
    if active:
        keys = keys.filter(revoked_at__isnull=True)
    return keys.first()


def access_key_find(key_id: str) -> AccessKey | None:
    """The key with this id, active or not, with its project and owner (the
    RPC protocol names a key by id before its signature is checked)."""
    return (
        AccessKey.objects.select_related("project", "project__owner").filter(key_id=key_id).first()
    )


# --- Figures for the metrics (converter/metrics.py) ------------------------------


def task_counts_by_status() -> dict[str, int]:
    rows = Task.objects.values("status").annotate(n=Count("id"))
    return {row["status"]: row["n"] for row in rows}


def output_counts_by_format() -> dict[str, int]:
    """Animations made, per format (outputs that were written)."""
    rows = Output.objects.filter(bytes__gt=0).values("format").annotate(n=Count("id"))
    return {row["format"]: row["n"] for row in rows}


def failure_counts_by_code() -> dict[str, int]:
    rows = Task.objects.filter(status=Task.Status.FAILED).values("code").annotate(n=Count("id"))
    return {row["code"] or "Unknown": row["n"] for row in rows}


def task_duration_buckets(bounds_s: tuple[float, ...]) -> tuple[list[int], int, float]:
    """Finished tasks that ran: how many took at most each bound (seconds,
    from start to finish), how many in all, and their total seconds; counted
    by the database, however many tasks there are."""
    took = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
    ran = Task.objects.filter(started_at__isnull=False, finished_at__isnull=False).annotate(
        took=took
    )
    figures = ran.aggregate(
        count=Count("id"),
        total=Sum("took"),
        **{
            f"le{i}": Count("id", filter=Q(took__lte=timedelta(seconds=b)))
            for i, b in enumerate(bounds_s)
        },
    )
    total = figures["total"].total_seconds() if figures["total"] else 0.0
    return [figures[f"le{i}"] for i in range(len(bounds_s))], figures["count"], total


def output_frame_buckets(bounds: tuple[int, ...]) -> tuple[list[int], int, int]:
    """Animations written: how many have at most each bound of frames, how
    many in all, and their frames in all."""
    written = Output.objects.filter(bytes__gt=0)
    figures = written.aggregate(
        count=Count("id"),
        total=Sum("frames"),
        **{f"le{i}": Count("id", filter=Q(frames__lte=b)) for i, b in enumerate(bounds)},
    )
    return [figures[f"le{i}"] for i in range(len(bounds))], figures["count"], figures["total"] or 0
