"""Rows and uploads for tests."""

from __future__ import annotations

import itertools
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from converter.spec import AnimationSpec, TaskSpec, Trim

_seq = itertools.count(1)


def make_user(username: str | None = None, password: str = "a-Long-passw0rd!"):
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
