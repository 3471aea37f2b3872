"""Finds tasks that the queue lost and hands them back to it.

The database is the record of every task; Redis only carries jobs. Two things
can separate them: Redis restarts without its data (QUEUED tasks with no job),
and a worker dies mid-task (SIGKILL, OOM, a lost machine), leaving a RUNNING
task that nothing will ever finish. ``reconcile()`` repairs both and is safe to
run at any time, from any number of processes: every change it makes is a
conditional update, and running a task twice is harmless.

It runs every ``CONVERTER_RECONCILE_INTERVAL_S`` under ``manage.py up`` and on
demand with ``manage.py reconcile`` (``--every N`` to loop).
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta

import django_rq
from django.conf import settings
from django.utils import timezone
from rq.job import Job
from rq.worker import Worker

from .models import Draft, Task
from .pipeline import workdir
from .services import lifecycle, queueing

log = logging.getLogger(__name__)

# A worker's monitor refreshes its heartbeat every job_monitoring_interval
# (RQ's default 30 s) and its key lives that long plus 60 s; past this a
# silent worker on another machine is taken for dead.
STALE_HEARTBEAT_S = 120
# Private folders of a worker that was killed stay behind in the temp dir.
# Past a day no task can still be using one (RQ kills jobs long before).
TEMP_MAX_AGE_S = 24 * 3600
# The folders workdir.private_folder makes (storage's copies, the pipeline's
# work folders); nothing else (not the test services' "loopforge-test-" folders).
TEMP_NAME = workdir.FOLDER_NAME


@dataclass
class Report:
    requeued_forgotten: int = 0
    requeued_abandoned: int = 0  # QUEUED, its job taken by a worker that died
    recovered_running: int = 0
    failed_running: int = 0
    swept_temp_dirs: int = 0
    removed_drafts: int = 0
    overdue_retries: int = 0  # retries whose scheduler was lost, queued now
    removed_sources: int = 0  # past CONVERTER_SOURCE_RETENTION_DAYS

    @property
    def changed(self) -> bool:
        counts = (
            self.requeued_forgotten,
            self.requeued_abandoned,
            self.recovered_running,
            self.failed_running,
            self.overdue_retries,
        )
        return any(counts) or bool(
            self.swept_temp_dirs or self.removed_drafts or self.removed_sources
        )

    def __str__(self) -> str:
        return (
            f"re-queued {self.requeued_forgotten} forgotten task(s) and "
            f"{self.requeued_abandoned} taken by dead workers; queued "
            f"{self.overdue_retries} retry(ies) whose scheduler was lost; recovered "
            f"{self.recovered_running} task(s) from dead workers; failed {self.failed_running}; "
            f"removed {self.swept_temp_dirs} stale temp folder(s) and "
            f"{self.removed_drafts} unclaimed draft(s) and {self.removed_sources} old source(s)"
        )


def _worker_alive(connection, name: str | None) -> bool:
    """Whether the RQ worker ``name`` is still there to finish its job."""
    if not name:
        return False
    worker = Worker.find_by_key(Worker.redis_worker_namespace_prefix + name, connection=connection)
    if worker is None:
        return False  # its key expired: no heartbeat for a minute and more
    if worker.hostname == socket.gethostname() and worker.pid:
        # Same machine: the process table answers at once, without waiting
        # for the key to expire.
        try:
            os.kill(worker.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
    beat = worker.last_heartbeat
    return beat is None or timezone.now() - beat < timedelta(seconds=STALE_HEARTBEAT_S)


def run_is_alive(task: Task, connection=None) -> bool:
    """Whether the job running this RUNNING task can still finish it."""
    connection = connection or django_rq.get_connection(queueing.QUEUE)
    job = Job.fetch_many([queueing.job_id(task, task.attempts - 1)], connection=connection)[0]
    if job is None or job.get_status(refresh=False) != "started":
        return False  # Redis lost it, or RQ ended it (failed, abandoned) without our code running
    return _worker_alive(connection, job.worker_name)


def recover_running(report: Report | None = None) -> Report:
    report = report or Report()
    connection = django_rq.get_connection(queueing.QUEUE)
    now = timezone.now()
    for task in Task.objects.filter(status=Task.Status.RUNNING):
        limit = timedelta(seconds=queueing.job_timeout_s(task) + STALE_HEARTBEAT_S)
        overdue = task.started_at is not None and now - task.started_at > limit
        if not overdue and run_is_alive(task, connection):
            continue
        new = lifecycle.task_recover_lost(task)
        if new == Task.Status.QUEUED:
            report.recovered_running += 1
        elif new == Task.Status.FAILED:
            report.failed_running += 1
    return report


def sweep_temp_dirs(max_age_s: float = TEMP_MAX_AGE_S, root: str | None = None) -> int:
    """Remove this machine's task folders older than ``max_age_s``, left by
    workers that were killed before their ``finally`` ran. Each is logged."""
    root = root or tempfile.gettempdir()
    cutoff = time.time() - max_age_s
    removed = 0
    for entry in os.scandir(root):
        if not TEMP_NAME.fullmatch(entry.name) or not entry.is_dir(follow_symlinks=False):
            continue
        try:
            if entry.stat(follow_symlinks=False).st_mtime >= cutoff:
                continue
        except FileNotFoundError:
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        log.warning("removed stale temp folder %s", entry.path)
        removed += 1
    return removed


def sweep_drafts(max_age_s: float | None = None) -> int:
    """Remove the editor's uploads that never became a task (the person left
    the page) once older than ``CONVERTER_DRAFT_MAX_AGE_S``: the stored file,
    and its proxy, then the row. A draft claimed meanwhile is left alone:
    the row is deleted only while still unclaimed, and its files only after
    that."""
    max_age_s = settings.CONVERTER_DRAFT_MAX_AGE_S if max_age_s is None else max_age_s
    cutoff = timezone.now() - timedelta(seconds=max_age_s)
    removed = 0
    for draft in Draft.objects.filter(task__isnull=True, created_at__lt=cutoff):
        deleted, _ = Draft.objects.filter(pk=draft.pk, task__isnull=True).delete()
        if deleted:
            draft.source.delete(save=False)
            draft.proxy.delete(save=False)
            removed += 1
    return removed


def sweep_sources(days: int | None = None) -> int:
    """Delete the uploaded sources of tasks finished more than ``days``
    (CONVERTER_SOURCE_RETENTION_DAYS) ago; their outputs stay. The row says
    when (``source_deleted_at``) and forgets the name first, so a sweep cut
    short never leaves a row pointing at nothing it would not retry."""
    days = settings.CONVERTER_SOURCE_RETENTION_DAYS if days is None else days
    if days <= 0:
        return 0
    cutoff = timezone.now() - timedelta(days=days)
    finished = (Task.Status.SUCCEEDED, Task.Status.FAILED)
    removed = 0
    for task in Task.objects.filter(status__in=finished, finished_at__lt=cutoff).exclude(source=""):
        name = task.source.name or ""
        updated = Task.objects.filter(pk=task.pk, source=name).update(
            source="", source_deleted_at=timezone.now()
        )
        if updated:
            task.source.storage.delete(name)
            removed += 1
    return removed


def reconcile() -> Report:
    """One pass: dead workers' tasks first (they become QUEUED and get a job),
    then QUEUED tasks whose job a dead worker took, then QUEUED tasks with
    no live job, then retries overdue, then stale temp folders, drafts and
    sources past their retention."""
    report = recover_running()
    connection = django_rq.get_connection(queueing.QUEUE)
    report.requeued_abandoned = queueing.requeue_abandoned(
        lambda name: _worker_alive(connection, name)
    )
    report.requeued_forgotten = queueing.requeue_forgotten()
    report.overdue_retries = queueing.enqueue_overdue()
    report.swept_temp_dirs = sweep_temp_dirs()
    report.removed_drafts = sweep_drafts()
    report.removed_sources = sweep_sources()
    if report.changed:
        log.warning("reconcile: %s", report)
    return report
