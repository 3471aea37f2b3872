"""A task delivered more than once (a reconciler racing a slow worker, a
job pushed twice): one run, one output, one meter record."""

from __future__ import annotations

import django_rq
import pytest

from converter import tasks
from converter.models import Output, Task, UsageRecord
from converter.services import conversion, queueing
from tests.factories import make_task
from tests.poll import wait_until


def test_the_same_task_queued_three_times_on_two_workers_runs_once(make_worker, clips):
    make_worker("a")
    make_worker("b")
    task = make_task(clips.moving())
    queue = django_rq.get_queue(queueing.QUEUE)
    for extra in ("dup-1", "dup-2"):
        queue.enqueue(tasks.convert_task, task.pk, job_id=f"{queueing.job_id(task)}-{extra}")
    wait_until(lambda: Task.objects.get(pk=task.pk).is_finished, 120, what="the task")
    wait_until(
        lambda: queue.count == 0 and not queue.started_job_registry.get_job_ids(),
        60,
        what="every duplicate to be consumed",
    )
    task.refresh_from_db()
    assert task.status == Task.Status.SUCCEEDED and task.attempts == 1
    assert Output.objects.filter(task=task).count() == 1
    assert UsageRecord.objects.filter(output__task=task).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_task_run_again_after_success_is_not_billed_again(clips):
    task = make_task(clips.moving())
    conversion.task_run(task)
    Task.objects.filter(pk=task.pk).update(status=Task.Status.QUEUED)  # delivered again
    conversion.task_run(Task.objects.get(pk=task.pk))
    assert Task.objects.get(pk=task.pk).status == Task.Status.SUCCEEDED
    assert Output.objects.filter(task=task).count() == 1
    assert UsageRecord.objects.filter(output__task=task).count() == 1
