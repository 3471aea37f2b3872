"""Completion messages. Sent once: only the caller whose conditional UPDATE
reached the terminal state enqueues them. Each channel is its own RQ job with
Retry; every attempt leaves a Delivery row."""

from __future__ import annotations

import django_rq
from django.conf import settings
from rq import Retry

from .. import notifications
from ..models import Delivery, Task
from .queueing import DELIVER_NOTIFICATION, NOTIFY_QUEUE


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
    intervals = settings.CONVERTER_WEBHOOK_RETRY_INTERVALS_S
    for channel in channels:
        django_rq.get_queue(NOTIFY_QUEUE).enqueue(
            DELIVER_NOTIFICATION,
            task.pk,
            str(channel),
            job_id=f"notify-{task.public_id}-{channel}",
            retry=Retry(max=len(intervals), interval=intervals) if intervals else None,
        )


def delivery_attempt(task: Task, channel: str) -> Delivery:
    """Send the task's completion message on one channel once, record the
    attempt, and raise DeliveryFailed if it did not get through."""
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
