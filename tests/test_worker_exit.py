"""A worker's exit: the RQ worker class ``manage.py worker`` runs
(converter/worker.py) against a real Redis."""

from __future__ import annotations

import threading

import django_rq
import pytest

from converter.services import queueing
from converter.worker import Worker
from tests.poll import wait_until


@pytest.mark.servers
def test_a_worker_whose_pubsub_thread_waits_for_a_subscription_stops_at_once():
    """The race behind a worker that took a minute to exit when stopped just
    after it started: its pubsub thread had read the unsubscribe reply and
    waited for a new subscription (converter/worker.py)."""
    worker = Worker([queueing.QUEUE], connection=django_rq.get_connection(queueing.QUEUE))
    worker.subscribe()
    wait_until(lambda: worker.pubsub.subscribed, 10, what="the subscription")
    worker.pubsub.unsubscribe()
    wait_until(lambda: not worker.pubsub.subscribed, 10, what="the unsubscribe reply")
    stopping = threading.Thread(target=worker.unsubscribe, daemon=True)
    stopping.start()
    stopping.join(15)  # RQ's own unsubscribe waits out the thread's 60 s
    assert not stopping.is_alive()
