"""A worker SIGKILLed mid-task: its ffmpeg dies with it, the reconciler finds
the task it left RUNNING, and another worker finishes it (or, with no
attempts left, it fails with WorkerLost). Never Running forever."""

from __future__ import annotations

from pathlib import Path

from converter import reconcile
from converter.models import Task
from tests.factories import make_task
from tests.poll import wait_until
from tests.security.hostile import alive, ffmpeg_descendants


def _describe(pids: list[int]) -> str:
    out = []
    for pid in pids:
        try:
            proc = Path("/proc") / str(pid)
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()[:300]
            status = (proc / "status").read_text()
            state = status.split("State:")[1].split("\n")[0].strip()
            ppid = status.split("PPid:")[1].split("\n")[0].strip()
        except OSError:
            continue
        out.append(f"{pid} [{state}, ppid {ppid}] {cmd}")
    return "; ".join(out)


def _task_ffmpeg(worker, task: Task, exe: str) -> list[int]:
    """The ffmpeg processes under ``worker`` once ``task`` runs (the worker
    also runs ffmpeg once at start-up, to check it works in the sandbox)."""
    running = Task.objects.get(pk=task.pk).status == Task.Status.RUNNING
    return ffmpeg_descendants(worker.pid, exe) if running else []


def _kill_mid_task(make_worker, slow_ffmpeg, slow_ffmpeg_exe, clips) -> tuple[Task, list[int]]:
    doomed = make_worker("doomed", CONVERTER_FFMPEG=slow_ffmpeg)
    task = make_task(clips.moving(12, name="twelve.mp4"))
    children = wait_until(
        lambda: _task_ffmpeg(doomed, task, slow_ffmpeg_exe), 60, what="ffmpeg under the worker"
    )
    assert Task.objects.get(pk=task.pk).status == Task.Status.RUNNING
    doomed.kill()  # the worker and its work horse at once (its group); reaped, as init would
    # PR_SET_PDEATHSIG: ffmpeg (in a session of its own, so not in the killed
    # group) dies with the horse that started it: bwrap dies with the horse,
    # and its PID namespace, ffmpeg in it, with bwrap.
    wait_until(
        lambda: not any(alive(pid) for pid in children),
        10,
        what=lambda: f"ffmpeg to die with its parent: {_describe(children)}",
    )
    task.refresh_from_db()
    assert task.status == Task.Status.RUNNING and task.attempts == 1  # what the crash leaves
    return task, children


def test_a_killed_workers_task_is_picked_up_again_and_finishes(
    make_worker, slow_ffmpeg, slow_ffmpeg_exe, clips
):
    task, _ = _kill_mid_task(make_worker, slow_ffmpeg, slow_ffmpeg_exe, clips)
    report = reconcile.reconcile()
    assert report.recovered_running == 1
    task.refresh_from_db()
    assert task.status == Task.Status.QUEUED and task.code == "WorkerLost"
    make_worker("rescuer")
    wait_until(lambda: Task.objects.get(pk=task.pk).is_finished, 120, what="the rescued task")
    task.refresh_from_db()
    assert task.status == Task.Status.SUCCEEDED, (task.code, task.message)
    assert task.attempts == 2 and task.outputs.exclude(file="").count() == 1
    assert reconcile.reconcile().recovered_running == 0


def test_a_killed_workers_task_fails_clearly_when_its_attempts_are_used_up(
    make_worker, slow_ffmpeg, slow_ffmpeg_exe, clips, settings
):
    settings.CONVERTER_RETRY_INTERVALS_S = []  # one attempt in all
    task, _ = _kill_mid_task(make_worker, slow_ffmpeg, slow_ffmpeg_exe, clips)
    assert reconcile.reconcile().failed_running == 1
    task.refresh_from_db()
    assert task.status == Task.Status.FAILED and task.code == "WorkerLost" and task.message


def test_a_running_task_with_a_live_worker_is_left_alone(
    make_worker, slow_ffmpeg, slow_ffmpeg_exe, clips
):
    worker = make_worker("busy", CONVERTER_FFMPEG=slow_ffmpeg)
    task = make_task(clips.moving(12, name="twelve.mp4"))
    wait_until(
        lambda: _task_ffmpeg(worker, task, slow_ffmpeg_exe), 60, what="ffmpeg under the worker"
    )
    report = reconcile.reconcile()
    assert report.recovered_running == 0 and report.requeued_forgotten == 0
    assert Task.objects.get(pk=task.pk).status == Task.Status.RUNNING


def test_a_queued_task_whose_job_a_dead_worker_took_is_queued_again(transactional_db, clips):
    # A machine lost between RQ's dequeue and task_start: the task is still
    # QUEUED, its job "started" by a worker that no longer exists (what the
    # multi-machine test met). RQ would keep the job "started" until its
    # timeout, and requeue_forgotten takes a started job for live.
    import django_rq
    from rq.job import JobStatus

    from converter.services import queueing

    task = make_task(clips.moving())
    queue = django_rq.get_queue(queueing.QUEUE)
    job = queue.fetch_job(queueing.job_id(task))
    assert job is not None
    queue.remove(job)  # taken off the queue, as a worker's dequeue does
    job.worker_name = "lost-machine-worker"
    job.set_status(JobStatus.STARTED)
    job.save()
    assert queueing.requeue_forgotten() == 0  # it looks live
    report = reconcile.reconcile()
    assert report.requeued_abandoned == 1 and report.recovered_running == 0
    job = queue.fetch_job(queueing.job_id(task))
    assert job is not None and job.get_status() == JobStatus.QUEUED
    assert job.id in queue.job_ids
    assert Task.objects.get(pk=task.pk).status == Task.Status.QUEUED
    assert reconcile.reconcile().requeued_abandoned == 0  # queued again once
