"""Redis losing its data and the S3 server going away: no task is lost, none
is stuck, the source survives, and the task can be retried."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import django_rq
import pytest
import redis
import rq
from django.conf import settings
from django.urls import reverse

from converter import reconcile, storage
from converter.models import Task
from converter.services import conversion, lifecycle, queueing
from tests.api import call
from tests.factories import form_data, make_project_with_key, make_task, upload_of
from tests.poll import wait_until
from tests.processes import Process, database_env, manage


@pytest.fixture
def reconciler(transactional_db, tmp_path) -> Iterator[Process]:
    """``manage.py reconcile --every 1`` as its own process, as ``up`` runs it;
    the test starts it, so that nothing it does races the test's set-up."""
    process = Process(
        manage("reconcile", "--every", "1"),
        tmp_path / "reconciler.log",
        extra_env=database_env(),
    )
    yield process
    process.stop(timeout_s=10)


def test_the_periodic_reconciler_requeues_what_a_redis_restart_lost(
    make_worker, clips, services_handle, reconciler
):
    tasks = [make_task(clips.moving(), original_filename=f"m{k}.mp4") for k in range(3)]
    services_handle.restart_redis()  # every queued job is gone
    assert django_rq.get_queue(queueing.QUEUE).count == 0
    reconciler.start()
    make_worker()
    for task in tasks:
        wait_until(
            lambda task=task: Task.objects.get(pk=task.pk).is_finished,
            120,
            what=lambda: f"task after Redis restart (reconciler: {reconciler.log()[-500:]})",
        )
        assert Task.objects.get(pk=task.pk).status == Task.Status.SUCCEEDED
    assert "re-queued" in reconciler.log()


@pytest.mark.django_db(transaction=True)
def test_a_running_task_whose_job_redis_forgot_is_requeued(clips):
    task = make_task(clips.moving())
    assert lifecycle.task_start(task)
    django_rq.get_connection(queueing.QUEUE).flushdb()  # Redis lost the running job
    report = reconcile.reconcile()
    assert report.recovered_running == 1
    task.refresh_from_db()
    assert task.status == Task.Status.QUEUED
    job = django_rq.get_queue(queueing.QUEUE).fetch_job(queueing.job_id(task))
    assert job is not None and job.get_status() == "queued"


@pytest.mark.django_db(transaction=True)
def test_reconciling_twice_queues_one_job(clips):
    task = make_task(clips.moving())
    django_rq.get_connection(queueing.QUEUE).flushdb()
    assert reconcile.reconcile().requeued_forgotten == 1
    assert reconcile.reconcile().requeued_forgotten == 0
    assert django_rq.get_queue(queueing.QUEUE).count == 1
    assert Task.objects.get(pk=task.pk).status == Task.Status.QUEUED


def test_storage_down_is_retried_with_backoff_then_fails_clearly_and_can_be_retried(
    make_worker, clips, services_handle
):
    task = make_task(clips.moving())
    source_name = task.source.name
    django_rq.get_connection(queueing.QUEUE).flushdb()  # the worker starts after S3 is gone
    services_handle.seaweed.stop()
    try:
        worker = make_worker(CONVERTER_RETRY_INTERVALS_S="1,2")
        queueing.task_enqueue(task)
        wait_until(
            lambda: Task.objects.get(pk=task.pk).is_finished,
            180,
            what=lambda: f"the task to give up (worker: {worker.log()[-1500:]})",
        )
        task.refresh_from_db()
        assert task.status == Task.Status.FAILED, (task.code, task.message)
        assert task.code == "StorageUnavailable" and "source is kept" in task.message
        assert task.attempts == 3  # the first run and two retries, 1 s and 2 s apart
        log = worker.log()
        assert "next in 1s" in log and "next in 2s" in log
    finally:
        if services_handle.seaweed.proc.poll() is not None:
            services_handle.seaweed.start()
    # Storage is back: the source was never removed, and a retry succeeds.
    assert task.source.storage.exists(source_name)
    assert lifecycle.task_retry(task)
    wait_until(lambda: Task.objects.get(pk=task.pk).is_finished, 120, what="the retried task")
    task.refresh_from_db()
    assert task.status == Task.Status.SUCCEEDED, (task.code, task.message)
    assert task.outputs.exclude(file="").count() == 1


@pytest.mark.django_db(transaction=True)
def test_only_failures_outside_the_source_can_be_retried(clips):
    task = make_task(clips.audio_only())
    conversion.task_run(task)
    task.refresh_from_db()
    assert task.code == "NoVideoStream" and not lifecycle.task_retry(task)


def test_stale_task_folders_are_swept_and_nothing_else(tmp_path):
    import time

    stale = [
        tmp_path / "loopforge-src-abcd1234",
        tmp_path / "loopforge-x1y2z3_4",
        tmp_path / "loopforge-up-00000000",
    ]
    keep = [
        tmp_path / "loopforge-test-abcd1234",
        tmp_path / "other-abcd1234",
        tmp_path / "loopforge-src-fresh123",
    ]
    old = time.time() - 2 * reconcile.TEMP_MAX_AGE_S
    for folder in stale + keep:
        folder.mkdir()
        (folder / "source.video").write_bytes(b"x")
        if folder.name != "loopforge-src-fresh123":
            os.utime(folder, (old, old))
    assert reconcile.sweep_temp_dirs(root=str(tmp_path)) == 3
    assert [f.exists() for f in stale] == [False] * 3 and all(f.exists() for f in keep)


@pytest.fixture
def redis_unreachable(monkeypatch):
    """The job queue on a port where no Redis listens (an outage)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    down = redis.Redis(port=port, socket_connect_timeout=1)
    monkeypatch.setattr(
        queueing.django_rq, "get_queue", lambda name: rq.Queue(name, connection=down)
    )
    return monkeypatch


@pytest.mark.django_db(transaction=True)
def test_a_redis_outage_during_an_upload_keeps_the_task_for_the_reconciler(
    user_client, clips, redis_unreachable
):
    """The row was committed, then queueing failed, and the error deleted the
    stored source: a task with no source, and a 500 for the person."""
    response = user_client.post(
        reverse("converter:upload"),
        form_data(upload_of(clips.moving())),
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 201, response.content
    task = Task.objects.get()
    assert task.status == Task.Status.QUEUED and task.source.storage.exists(task.source.name)
    redis_unreachable.undo()  # Redis is back
    assert queueing.requeue_forgotten() == 1
    assert django_rq.get_queue(queueing.QUEUE).fetch_job(queueing.job_id(task)) is not None


@pytest.mark.django_db(transaction=True)
def test_a_redis_outage_during_an_api_call_keeps_the_task_too(client, redis_unreachable):
    project, key = make_project_with_key()
    bucket = settings.CONVERTER_API_BUCKETS[0]
    storage.s3_client().put_object(Bucket=bucket, Key="outage/in.mp4", Body=b"x")
    body = {
        "ProjectName": project.name,
        "Sources": [{"URI": f"oss://{bucket}/outage/in.mp4"}],
        "Targets": [
            {"Image": {"Animations": [{"Format": "gif", "URI": f"oss://{bucket}/outage/o.gif"}]}}
        ],
    }
    answer = call(client, "CreateMediaConvertTask", body, key=key)
    task = Task.objects.get(public_id=answer["TaskId"])
    assert task.status == Task.Status.QUEUED
    redis_unreachable.undo()
    assert queueing.requeue_forgotten() == 1
