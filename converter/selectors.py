"""Reads. Every query that a person's request makes is scoped to its owner."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from .models import Output, Task


def task_list_for_owner(user) -> QuerySet[Task]:
    return Task.objects.filter(owner=user).prefetch_related(
        Prefetch("outputs", queryset=Output.objects.order_by("index"))
    )


def task_get_for_owner(user, task_id: str) -> Task:
    """404 (never 403) for someone else's task: it must not confirm existence."""
    task = Task.objects.filter(owner=user, task_id=task_id).first()
    if task is None:
        raise Http404("No such task.")
    return task


def task_get_shared(share_key: str) -> Task:
    task = Task.objects.filter(share_key=share_key, status=Task.Status.SUCCEEDED).first()
    if task is None:
        raise Http404("No such shared animation.")
    return task


def output_get(task: Task, index: int) -> Output:
    output = task.outputs.filter(index=index).exclude(file="").first()
    if output is None:
        raise Http404("No such animation.")
    return output
