"""Rows and uploads for tests: users, projects with their access keys, tasks
(queued, finished, or bare rows) and outputs. Keyword arguments say what
differs from the defaults."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from converter.models import Output, Project, Task
from converter.services import access_keys, conversion, projects, submission
from converter.spec import AnimationSpec, ImmRequest, TaskSpec, Trim

_seq = itertools.count(1)

PASSWORD = "a-Long-passw0rd!"


def make_user(username: str | None = None, password: str = PASSWORD):
    name = username or f"user{next(_seq)}"
    return get_user_model().objects.create_user(name, password=password)


def upload_of(path: Path, name: str | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name or path.name, path.read_bytes(), content_type="video/mp4")


def task_spec(trim_start: float = 0.0, trim_duration: float = 0.0, **animation) -> TaskSpec:
    fields = {"format": "gif", "interval": 0.5, "frame_rate": 2.0, "width": 80.0, **animation}
    return TaskSpec(Trim(trim_start, trim_duration), (AnimationSpec.create(**fields),))


def form_data(video, **overrides) -> dict:
    """The upload form's fields, with sensible choices, for Django's test client."""
    return {
        "video": video,
        "format": "gif",
        "start": "0",
        "duration": "",
        "fps": "10",
        "size": "half",
        "width": "",
        "quality": "balanced",
        **overrides,
    }


def make_project(name: str | None = None, *, owner=None, **fields) -> Project:
    """A project of ``owner`` (a new user by default); ``fields`` as
    ``projects.project_create`` takes them (``monthly_frame_quota``...)."""
    return projects.project_create(
        owner=owner or make_user(), name=name or f"project{next(_seq)}", **fields
    )


def make_key(project: Project) -> tuple[str, str]:
    """A new access key of ``project``: (key id, secret), as ``tests.api.call`` takes it."""
    key, secret = access_keys.access_key_create(project)
    return key.key_id, secret


def make_project_with_key(
    name: str | None = None, *, owner=None, **fields
) -> tuple[Project, tuple[str, str]]:
    """A project and an access key of it: ``(project, (key id, secret))``."""
    project = make_project(name, owner=owner, **fields)
    return project, make_key(project)


def make_task(
    source: Path,
    *,
    owner=None,
    spec: TaskSpec | None = None,
    original_filename: str | None = None,
    upload_name: str | None = None,
) -> Task:
    """A person's task, stored and queued (``submission.task_create``): the
    clip at ``source`` uploaded by ``owner`` (a new user by default), asking
    for ``spec`` (``task_spec()`` by default); the file name shown is the
    clip's unless told."""
    return submission.task_create(
        owner=owner or make_user(),
        spec=spec or task_spec(),
        upload=upload_of(source, upload_name),
        original_filename=original_filename or source.name,
    )


def make_finished_task(source: Path, **fields) -> Task:
    """``make_task``, then run inline as a worker runs it; it succeeded."""
    task = make_task(source, **fields)
    conversion.task_run(task)
    task.refresh_from_db()
    assert task.status == Task.Status.SUCCEEDED, (task.code, task.message)
    return task


def make_api_task(project: Project, body: dict[str, Any]) -> Task:
    """The task CreateMediaConvertTask makes of the request ``body`` for
    ``project`` (``submission.task_create_from_request``)."""
    return submission.task_create_from_request(
        project=project, request=ImmRequest.parse(body), body=body
    )


def make_task_row(project: Project, **fields) -> Task:
    """A bare task row of ``project``: no source, nothing queued, for the pages
    and listings; ``fields`` set its columns (status, tags, spec...)."""
    fields.setdefault("spec", {"animations": []})
    return Task.objects.create(owner=project.owner, project=project, **fields)


def make_output(task: Task, *, frames: int, format: str = "gif", index: int = 0) -> Output:
    """A finished output row of ``task`` with ``frames`` frames (and no file)."""
    return Output.objects.create(
        task=task, index=index, spec={}, spec_key="k", format=format, frames=frames
    )
