"""A webhook receiver that drips its answer cannot hold a worker: each
attempt has a total deadline, not one per read."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from converter.netguard import safe_post


class Drip:
    """Accepts, reads the request, then sends one byte of a valid answer
    every ``every_s`` seconds, for as long as the client listens."""

    def __init__(self, every_s: float) -> None:
        self.every_s = every_s
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        conn, _ = self.server.accept()
        request = b""
        while b"\r\n\r\n" not in request:  # the headers, then the body they announce
            request += conn.recv(65536)
        head, _, body = request.partition(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        while len(body) < length:
            body += conn.recv(65536)
        answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        try:
            for byte in answer:
                if self.stop.wait(self.every_s):
                    break
                conn.sendall(bytes([byte]))
        except OSError:
            pass  # the client hung up: what it should do
        finally:
            conn.close()

    def __enter__(self) -> Drip:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.server.close()


def test_a_dripping_receiver_is_cut_off_at_the_deadline(settings):
    settings.CONVERTER_OUTBOUND_ALLOW_CIDRS = ["127.0.0.1/32"]
    with Drip(every_s=0.4) as drip:  # each read waits 0.4 s, well within a 1 s timeout
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            safe_post(f"http://127.0.0.1:{drip.port}/hook", b"{}", {}, timeout=1.5)
        took = time.monotonic() - started
    assert took < 3, took  # not len(answer) x 0.4 s = 17 s


def test_a_prompt_receiver_is_answered_within_the_deadline(settings):
    settings.CONVERTER_OUTBOUND_ALLOW_CIDRS = ["127.0.0.1/32"]
    with Drip(every_s=0.0) as drip:
        response = safe_post(f"http://127.0.0.1:{drip.port}/hook", b"{}", {}, timeout=5)
    assert response.status == 200 and response.body == b"ok"


@pytest.mark.django_db(transaction=True)
def test_a_project_holds_at_most_its_delivery_slots(settings, clips):
    """While a project's slots are taken (its receivers are slow), a further
    attempt is put off: no worker waits on it, no attempt is used up."""
    import django_rq
    from rq.registry import ScheduledJobRegistry

    from converter.models import Delivery
    from converter.services import deliveries, queueing
    from tests.factories import make_finished_task

    settings.CONVERTER_WEBHOOK_CONCURRENCY_PER_PROJECT = 1
    task = make_finished_task(clips.moving())
    task.notification = {"MNS": {"TopicName": "done"}}
    task.save(update_fields=["notification"])
    connection = django_rq.get_connection(queueing.NOTIFY_QUEUE)
    key = f"loopforge:deliveries:{task.project_id}"
    connection.incr(key)  # a slow delivery of the same project is in flight
    assert deliveries.delivery_attempt(task, "mns") is None
    assert not Delivery.objects.filter(task=task).exists()
    scheduled = ScheduledJobRegistry(queueing.NOTIFY_QUEUE, connection=connection)
    assert any(
        job_id.startswith(f"notify-{task.public_id}-mns-later-")
        for job_id in scheduled.get_job_ids()
    )
    connection.decr(key)  # it finished
    delivered = deliveries.delivery_attempt(task, "mns")
    assert delivered is not None and delivered.ok and int(connection.get(key)) == 0
