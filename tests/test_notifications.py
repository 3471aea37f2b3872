"""Completion messages: signature, address guard, and a failed task's message
on a Redis stream (services run inline)."""

from __future__ import annotations

import json
import re

import pytest
import redis
from django.conf import settings

from converter import notifications, storage
from converter.models import Delivery, Task
from converter.services import conversion, deliveries, lifecycle
from tests.factories import make_api_task, make_project_with_key

BUCKET = settings.CONVERTER_API_BUCKETS[0]


def test_signatures_verify_only_for_the_same_body_and_secret():
    body = notifications.body_of({"id": "1", "content": {"Status": "Succeeded"}})
    signature = notifications.sign(body, "k")
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", signature)
    assert notifications.verify(body, "k", signature)
    assert not notifications.verify(body + b" ", "k", signature)
    assert not notifications.verify(body, "other", signature)


def test_webhooks_to_private_addresses_are_refused_unless_allowed(settings):
    settings.CONVERTER_WEBHOOK_ALLOW_PRIVATE = False
    for url in (
        "http://127.0.0.1:9/x",
        "http://10.1.2.3/x",
        "http://169.254.169.254/latest",
        "http://[::1]/",
    ):
        outcome = notifications.post_webhook(url, "", {"id": "1", "type": "t"})
        assert not outcome.ok and outcome.permanent and outcome.error.startswith("refused"), (
            url,
            outcome,
        )


@pytest.mark.django_db(transaction=True)
def test_a_failed_task_publishes_one_failed_message():
    storage.s3_client().put_object(
        Bucket=BUCKET, Key="broken/not-a-video.mov", Body=b"garbage" * 100
    )
    project, _ = make_project_with_key("failing")
    body = {
        "ProjectName": "failing",
        "Notification": {"MNS": {"TopicName": "failures"}},
        "UserData": "u1",
        "Sources": [{"URI": f"s3://{BUCKET}/broken/not-a-video.mov"}],
        "Targets": [
            {
                "Image": {
                    "Animations": [{"Format": "gif", "URI": f"s3://{BUCKET}/out/{{barename}}.gif"}]
                }
            }
        ],
    }
    task = make_api_task(project, body)
    conversion.task_run(task)
    task.refresh_from_db()
    assert task.status == Task.Status.FAILED and task.code
    assert not lifecycle.task_fail(task, code="X", message="again")  # terminal: no second message
    deliveries.delivery_attempt(task, "mns")  # what the queued job does
    key = notifications.stream_key(project.name, "failures")
    entries = redis.Redis.from_url(settings.CONVERTER_NOTIFY_REDIS_URL).xrange(key)
    assert len(entries) == 1
    message = json.loads(entries[0][1][b"message"])
    assert message["type"] == "MediaConvert:TaskFailed" and message["content"]["Status"] == "Failed"
    assert message["content"]["Code"] == task.code and message["content"]["UserData"] == "u1"
    assert Delivery.objects.get(task=task).ok
    assert not task.usage.exists()  # nothing made, nothing billed
