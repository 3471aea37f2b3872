"""Oversized uploads and hostile file names, through the real upload view."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from converter.models import Task
from converter.services import conversion
from converter.uploads import LimitedTemporaryFileUploadHandler, display_filename
from tests.factories import form_data, make_task, upload_of

pytestmark = pytest.mark.django_db(transaction=True)

LIMIT = 100_000


@pytest.fixture
def small_limit(settings, tmp_path):
    settings.CONVERTER_MAX_UPLOAD_BYTES = LIMIT
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    return tmp_path


def test_an_upload_declared_over_the_limit_is_refused_before_its_body_is_read(
    user_client, small_limit
):
    body = SimpleUploadedFile("big.mp4", b"\0" * (LIMIT * 3), content_type="video/mp4")
    response = user_client.post(
        reverse("converter:upload"), form_data(body), HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 413 and response.json()["code"] == "UploadTooLarge"
    assert not Task.objects.exists()
    assert list(small_limit.iterdir()) == []  # nothing written to disk


def test_an_upload_that_streams_past_the_limit_is_stopped_and_its_temp_file_removed(
    user_client, small_limit
):
    # Within the declared-size allowance (form overhead), so the body is read
    # and the upload handler must stop it part-way.
    body = SimpleUploadedFile("big.mp4", b"\0" * (LIMIT + 20_000), content_type="video/mp4")
    response = user_client.post(
        reverse("converter:upload"), form_data(body), HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 413 and response.json()["code"] == "UploadTooLarge", (
        response.content
    )
    assert not Task.objects.exists()
    assert list(small_limit.iterdir()) == []


def test_an_upload_from_someone_not_logged_in_is_never_spooled(small_limit, monkeypatch):
    """The CSRF check reads the form, and reading it spooled the file to disk
    before the login check: every anonymous request could fill the disk."""
    opened = []
    monkeypatch.setattr(
        LimitedTemporaryFileUploadHandler,
        "new_file",
        lambda self, *args, **kwargs: opened.append(args),
    )
    body = SimpleUploadedFile("clip.mp4", b"\0" * (LIMIT // 2), content_type="video/mp4")
    # The CSRF check on, as a real browser meets it: a cookie, and the form
    # (where the token would be) is read; no token, so 403.
    anonymous = Client(enforce_csrf_checks=True)
    anonymous.cookies["csrftoken"] = "a" * 32
    response = anonymous.post(reverse("converter:upload"), form_data(body))
    assert response.status_code == 403
    assert opened == [] and list(small_limit.iterdir()) == []
    assert not Task.objects.exists()


def test_after_login_the_same_upload_is_spooled(user_client, clips):
    body = upload_of(clips.moving())
    response = user_client.post(
        reverse("converter:upload"), form_data(body), HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 201, response.content
    assert Task.objects.count() == 1


def test_uploads_never_go_to_memory(settings):
    # The only handler streams to a temporary file and stops at the limit;
    # Django's default list would keep small files in memory, unbounded by us.
    assert settings.FILE_UPLOAD_HANDLERS == ["converter.uploads.LimitedTemporaryFileUploadHandler"]


HOSTILE_NAMES = [
    "../../../../etc/passwd.mp4",
    "..\\..\\windows\\system.ini.mp4",
    "<script>alert(1)</script><img src=x onerror=alert(2)>.mp4",
    "evil\r\nSet-Cookie: x=1\x00\x1b[31m.mp4",
    "\u202egpj.mp4",
    "動画" * 300 + ".mp4",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_file_names_are_stored_as_text_and_shown_escaped(user_client, clips, name):
    task = make_task(
        clips.moving(), owner=user_client.user, upload_name="x.mp4", original_filename=name
    )
    # The storage key is ours alone: task id and a random hex name.
    assert re.fullmatch(r"mc-[0-9a-f]{32}/[0-9a-f]{32}\.video", task.source.name), task.source.name
    stored = task.original_filename
    assert len(stored) <= 255 and not any(ord(c) < 32 or c == "\u202e" for c in stored)
    assert stored == display_filename(name)
    html = user_client.get(reverse("converter:task-list")).content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html
    if "<script>" in name:
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    detail = user_client.get(
        reverse("converter:task-detail", args=[task.public_id])
    ).content.decode()
    assert "<script>alert" not in detail and "\x1b" not in detail
    conversion.task_run(task)
    download = user_client.get(
        reverse("converter:task-output", args=[task.public_id, 0, "gif"]), {"download": "1"}
    )
    assert download.status_code == 200
    disposition = download["Content-Disposition"]
    assert (
        disposition.startswith("attachment;")
        and "\r" not in disposition
        and "\n" not in disposition
    )


def test_a_very_long_unicode_name_keeps_its_extension():
    name = display_filename("é" * 1000 + ".mp4")
    assert len(name) == 255 and name.endswith(".mp4")


def test_a_traversal_name_through_the_upload_form_creates_no_file_outside_storage(
    user_client, clips
):
    video = upload_of(clips.moving(), name="../../../../tmp/loopforge-pwned.mp4")
    response = user_client.post(
        reverse("converter:upload"), form_data(video), HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 201, response.content
    task = Task.objects.get(public_id=response.json()["task_id"])
    assert "/" not in task.original_filename.replace("../", "")  # Django kept the base name only
    assert task.source.name.endswith(".video") and ".." not in task.source.name
    from pathlib import Path

    assert not Path("/tmp/loopforge-pwned.mp4").exists()
