"""The real queue: a task created by a request is run by an RQ worker process."""

from __future__ import annotations

import time

from converter.bench.decode import decode
from converter.models import Task
from converter.services import queueing
from tests.factories import make_task, task_spec
from tests.poll import wait_until


def test_a_worker_process_converts_a_queued_task(worker, clips):
    task = make_task(clips.moving(), spec=task_spec(format="gif"))
    wait_until(
        lambda: Task.objects.get(pk=task.pk).is_finished,
        90,
        what=lambda: f"the worker (log: {worker.log()[-2000:]})",
    )
    task.refresh_from_db()
    assert task.status == Task.Status.SUCCEEDED, (task.code, task.message, worker.log()[-3000:])
    image = decode(task.outputs.get().file.read())
    frames, durations = image.frames, image.durations
    assert image.format == "GIF" and len(frames) == 6 and durations == [500] * 6


def test_queued_tasks_survive_a_redis_restart(worker, clips, services_handle):
    worker.stop()  # nothing consumes the queue while Redis loses it
    task = make_task(clips.moving())
    services_handle.restart_redis()
    assert queueing.requeue_forgotten() == 1
    worker.start()
    wait_until(lambda: Task.objects.get(pk=task.pk).is_finished, 90, what="the requeued task")
    assert Task.objects.get(pk=task.pk).status == Task.Status.SUCCEEDED


def test_the_entry_points_the_services_enqueue_by_name_exist():
    from rq.utils import import_attribute

    from converter import tasks

    assert import_attribute(queueing.CONVERT_TASK) is tasks.convert_task
    assert import_attribute(queueing.DELIVER_NOTIFICATION) is tasks.deliver_notification


def test_a_retry_whose_scheduler_died_is_queued_by_the_reconciler(worker, clips):
    """RQ's scheduler lives in one worker; with that worker gone, a retry
    waits until another takes the scheduler over (up to 10 minutes). The
    reconciler queues an overdue retry itself."""
    worker.stop()  # no scheduler: nothing moves the retry
    task = make_task(clips.moving(), spec=task_spec(format="gif"))
    queue = queueing.django_rq.get_queue(queueing.QUEUE)
    queue.empty()
    queueing.task_enqueue(task, delay_s=0.5)
    assert queueing.job_id(task) in queue.scheduled_job_registry.get_job_ids()
    assert queueing.enqueue_overdue(grace_s=60) == 0  # not overdue yet
    time.sleep(1.5)
    assert queueing.enqueue_overdue(grace_s=0) == 1
    assert queue.job_ids == [queueing.job_id(task)]
    assert not queue.scheduled_job_registry.get_job_ids()
    worker.start()
    wait_until(lambda: Task.objects.get(pk=task.pk).is_finished, 90, what="the retried task")
    assert Task.objects.get(pk=task.pk).status == Task.Status.SUCCEEDED
