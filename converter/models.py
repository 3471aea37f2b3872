"""The lasting record of every conversion. RQ's job records expire; these rows
do not, so every status the user sees comes from here."""

from __future__ import annotations

import secrets
import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.core.files.storage import storages
from django.db import models


def sources_storage():  # named functions: migrations cannot serialise lambdas
    return storages["sources"]


def outputs_storage():
    return storages["outputs"]


def new_task_id() -> str:
    return f"mc-{uuid.uuid4().hex}"


def new_share_key() -> str:
    return secrets.token_urlsafe(24)  # 192 bits


def source_name(task: "Task", filename: str) -> str:
    # Never the user's name or extension: ffmpeg must not pick a demuxer (or a
    # playlist parser) from it, and a stored key must not be guessable.
    return f"{task.task_id}/{uuid.uuid4().hex}.video"


def output_name(output: "Output", filename: str) -> str:
    return f"{output.task.task_id}/{output.index}-{output.spec_key}"


class Project(models.Model):
    name = models.CharField(max_length=128, unique=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="projects")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Task(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    task_id = models.CharField(max_length=64, unique=True, default=new_task_id, editable=False)
    share_key = models.CharField(max_length=64, unique=True, default=new_share_key, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tasks")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tasks")
    source = models.FileField(storage=sources_storage, upload_to=source_name, max_length=500, blank=True)
    original_filename = models.CharField(max_length=255, blank=True)
    source_size = models.BigIntegerField(default=0)
    spec = models.JSONField()  # TaskSpec.to_dict()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress = models.PositiveSmallIntegerField(default=0)  # 0..100
    code = models.CharField(max_length=64, blank=True)
    message = models.TextField(blank=True)
    probe = models.JSONField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.task_id

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    @property
    def display_name(self) -> str:
        return self.original_filename or PurePosixPath(self.source.name).name or self.task_id


class Output(models.Model):
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="outputs")
    index = models.PositiveSmallIntegerField()
    spec = models.JSONField()  # AnimationSpec.to_dict()
    spec_key = models.CharField(max_length=200)  # str(AnimationSpec)
    file = models.FileField(storage=outputs_storage, upload_to=output_name, max_length=500, blank=True)
    format = models.CharField(max_length=8)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    frames = models.PositiveIntegerField(default=0)
    bytes = models.BigIntegerField(default=0)
    frame_duration_ms = models.FloatField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["index"]
        constraints = [models.UniqueConstraint(fields=["task", "index"], name="output_unique_index")]

    def __str__(self) -> str:
        return f"{self.task.task_id}#{self.index}"

    @property
    def is_done(self) -> bool:
        return bool(self.file)
