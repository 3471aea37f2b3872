"""Reads. Every query that a person's request makes is scoped to its owner."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from datetime import timezone as dt_timezone

from django.db.models import Count, Prefetch, Q, QuerySet, Sum, TextField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, TruncDay, TruncMonth
from django.http import Http404

from .models import Output, Project, Task, UsageRecord


def task_list_for_owner(user) -> QuerySet[Task]:
    return Task.objects.filter(owner=user).prefetch_related(
        Prefetch("outputs", queryset=Output.objects.order_by("index"))
    )


def task_get_for_owner(user, public_id: str) -> Task:
    """404 (never 403) for someone else's task: it must not confirm existence."""
    task = Task.objects.filter(owner=user, public_id=public_id).first()
    if task is None:
        raise Http404("No such task.")
    return task


def task_get_shared(share_key: str) -> Task:
    task = Task.objects.filter(share_key=share_key, status=Task.Status.SUCCEEDED).first()
    if task is None:
        raise Http404("No such shared animation.")
    return task


def output_get(task: Task, index: int) -> Output:
    # Done: stored in our outputs storage, or written to its API URI.
    done = ~Q(file="") | Q(bytes__gt=0, uri__gt="")
    output = task.outputs.filter(done, index=index).first()
    if output is None:
        raise Http404("No such animation.")
    return output


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
) -> list[dict]:
    """Frames and outputs billed per day or per month (UTC) in [start, end)."""
    trunc = TruncDay if granularity == "day" else TruncMonth
    rows = (
        UsageRecord.objects.filter(project=project, created_at__gte=start, created_at__lt=end)
        .annotate(period=trunc("created_at", tzinfo=dt_timezone.utc))
        .values("period")
        .annotate(frames=Sum("frames"), outputs=Count("id"))
        .order_by("period")
    )
    return list(rows)


def usage_for_owner(user, *, granularity: str, start: datetime, end: datetime) -> list[dict]:
    """Frames per project and period for every project a person owns."""
    trunc = TruncDay if granularity == "day" else TruncMonth
    return list(
        UsageRecord.objects.filter(project__owner=user, created_at__gte=start, created_at__lt=end)
        .annotate(period=trunc("created_at", tzinfo=dt_timezone.utc))
        .values("project__name", "period")
        .annotate(frames=Sum("frames"), outputs=Count("id"))
        .order_by("-period", "project__name")
    )


def project_list_for_owner(user) -> QuerySet[Project]:
    return Project.objects.filter(owner=user).annotate(
        active_keys=Count("access_keys", filter=Q(access_keys__revoked_at__isnull=True))
    )


def project_get_for_owner(user, name: str) -> Project:
    project = Project.objects.filter(owner=user, name=name).first()
    if project is None:
        raise Http404("No such project.")
    return project
