"""The history a person can use: search by file name, filter by status and
format, each row's facts, paging that keeps the search; and the retention
of uploaded sources (deleted N days after the task finished, outputs kept)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from converter import reconcile
from converter.models import Task
from converter.services import conversion
from converter.views.web import HISTORY_PAGE_SIZE
from tests.factories import make_output, make_task, make_user
from tests.factories import make_task_row as row_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def person():
    from converter.services.projects import project_default_for

    user = make_user("historian")
    client = Client()
    client.force_login(user)
    return user, project_default_for(user), client


def shown(client, **query) -> list[str]:
    page = client.get("/tasks/", query)
    assert page.status_code == 200
    return [t.original_filename for t in page.context["tasks"]]


def test_search_by_file_name_status_and_format(person):
    _, project, client = person
    holiday = row_of(project, original_filename="Holiday BEACH.mov", status="succeeded")
    make_output(holiday, frames=20, format="webp")
    failed = row_of(project, original_filename="beach-failed.mp4", status="failed")
    other = row_of(project, original_filename="office.mp4", status="succeeded")
    make_output(other, frames=5, format="gif")
    from converter.services.projects import project_default_for

    row_of(project_default_for(make_user("stranger")), original_filename="beach-theirs.mp4")
    assert set(shown(client, q="beach")) == {"Holiday BEACH.mov", "beach-failed.mp4"}
    assert shown(client, q="beach", status="failed") == [failed.original_filename]
    assert shown(client, format="webp") == [holiday.original_filename]
    assert shown(client, format="gif", q="beach") == []
    assert "No animation matches" in client.get("/tasks/", {"q": "nothing"}).content.decode()
    # A bad filter value is ignored, not an error.
    assert len(shown(client, status="exploded")) == 3


def test_each_row_shows_format_size_frames_duration_and_bytes(person):
    _, project, client = person
    task = row_of(project, original_filename="clip.mp4", status="succeeded")
    output = make_output(task, frames=25, format="gif")
    output.width, output.height, output.bytes, output.frame_duration_ms = 320, 240, 123_456, 100
    output.file.name = "x/0-a.gif"
    output.save()
    html = client.get("/tasks/").content.decode()
    for text in ("GIF", "320 × 240", ">25<", "2.5 s", "120.6\xa0KB"):
        assert text in html, text


def test_paging_keeps_the_search(person):
    _, project, client = person
    for n in range(HISTORY_PAGE_SIZE + 3):
        row_of(project, original_filename=f"beach-{n}.mp4")
    row_of(project, original_filename="office.mp4")
    first = client.get("/tasks/", {"q": "beach"})
    assert first.context["tasks"].paginator.count == HISTORY_PAGE_SIZE + 3
    html = first.content.decode()
    assert "?q=beach&amp;page=2" in html
    second = client.get("/tasks/", {"q": "beach", "page": 2})
    assert len(second.context["tasks"]) == 3


def finished_task(clips, owner, days_ago: float) -> Task:
    task = make_task(clips.moving(duration=1, name="kept.mp4"), owner=owner)
    conversion.task_run(task)
    Task.objects.filter(pk=task.pk).update(finished_at=timezone.now() - timedelta(days=days_ago))
    task.refresh_from_db()
    assert task.status == Task.Status.SUCCEEDED
    return task


def test_sources_past_their_retention_are_deleted_and_the_outputs_kept(person, clips, settings):
    user, _, client = person
    settings.CONVERTER_SOURCE_RETENTION_DAYS = 30
    old, recent = finished_task(clips, user, 31), finished_task(clips, user, 29)
    name = old.source.name
    page = client.get(f"/tasks/{old.public_id}/").content.decode()
    kept_until = (old.finished_at + timedelta(days=30)).strftime("%Y-%m-%d")
    assert f"kept until {kept_until}" in page

    assert reconcile.sweep_sources() == 1
    old.refresh_from_db()
    assert not old.source and old.source_deleted_at is not None
    assert not old.source.storage.exists(name)
    assert recent.source.storage.exists(recent.source.name)
    assert old.outputs.get().file.storage.exists(old.outputs.get().file.name)
    page = client.get(f"/tasks/{old.public_id}/").content.decode()
    assert "was deleted on" in page and "Edit again" not in page
    assert reconcile.sweep_sources() == 0  # nothing left to do


def test_a_retention_of_zero_keeps_sources(person, clips):
    user, _, _ = person
    task = finished_task(clips, user, 400)
    assert reconcile.sweep_sources(days=0) == 0
    task.refresh_from_db()
    assert task.source and task.source.storage.exists(task.source.name)


def test_bulk_delete_asks_then_deletes_the_ticked_tasks_and_their_files(person, clips):
    user, _, client = person
    tasks = [finished_task(clips, user, 1) for _ in range(3)]
    names = [t.source.name for t in tasks[:2]] + [
        o.file.name for t in tasks[:2] for o in t.outputs.all()
    ]
    ids = [t.public_id for t in tasks[:2]]
    asked = client.post("/tasks/delete", {"task": ids})
    assert asked.status_code == 200 and "Delete 2 animations?" in asked.content.decode()
    assert Task.objects.count() == 3  # nothing deleted before the confirmation
    done = client.post("/tasks/delete", {"task": ids, "confirm": "yes"}, follow=True)
    assert "Deleted 2 animation(s)" in done.content.decode()
    assert list(Task.objects.values_list("public_id", flat=True)) == [tasks[2].public_id]
    storage = tasks[2].source.storage
    assert not any(storage.exists(n) for n in names)
    assert storage.exists(tasks[2].source.name)


def test_bulk_delete_touches_only_the_persons_own_tasks(person, clips):
    _, _, client = person
    theirs = finished_task(clips, make_user("someone-else"), 1)
    response = client.post(
        "/tasks/delete", {"task": [theirs.public_id], "confirm": "yes"}, follow=True
    )
    assert "Tick the animations to delete first" in response.content.decode()
    assert Task.objects.filter(pk=theirs.pk).exists()
