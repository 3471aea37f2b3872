"""Deleting a task, revoking and renewing its share link, retrying a
failure: the service, the task page's actions and the API's DeleteTask,
against the real S3 server (the bucket is listed after a delete)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from converter import storage
from converter.models import Draft, Output, Task, UsageRecord
from converter.selectors import usage_for_owner
from converter.services import conversion, metering, removal, submission
from tests.api import call
from tests.factories import (
    make_finished_task,
    make_project_with_key,
    make_task,
    make_user,
    task_spec,
    upload_of,
)

pytestmark = pytest.mark.django_db
BUCKET = settings.CONVERTER_S3_BUCKET
API_BUCKET = settings.CONVERTER_API_BUCKETS[0]


def bucket_keys(bucket: str = BUCKET) -> set[str]:
    """Every key in the bucket, as the S3 server lists it."""
    keys: set[str] = set()
    for page in storage.s3_client().get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys.update(item["Key"] for item in page.get("Contents", []))
    return keys


def stored_keys(task: Task) -> set[str]:
    """The bucket keys of the task's source, outputs and their renditions
    (from their rows)."""
    keys = {f"sources/{task.source.name}"} if task.source else set()
    for o in task.outputs.all():
        keys |= {f"outputs/{f.name}" for f in (o.file, o.video, o.poster) if f}
    return keys


def of_task(keys: set[str], task_public_id: str) -> set[str]:
    return {k for k in keys if task_public_id in k}


def two_seconds(clips):
    return clips.moving(duration=2, name="removal-two-seconds.mp4")


# --- The service ---------------------------------------------------------------------


def test_delete_removes_every_stored_object_and_the_row_but_keeps_the_usage(
    clips, django_capture_on_commit_callbacks
):
    task = make_finished_task(two_seconds(clips), spec=task_spec(format="webp"))
    keys = stored_keys(task)
    # The source, the animation, its MP4 and poster renditions, in S3.
    assert len(keys) == 4 and keys <= bucket_keys()
    # A file of the task no row names (a rendition, say, or an output whose
    # run stopped before recording it) is under the task's folder too.
    stray = storages["outputs"].save(f"{task.public_id}/0-poster.jpg", ContentFile(b"jpeg"))
    assert f"outputs/{stray}" in bucket_keys()
    frames = task.outputs.get().frames
    used = metering.project_frames_used(task.project)
    assert used == frames > 0

    with django_capture_on_commit_callbacks(execute=True):
        removal.task_delete(task)

    assert not Task.objects.filter(pk=task.pk).exists()
    assert not Output.objects.filter(task_id=task.pk).exists()
    assert of_task(bucket_keys(), task.public_id) == set()
    record = UsageRecord.objects.get(project=task.project)
    assert (record.task_id, record.output_id, record.frames) == (None, None, frames)
    assert metering.project_frames_used(task.project) == used  # the bill stands
    end = timezone.now() + timedelta(seconds=1)
    rows = usage_for_owner(task.owner, granularity="month", start=metering.month_start(), end=end)
    assert [(r["project__name"], r["frames"], r["outputs"]) for r in rows] == [
        (task.project.name, frames, 1)
    ]


def test_delete_removes_the_editor_upload_and_proxy_of_the_draft_it_came_from(
    clips, django_capture_on_commit_callbacks
):
    owner = make_user()
    draft = submission.draft_create(owner=owner, upload=upload_of(two_seconds(clips)))
    task = submission.task_submit_draft(owner=owner, spec=task_spec(), draft=draft)
    draft.refresh_from_db()
    draft.proxy.save("proxy.mp4", ContentFile(b"a proxy"), save=True)
    names = {f"sources/{draft.source.name}", f"sources/{draft.proxy.name}"}
    assert draft.source.name == task.source.name and names <= bucket_keys()

    with django_capture_on_commit_callbacks(execute=True):
        removal.task_delete(task)

    assert not Draft.objects.filter(pk=draft.pk).exists()
    assert names.isdisjoint(bucket_keys())


def test_a_storage_fault_on_delete_is_logged_with_the_key_and_the_rest_go(
    clips, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    task = make_finished_task(two_seconds(clips))
    source, output = task.source.name, task.outputs.get().file.name
    real_delete = type(storages["sources"]).delete

    def failing(self, name):
        if name == source:
            raise OSError("the disk is on fire")
        return real_delete(self, name)

    monkeypatch.setattr(type(storages["sources"]), "delete", failing)
    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        removal.task_delete(task)  # the request does not fail

    assert not Task.objects.filter(pk=task.pk).exists()
    assert f"could not delete stored {source}" in caplog.text
    keys = bucket_keys()
    assert f"sources/{source}" in keys and f"outputs/{output}" not in keys


def test_a_rolled_back_delete_keeps_the_files(clips, django_capture_on_commit_callbacks):
    task = make_finished_task(two_seconds(clips))
    keys = stored_keys(task)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        removal.task_delete(task)
    assert len(callbacks) == 1  # the storage deletes wait for the commit
    assert keys <= bucket_keys()


def test_a_running_task_is_not_deleted(clips):
    task = make_task(two_seconds(clips))
    Task.objects.filter(pk=task.pk).update(status=Task.Status.RUNNING)
    with pytest.raises(removal.LoopforgeError) as refused:
        removal.task_delete(task)
    assert refused.value.code == "TaskRunning" and refused.value.status == 409
    assert Task.objects.filter(pk=task.pk).exists()
    assert stored_keys(task) <= bucket_keys()


def test_a_queued_task_deleted_before_it_runs_is_skipped_by_its_job(
    clips, django_capture_on_commit_callbacks
):
    from converter import tasks

    task = make_task(two_seconds(clips))
    with django_capture_on_commit_callbacks(execute=True):
        removal.task_delete(task)
    tasks.convert_task(task.pk)  # the job, run after the delete
    assert of_task(bucket_keys(), task.public_id) == set()


def test_revoke_answers_404_at_once_and_a_new_link_replaces_the_old(client, clips):
    task = make_finished_task(two_seconds(clips))
    old = task.share_key
    page = reverse("converter:shared", args=[old])
    image = reverse("converter:shared-output", args=[old, 0, "gif"])
    assert client.get(page).status_code == 200 and client.get(image).status_code == 200

    removal.share_link_revoke(task)
    assert client.get(page).status_code == 404 and client.get(image).status_code == 404
    assert Task.objects.get(pk=task.pk).share_key is None

    new = removal.share_link_renew(task)
    assert new != old and len(new) >= 32
    assert client.get(reverse("converter:shared", args=[new])).status_code == 200
    assert client.get(page).status_code == 404
    newer = removal.share_link_renew(task)
    assert client.get(reverse("converter:shared", args=[new])).status_code == 404
    assert client.get(reverse("converter:shared", args=[newer])).status_code == 200


def failed(task: Task, code: str = "NoVideoStream") -> Task:
    Task.objects.filter(pk=task.pk).update(
        status=Task.Status.FAILED, code=code, message="failed", attempts=3
    )
    task.refresh_from_db()
    return task


def test_retry_queues_any_failed_task_again_as_a_new_attempt(clips):
    task = failed(make_task(two_seconds(clips)), code="DecodeFailed")  # not a retryable code
    assert removal.task_retry(task)
    assert (task.status, task.attempts, task.finished_at) == (Task.Status.QUEUED, 0, None)
    conversion.task_run(task)
    task.refresh_from_db()
    assert task.status == Task.Status.SUCCEEDED and task.attempts == 1
    assert not removal.task_retry(task)  # only a failed task


def test_retry_is_refused_over_the_quota_as_at_creation(clips):
    task = failed(make_task(two_seconds(clips)))
    task.project.monthly_frame_quota = task.estimated_frames - 1
    task.project.save()
    with pytest.raises(removal.LoopforgeError) as refused:
        removal.task_retry(task)
    assert refused.value.code == "QuotaExceeded"
    task.refresh_from_db()
    assert task.status == Task.Status.FAILED


# --- The task page ---------------------------------------------------------------------


def test_the_task_page_deletes_after_a_confirmation_then_everything_is_404(user_client, clips):
    task = make_finished_task(two_seconds(clips), owner=user_client.user)
    detail = reverse("converter:task-detail", args=[task.public_id])
    share = reverse("converter:shared", args=[task.share_key])
    page = user_client.get(detail).content.decode()
    delete_url = reverse("converter:task-delete", args=[task.public_id])
    assert f'href="{delete_url}"' in page and 'id="revoke-share"' in page
    assert 'id="retry"' not in page  # a task that succeeded

    confirm = user_client.get(delete_url)
    assert confirm.status_code == 200 and b'id="confirm-delete-button"' in confirm.content
    assert Task.objects.filter(pk=task.pk).exists()  # a GET deletes nothing

    response = user_client.post(delete_url, follow=True)
    assert response.redirect_chain == [(reverse("converter:task-list"), 302)]
    assert b"Deleted removal-two-seconds.mp4" in response.content
    for url in (detail, reverse("converter:task-status", args=[task.public_id]), delete_url):
        assert user_client.get(url).status_code == 404
    assert user_client.get(share).status_code == 404


def test_the_task_page_revokes_and_renews_the_share_link(user_client, clips):
    client = Client()  # logged out
    task = make_finished_task(two_seconds(clips), owner=user_client.user)
    old = reverse("converter:shared", args=[task.share_key])
    response = user_client.post(
        reverse("converter:share-link-revoke", args=[task.public_id]), follow=True
    )
    page = response.content.decode()
    assert 'id="share-revoked"' in page and 'id="share-url"' not in page
    assert client.get(old).status_code == 404

    response = user_client.post(
        reverse("converter:share-link-renew", args=[task.public_id]), follow=True
    )
    task.refresh_from_db()
    new = reverse("converter:shared", args=[task.share_key])
    assert f'value="http://testserver{new}"' in response.content.decode()
    assert client.get(new).status_code == 200 and client.get(old).status_code == 404


def test_the_task_page_retries_a_failed_task(user_client, clips):
    task = failed(make_task(two_seconds(clips), owner=user_client.user))
    detail = reverse("converter:task-detail", args=[task.public_id])
    assert b'id="retry"' in user_client.get(detail).content
    response = user_client.post(reverse("converter:task-retry", args=[task.public_id]))
    assert response.status_code == 302 and response["Location"] == detail
    task.refresh_from_db()
    assert task.status == Task.Status.QUEUED
    again = user_client.post(reverse("converter:task-retry", args=[task.public_id]), follow=True)
    assert b"Only a failed task can be retried." in again.content


def test_another_persons_task_cannot_be_managed(user_client, clips):
    task = failed(make_task(two_seconds(clips)))  # another user's
    key = task.share_key
    for name in ("task-delete", "task-retry", "share-link-revoke", "share-link-renew"):
        url = reverse(f"converter:{name}", args=[task.public_id])
        assert user_client.post(url).status_code == 404, name
    assert (
        user_client.get(reverse("converter:task-delete", args=[task.public_id])).status_code == 404
    )
    task.refresh_from_db()
    assert (task.status, task.share_key) == (Task.Status.FAILED, key)


def test_managing_needs_a_login_and_a_post(user_client, clips):
    task = make_finished_task(two_seconds(clips), owner=user_client.user)
    url = reverse("converter:share-link-revoke", args=[task.public_id])
    assert Client().post(url).status_code == 302  # to the login page
    assert user_client.get(url).status_code == 405
    task.refresh_from_db()
    assert task.share_key


# --- The API ----------------------------------------------------------------------------


def _converted_by_api(clips):
    """A project with an access key, and a task of it converted."""
    project, key = make_project_with_key()
    task = submission.task_create(
        owner=project.owner,
        project=project,
        spec=task_spec(),
        upload=upload_of(two_seconds(clips)),
        original_filename="clip.mp4",
    )
    conversion.task_run(task)
    return project, key, task


def test_delete_task_deletes_the_projects_task_and_its_files(
    client, clips, django_capture_on_commit_callbacks
):
    project, key, task = _converted_by_api(clips)
    task.refresh_from_db()
    assert stored_keys(task) <= bucket_keys()
    body = {"ProjectName": project.name, "TaskId": task.public_id}
    with django_capture_on_commit_callbacks(execute=True):
        answer = call(client, "DeleteTask", body, key=key)
    assert set(answer) == {"RequestId", "_status"}
    assert not Task.objects.filter(pk=task.pk).exists()
    assert of_task(bucket_keys(), task.public_id) == set()
    gone = call(client, "DeleteTask", body, key=key, expect=404)
    assert gone["Code"] == "ResourceNotFound"
    assert call(client, "GetTask", body, key=key, expect=404)["Code"] == "ResourceNotFound"


def test_delete_task_refuses_unknown_and_other_projects_tasks(client, clips):
    project, key = make_project_with_key()
    other = make_task(two_seconds(clips))  # a person's task, in their own project
    for task_id in ("mc-unknown", other.public_id):
        body = {"ProjectName": project.name, "TaskId": task_id}
        assert call(client, "DeleteTask", body, key=key, expect=404)["Code"] == "ResourceNotFound"
    assert Task.objects.filter(pk=other.pk).exists()
    body = {"ProjectName": other.project.name, "TaskId": other.public_id}
    assert call(client, "DeleteTask", body, key=key, expect=403)["Code"] == "Forbidden"
    assert call(client, "DeleteTask", {"ProjectName": project.name}, key=key, expect=400)


def test_delete_task_leaves_outputs_in_the_clients_bucket(client, clips):
    project, key = make_project_with_key()
    storage.s3_client().put_object(
        Bucket=API_BUCKET, Key="removal/in.mp4", Body=two_seconds(clips).read_bytes()
    )
    request = {
        "ProjectName": project.name,
        "Sources": [{"URI": f"oss://{API_BUCKET}/removal/in.mp4"}],
        "Targets": [
            {
                "Image": {
                    "Animations": [
                        {
                            "Format": "gif",
                            "FrameRate": 2,
                            "Interval": 0.5,
                            "Width": 80,
                            "URI": f"oss://{API_BUCKET}/removal/out.{{autoext}}",
                        }
                    ]
                }
            }
        ],
    }
    task_id = call(client, "CreateMediaConvertTask", request, key=key)["TaskId"]
    task = Task.objects.get(public_id=task_id)
    conversion.task_run(task)
    task.refresh_from_db()
    assert task.status == Task.Status.SUCCEEDED, (task.code, task.message)
    call(client, "DeleteTask", {"ProjectName": project.name, "TaskId": task_id}, key=key)
    assert not Task.objects.filter(pk=task.pk).exists()
    assert "removal/out.gif" in bucket_keys(API_BUCKET)  # the client's
    assert UsageRecord.objects.get(project=project).frames > 0


def test_every_manage_action_refuses_a_post_without_a_csrf_token(clips):
    task = make_finished_task(two_seconds(clips))
    client = Client(enforce_csrf_checks=True)
    client.force_login(task.owner)
    for name in ("task-delete", "task-retry", "share-link-revoke", "share-link-renew"):
        response = client.post(reverse(f"converter:{name}", args=[task.public_id]))
        assert response.status_code == 403, name
    task.refresh_from_db()
    assert task.share_key and Task.objects.filter(pk=task.pk).exists()


def test_a_running_task_is_kept_with_the_reason_on_the_page_and_in_the_api(user_client, clips):
    task = make_task(two_seconds(clips), owner=user_client.user)
    Task.objects.filter(pk=task.pk).update(status=Task.Status.RUNNING)
    response = user_client.post(
        reverse("converter:task-delete", args=[task.public_id]), follow=True
    )
    assert response.redirect_chain == [
        (reverse("converter:task-detail", args=[task.public_id]), 302)
    ]
    assert b"being converted right now" in response.content

    project, key = make_project_with_key()
    running = submission.task_create(
        owner=project.owner,
        project=project,
        spec=task_spec(),
        upload=upload_of(two_seconds(clips)),
        original_filename="clip.mp4",
    )
    Task.objects.filter(pk=running.pk).update(status=Task.Status.RUNNING)
    body = {"ProjectName": project.name, "TaskId": running.public_id}
    assert call(Client(), "DeleteTask", body, key=key, expect=409)["Code"] == "TaskRunning"
    assert Task.objects.filter(pk__in=[task.pk, running.pk]).count() == 2


def test_a_failed_task_whose_source_is_gone_offers_no_retry(user_client, clips):
    task = failed(make_task(two_seconds(clips), owner=user_client.user))
    Task.objects.filter(pk=task.pk).update(source="")  # the retention sweep's doing
    detail = reverse("converter:task-detail", args=[task.public_id])
    assert b'id="retry"' not in user_client.get(detail).content
    response = user_client.post(reverse("converter:task-retry", args=[task.public_id]), follow=True)
    assert b"keeps no source to convert again" in response.content
    assert Task.objects.get(pk=task.pk).status == Task.Status.FAILED


def test_the_api_gets_revokes_and_renews_a_share_link(client, clips):
    project, key, task = _converted_by_api(clips)
    body = {"ProjectName": project.name, "TaskId": task.public_id}
    link = call(client, "GetShareLink", body, key=key)["ShareURL"]
    assert link.startswith("http://testserver/s/") and Client().get(link).status_code == 200
    assert call(client, "RevokeShareLink", body, key=key)["ShareURL"] == ""
    assert Client().get(link).status_code == 404
    assert call(client, "GetShareLink", body, key=key)["ShareURL"] == ""
    renewed = call(client, "RenewShareLink", body, key=key)["ShareURL"]
    assert renewed != link and Client().get(renewed).status_code == 200
    assert Client().get(link).status_code == 404
    other = {"ProjectName": project.name, "TaskId": "mc-unknown"}
    assert call(client, "RevokeShareLink", other, key=key, expect=404)["Code"] == "ResourceNotFound"
