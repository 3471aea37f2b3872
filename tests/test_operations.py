"""/healthz, /readyz and /metrics, against the real servers and a real worker."""

from __future__ import annotations

import socket

import pytest
from django.db import connection
from django.db.utils import OperationalError
from prometheus_client.parser import text_string_to_metric_families

from converter.models import Task
from tests.factories import make_finished_task
from tests.poll import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_healthz_answers_without_anything_else(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_is_ready_with_a_live_worker(client, worker):
    # Ready once the worker has registered with Redis.
    answer = wait_until(
        lambda: (r := client.get("/readyz")).status_code == 200 and r,
        60,
        0.5,
        what=lambda: f"ready (worker log: {worker.log()[-1500:]})",
    )
    checks = answer.json()["checks"]
    assert set(checks) == {"database", "redis", "storage", "workers"}
    assert all(c["ok"] for c in checks.values()) and checks["workers"]["detail"] == "1 live"


def test_readyz_names_the_missing_worker(client):
    answer = client.get("/readyz")
    assert answer.status_code == 503
    checks = answer.json()["checks"]
    assert not checks["workers"]["ok"] and checks["database"]["ok"] and checks["storage"]["ok"]


def test_readyz_fails_when_storage_is_gone(client, settings):
    settings.CONVERTER_S3_ENDPOINT = f"http://127.0.0.1:{_closed_port()}"
    answer = client.get("/readyz")
    assert answer.status_code == 503 and not answer.json()["checks"]["storage"]["ok"]


def test_readyz_fails_when_redis_is_gone(client, monkeypatch):
    import redis

    from converter.views import ops

    down = redis.Redis(port=_closed_port(), socket_connect_timeout=1)
    monkeypatch.setattr(ops.django_rq, "get_connection", lambda *a, **k: down)
    checks = client.get("/readyz").json()["checks"]
    assert not checks["redis"]["ok"] and not checks["workers"]["ok"]


def test_readyz_fails_when_the_database_is_gone(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)
    answer = client.get("/readyz")
    assert answer.status_code == 503 and not answer.json()["checks"]["database"]["ok"]


def test_metrics_need_the_token(client, settings):
    settings.CONVERTER_METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    settings.CONVERTER_METRICS_TOKEN = "t0ken"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer t0ken").status_code == 200


def test_metrics_count_what_happened(client, settings, clips):
    settings.CONVERTER_METRICS_TOKEN = "t0ken"
    make_finished_task(clips.moving())
    Task.objects.create(
        owner=Task.objects.get().owner,
        project=Task.objects.get().project,
        spec={"animations": []},
        status=Task.Status.FAILED,
        code="DecodeFailed",
    )
    text = client.get("/metrics", HTTP_AUTHORIZATION="Bearer t0ken").content.decode()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert samples[("loopforge_tasks", (("state", "succeeded"),))] == 1
    assert samples[("loopforge_tasks", (("state", "failed"),))] == 1
    assert samples[("loopforge_conversions_total", (("format", "gif"),))] == 1
    assert samples[("loopforge_failures_total", (("code", "DecodeFailed"),))] == 1
    assert samples[("loopforge_task_duration_seconds_count", ())] == 1
    assert samples[("loopforge_animation_frames_count", ())] == 1
    assert samples[("loopforge_animation_frames_bucket", (("le", "10"),))] == 1  # 6 frames
    assert ("loopforge_queue_depth", (("queue", "convert"),)) in samples
    assert any(name == "rq_jobs" for name, _ in samples)  # django-rq's exporter
