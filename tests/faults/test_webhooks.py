"""Webhook receivers that are down, slow, or on our own network: the task
succeeds regardless, every attempt is recorded, and a refused address is
never connected to."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.conf import settings

from converter import storage
from converter.models import Delivery, Task
from tests.api import call
from tests.factories import make_project_with_key
from tests.poll import wait_until
from tests.security.listener import Listener

BUCKET = settings.CONVERTER_API_BUCKETS[0]


def _create(client, clips, url: str) -> tuple[str, tuple[str, str]]:
    storage.s3_client().put_object(
        Bucket=BUCKET, Key="hooks/clip.mp4", Body=clips.moving().read_bytes()
    )
    _, key = make_project_with_key("hooked")
    body = {
        "ProjectName": "hooked",
        "Notification": {"Webhook": {"URL": url}},
        "Sources": [{"URI": f"s3://{BUCKET}/hooks/clip.mp4"}],
        "Targets": [
            {
                "Image": {
                    "Animations": [
                        {
                            "Format": "gif",
                            "Interval": 1,
                            "Width": 32,
                            "URI": f"s3://{BUCKET}/hooks/out.{{autoext}}",
                        }
                    ]
                }
            }
        ],
    }
    return call(client, "CreateMediaConvertTask", body, key=key)["TaskId"], key


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_receiver_that_is_down_does_not_fail_the_task(make_worker, clips, client):
    make_worker(CONVERTER_WEBHOOK_RETRY_INTERVALS_S="1")
    task_id, _ = _create(client, clips, f"http://127.0.0.1:{_closed_port()}/hook")
    wait_until(lambda: Task.objects.get(public_id=task_id).is_finished, 120, what="the task")
    assert Task.objects.get(public_id=task_id).status == Task.Status.SUCCEEDED
    attempts = wait_until(
        lambda: (
            list(Delivery.objects.filter(task__public_id=task_id).order_by("attempt"))
            if Delivery.objects.filter(task__public_id=task_id).count() >= 2
            else None
        ),
        30,
        what="both delivery attempts",
    )
    assert [(d.attempt, d.ok) for d in attempts] == [(1, False), (2, False)]
    assert all(d.error for d in attempts)


def test_a_slow_receiver_does_not_hold_the_task(make_worker, clips, client):
    release = threading.Event()
    seen = []

    class Slow(BaseHTTPRequestHandler):
        def do_POST(self):
            seen.append(self.rfile.read(int(self.headers["Content-Length"])))
            release.wait(20)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        make_worker()
        task_id, _ = _create(client, clips, f"http://127.0.0.1:{server.server_port}/hook")
        wait_until(lambda: seen, 120, what="the webhook to arrive")
        # The receiver is still holding the request: the task is already done.
        assert Task.objects.get(public_id=task_id).status == Task.Status.SUCCEEDED
        release.set()
        wait_until(
            lambda: Delivery.objects.filter(task__public_id=task_id, ok=True).exists(),
            30,
            what="the delivery record",
        )
    finally:
        release.set()
        server.shutdown()


def test_a_webhook_to_our_own_network_is_refused_and_never_connected(make_worker, clips, client):
    with Listener() as listener:
        make_worker(
            CONVERTER_WEBHOOK_ALLOW_PRIVATE="False", CONVERTER_WEBHOOK_RETRY_INTERVALS_S="1"
        )
        task_id, _ = _create(client, clips, listener.url + "/internal-admin")
        wait_until(
            lambda: Delivery.objects.filter(task__public_id=task_id).exists(),
            120,
            what="the delivery",
        )
        assert Task.objects.get(public_id=task_id).status == Task.Status.SUCCEEDED
        [delivery] = Delivery.objects.filter(task__public_id=task_id)  # refused once, not retried
        assert (
            not delivery.ok
            and delivery.error.startswith("refused")
            and "127.0.0.1" in delivery.error
        )
    assert listener.connections == 0
