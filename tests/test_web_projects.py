"""The pages for projects, access keys, usage and notification attempts."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from converter.models import AccessKey, Delivery, Project, Task, UsageRecord
from converter.services import access_keys, metering, projects
from converter.views import web
from tests.factories import form_data, make_output, make_project, make_task_row, upload_of

pytestmark = pytest.mark.django_db


def test_a_person_creates_a_project_and_a_key_whose_secret_is_shown_once(user_client):
    response = user_client.post(
        reverse("converter:project-list"), {"name": "shop", "monthly_frame_quota": "900"}
    )
    assert response.status_code == 302
    project = Project.objects.get(name="shop")
    assert project.owner == user_client.user and project.monthly_frame_quota == 900

    created = user_client.post(reverse("converter:access-key-create", args=["shop"]), follow=True)
    assert created.redirect_chain == [(reverse("converter:project-detail", args=["shop"]), 302)]
    assert created["Cache-Control"] == "no-store"
    key = AccessKey.objects.get(project=project)
    secret = re.search(
        r'id="new-key-secret" type="text" readonly value="([^"]+)"', created.content.decode()
    ).group(1)
    assert access_keys.access_key_authenticate(key.key_id, secret) == key
    again = user_client.get(reverse("converter:project-detail", args=["shop"]))  # a reload
    assert (
        secret not in again.content.decode() and 'id="new-key-secret"' not in again.content.decode()
    )
    assert AccessKey.objects.filter(project=project).count() == 1

    user_client.post(reverse("converter:access-key-revoke", args=["shop", key.key_id]))
    assert access_keys.access_key_authenticate(key.key_id, secret) is None
    assert (
        "revoked"
        in user_client.get(reverse("converter:project-detail", args=["shop"])).content.decode()
    )


def _new_secret_shown(client, project: str) -> str | None:
    page = client.get(reverse("converter:project-detail", args=[project])).content.decode()
    found = re.search(r'id="new-key-secret" type="text" readonly value="([^"]+)"', page)
    return found.group(1) if found else None


def test_a_new_secret_waits_for_its_own_projects_page_but_not_for_ever(user_client, monkeypatch):
    for name in ("one", "two"):
        make_project(name, owner=user_client.user)
    create = lambda name: user_client.post(reverse("converter:access-key-create", args=[name]))  # noqa: E731

    create("one")
    assert _new_secret_shown(user_client, "two") is None  # another project's page ...
    secret = _new_secret_shown(user_client, "one")  # ... leaves it for its own
    assert access_keys.access_key_authenticate(
        AccessKey.objects.get(project__name="one").key_id, secret
    )
    assert _new_secret_shown(user_client, "one") is None  # once

    create("two")
    access_keys.access_key_revoke(AccessKey.objects.get(project__name="two"))
    assert _new_secret_shown(user_client, "two") is None  # revoked meanwhile: not shown

    create("one")
    monkeypatch.setattr(web, "NEW_SECRET_KEPT_S", 0)
    assert _new_secret_shown(user_client, "one") is None  # too old: dropped
    assert web.NEW_KEY_SESSION not in user_client.session


def test_the_owner_sets_and_clears_the_monthly_quota(user_client):
    project = make_project("quoted", owner=user_client.user)
    user_client.post(
        reverse("converter:project-quota", args=["quoted"]), {"monthly_frame_quota": "250"}
    )
    project.refresh_from_db()
    assert project.monthly_frame_quota == 250
    user_client.post(
        reverse("converter:project-quota", args=["quoted"]), {"monthly_frame_quota": ""}
    )
    project.refresh_from_db()
    assert project.monthly_frame_quota is None
    assert (
        user_client.post(
            reverse("converter:project-quota", args=["quoted"]), {"monthly_frame_quota": "-1"}
        ).status_code
        == 200
    )


def test_a_taken_project_name_is_explained(user_client):
    make_project("taken")
    page = user_client.post(reverse("converter:project-list"), {"name": "taken"}).content.decode()
    assert "already exists" in page


def test_someone_elses_project_is_not_found(user_client):
    make_project("theirs")
    assert user_client.get(reverse("converter:project-detail", args=["theirs"])).status_code == 404
    assert (
        user_client.post(reverse("converter:access-key-create", args=["theirs"])).status_code == 404
    )
    assert not AccessKey.objects.exists()


def test_the_usage_page_shows_frames_per_project_per_day_and_month(user_client):
    project = make_project("metered", owner=user_client.user, monthly_frame_quota=1000)
    for frames in (30, 25):
        output = make_output(make_task_row(project), frames=frames)
        metering.usage_record(output)
        metering.usage_record(output)  # twice: billed once
    assert UsageRecord.objects.count() == 2
    page = user_client.get(reverse("converter:usage")).content.decode()
    daily = page.split('id="usage-daily"')[1]
    monthly = page.split('id="usage-monthly"')[1].split('id="usage-daily"')[0]
    assert "metered" in daily and "<td>55</td>" in daily
    assert "metered" in monthly and "<td>55</td>" in monthly


def test_the_task_page_lists_every_notification_attempt(user_client):
    project = projects.project_default_for(user_client.user)
    task = make_task_row(project, status=Task.Status.SUCCEEDED)
    Delivery.objects.create(
        task=task,
        channel="webhook",
        target="https://example.com/h",
        message_id="m",
        attempt=1,
        ok=False,
        status_code=500,
        error="HTTP 500",
    )
    Delivery.objects.create(
        task=task,
        channel="webhook",
        target="https://example.com/h",
        message_id="m",
        attempt=2,
        ok=True,
        status_code=200,
    )
    page = user_client.get(reverse("converter:task-detail", args=[task.public_id])).content.decode()
    table = page.split('id="deliveries"')[1]
    assert (
        "HTTP 500" in table
        and "delivered (200)" in table
        and table.count("https://example.com/h") == 2
    )


def test_a_browser_upload_over_the_default_projects_quota_is_refused(user_client, clips):
    project = projects.project_default_for(user_client.user)
    project.monthly_frame_quota = 10
    project.save()
    data = form_data(upload_of(clips.moving()))
    response = user_client.post(reverse("converter:upload"), data, HTTP_ACCEPT="application/json")
    assert (
        response.status_code == 429 and response.json()["code"] == "QuotaExceeded"
    )  # 3 s x 10 fps = 30
    assert not Task.objects.exists()
    data["fps"] = "2"  # 6 frames: within the quota
    data["video"] = upload_of(clips.moving())
    assert (
        user_client.post(
            reverse("converter:upload"), data, HTTP_ACCEPT="application/json"
        ).status_code
        == 201
    )
    assert Task.objects.get().estimated_frames == 6
