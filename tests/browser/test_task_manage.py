"""Managing a task from its page in real Chromium: delete (after the
confirmation), revoke the share link and make a new one, retry a failure;
a logged-out browser then gets 404 on the links that no longer work."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from playwright.sync_api import expect

from converter import storage
from converter.models import Task
from tests.browser.steps import sign_up
from tests.factories import make_finished_task, make_task
from tests.poll import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def clip(clips):
    return clips.moving(duration=2, name="manage-me.mp4")


def status_logged_out(browser, url: str) -> int:
    """The status a new, logged-out browser gets for ``url``."""
    context = browser.new_context()
    try:
        response = context.new_page().goto(url)
        assert response is not None
        return response.status
    finally:
        context.close()


def test_delete_from_the_task_page_after_confirming(page, browser, live_server, clips):
    base = live_server.url
    sign_up(page, base, "erin")
    task = make_finished_task(clip(clips), owner=User.objects.get(username="erin"))
    task_url = f"{base}/tasks/{task.public_id}/"
    page.goto(task_url)
    share_url = page.input_value("#share-url")
    assert status_logged_out(browser, share_url) == 200

    page.click("#delete")
    expect(page.locator("#confirm-delete")).to_contain_text("Delete manage-me.mp4?")
    page.click("#cancel-delete")  # changing one's mind deletes nothing
    expect(page.locator("#status")).to_have_text("Succeeded")
    page.click("#delete")
    page.click("#confirm-delete-button")

    page.wait_for_url(f"{base}/tasks/")
    expect(page.locator("main")).to_contain_text("Deleted manage-me.mp4")
    expect(page.locator(f"main a[href*='{task.public_id}']")).to_have_count(0)
    assert page.goto(task_url).status == 404
    assert status_logged_out(browser, share_url) == 404
    keys = {
        item["Key"]
        for item in storage.s3_client()
        .list_objects_v2(Bucket=settings.CONVERTER_S3_BUCKET)
        .get("Contents", [])
    }
    assert not [k for k in keys if task.public_id in k]


def test_revoke_the_share_link_then_make_a_new_one(page, browser, live_server, clips):
    base = live_server.url
    sign_up(page, base, "frank")
    task = make_finished_task(clip(clips), owner=User.objects.get(username="frank"))
    page.goto(f"{base}/tasks/{task.public_id}/")
    old = page.input_value("#share-url")

    page.click("#revoke-share")
    expect(page.locator("#share-revoked")).to_be_visible()
    expect(page.locator("#share-url")).to_have_count(0)
    assert status_logged_out(browser, old) == 404

    page.click("#renew-share")
    expect(page.locator("#share-url")).to_be_visible()
    new = page.input_value("#share-url")
    assert new != old and re.search(r"/s/[A-Za-z0-9_-]{32,}/$", new)
    assert status_logged_out(browser, new) == 200
    assert status_logged_out(browser, old) == 404


def test_retry_a_failed_task_from_its_page(page, live_server, worker, clips):
    base = live_server.url
    sign_up(page, base, "grace")
    # Stored bytes that are no video: the worker fails the task. Then the
    # cause passes (the right bytes are stored) and the person retries.
    not_video = clips.root / "manage-not-a-video.mp4"
    not_video.write_bytes(b"this is not a video" * 100)
    task = make_task(not_video, owner=User.objects.get(username="grace"))
    wait_until(
        lambda: Task.objects.get(pk=task.pk).status == Task.Status.FAILED,
        timeout_s=90,
        what="the task to fail",
    )
    page.goto(f"{base}/tasks/{task.public_id}/")
    expect(page.locator("#failure")).to_be_visible()
    storage.s3_client().put_object(
        Bucket=settings.CONVERTER_S3_BUCKET,
        Key=f"sources/{task.source.name}",
        Body=clip(clips).read_bytes(),
    )

    page.click("#retry")
    expect(page.locator("main")).to_contain_text("The task is queued again.")
    expect(page.locator("#status")).to_have_text("Succeeded", timeout=90_000)
    expect(page.locator("#outputs figure")).to_have_count(1)
    expect(page.locator("#retry")).to_have_count(0)  # only shown for a failed task
    assert Task.objects.get(pk=task.pk).attempts == 1
