"""RQ entry points: load by id, call a service. Nothing else lives here."""

from __future__ import annotations


def convert_task(task_pk: int) -> None:
    from . import services
    from .models import Task
    from .pipeline.ffmpeg import die_with_parent

    die_with_parent()  # a killed worker takes its horse (and ffmpeg) with it

    task = Task.objects.filter(pk=task_pk).first()
    if task is None:
        return  # deleted while queued
    services.task_run(task)


def deliver_notification(task_pk: int, channel: str) -> None:
    from . import services
    from .models import Task

    task = Task.objects.filter(pk=task_pk).select_related("project").first()
    if task is None:
        return
    services.delivery_attempt(task, channel)
