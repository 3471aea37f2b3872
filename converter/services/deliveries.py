"""Completion messages. Sent once: only the caller whose conditional UPDATE
reached the terminal state enqueues them. Each channel is its own RQ job with
Retry; every attempt leaves a Delivery row."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import django_rq
from django.conf import settings
from rq import Retry

from .. import notifications
from ..models import Delivery, Task
from .queueing import DELIVER_NOTIFICATION, NOTIFY_QUEUE

# How long an attempt waits when its project's delivery slots are taken.
DEFER_S = 5


class DeliveryFailed(Exception):
    """Raised after a failed attempt is recorded, so RQ's Retry tries again."""


def notification_enqueue(task: Task) -> None:
    """Queue one delivery job per channel the task asked for."""
    config = task.notification or {}
    channels = [
        channel
        for channel, key in ((Delivery.Channel.MNS, "MNS"), (Delivery.Channel.WEBHOOK, "Webhook"))
        if config.get(key)
    ]
    for channel in channels:
        _enqueue(task, str(channel), job_id=f"notify-{task.public_id}-{channel}")


def _enqueue(task: Task, channel: str, *, job_id: str, delay_s: float = 0) -> None:
    """The delivery job, with RQ's Retry for the attempts not yet made (an
    attempt deferred for a busy project has not used one)."""
    intervals = settings.CONVERTER_WEBHOOK_RETRY_INTERVALS_S
    made = Delivery.objects.filter(task=task, channel=channel).count()
    left = intervals[made:]  # n attempts made: the next is the (n+1)th, retried len(left) times
    retry = Retry(max=len(left), interval=left) if left else None
    queue = django_rq.get_queue(NOTIFY_QUEUE)
    args = (DELIVER_NOTIFICATION, task.pk, channel)
    if delay_s > 0:
        queue.enqueue_in(timedelta(seconds=delay_s), *args, job_id=job_id, retry=retry)
    else:
        queue.enqueue(*args, job_id=job_id, retry=retry)


@contextmanager
def _project_slot(task: Task) -> Iterator[bool]:
    """One of the project's CONVERTER_WEBHOOK_CONCURRENCY_PER_PROJECT
    delivery slots, or False when all are taken: a project whose receivers
    are slow holds at most that many notification workers at once."""
    limit = settings.CONVERTER_WEBHOOK_CONCURRENCY_PER_PROJECT
    if limit <= 0:
        yield True
        return
    key = f"loopforge:deliveries:{task.project_id}"
    connection = django_rq.get_connection(NOTIFY_QUEUE)
    held = connection.incr(key)
    connection.expire(key, int(notifications.WEBHOOK_TIMEOUT_S) + 60)  # a dead worker's slot
    try:
        yield held <= limit
    finally:
        connection.decr(key)


def delivery_attempt(task: Task, channel: str) -> Delivery | None:
    """Send the task's completion message on one channel once, record the
    attempt, and raise DeliveryFailed if it did not get through. While the
    project's delivery slots are all taken, the attempt is put off (queued
    again a little later) and None returned."""
    with _project_slot(task) as free:
        if not free:
            job_id = f"notify-{task.public_id}-{channel}-later-{uuid.uuid4().hex[:8]}"
            _enqueue(task, channel, job_id=job_id, delay_s=DEFER_S)
            return None
        return _attempt(task, channel)


def _attempt(task: Task, channel: str) -> Delivery:
    message = notifications.message_for(task)
    config = task.notification or {}
    if channel == Delivery.Channel.MNS:
        target = config["MNS"]["TopicName"]
        outcome = notifications.publish_stream(task.project.name, target, message)
    else:
        target = config["Webhook"]["URL"]
        outcome = notifications.post_webhook(target, config["Webhook"].get("Secret", ""), message)
    attempt = Delivery.objects.filter(task=task, channel=channel).count() + 1
    delivery = Delivery.objects.create(
        task=task,
        channel=channel,
        target=target[:2048],
        message_id=message["id"],
        attempt=attempt,
        ok=outcome.ok,
        status_code=outcome.status_code,
        error=outcome.error,
        duration_ms=outcome.duration_ms,
    )
    if not outcome.ok and not outcome.permanent:
        raise DeliveryFailed(
            f"{channel} delivery {attempt} for {task.public_id} failed: {outcome.error}"
        )
    return delivery
