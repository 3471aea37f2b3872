"""What a person does to a task they made: delete it with everything it
stored, revoke or renew its share link, retry it after a failure."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.core.files.storage import Storage, storages
from django.db import models, transaction

from ..errors import Code, LoopforgeError
from ..models import Draft, Output, Project, Task, new_share_key
from . import lifecycle
from .metering import quota_check

log = logging.getLogger(__name__)

StoredName = tuple[Storage, str]


def _file_names(row: models.Model) -> list[StoredName]:
    """Every stored file a row names, field by field: new file fields (a
    rendition beside an output, say) are found without being listed here."""
    names = []
    for field in row._meta.concrete_fields:
        if isinstance(field, models.FileField):
            value = getattr(row, field.attname)
            if value and value.name:
                names.append((value.storage, value.name))
    return names


def _stored_names(task: Task) -> list[StoredName]:
    names = _file_names(task)
    for output in Output.objects.filter(task=task):
        names += _file_names(output)
    for draft in Draft.objects.filter(task=task):
        names += _file_names(draft)
    return names


def _folder_names(storage: Storage, folder: str) -> Iterable[str]:
    """Every object under ``folder`` (recursively), as names of ``storage``."""
    try:
        dirs, files = storage.listdir(folder)
    except FileNotFoundError:  # a local folder never made
        return
    for name in files:
        yield f"{folder}/{name}"
    for sub in dirs:
        yield from _folder_names(storage, f"{folder}/{sub}")


def _remove(public_id: str, names: list[StoredName]) -> None:
    """Delete the named objects, then anything else stored under the task's
    folder (``models.source_name`` and ``output_name`` put every file of a
    task under ``<public_id>/``; an object whose row was never written, an
    output stored by a run that failed before recording it, is found only
    this way). A fault is logged with the key and the rest go on: nothing
    sweeps orphaned keys later, so the log is where one is found."""
    names = list(names)
    for storage in (storages["sources"], storages["outputs"]):
        try:
            names += [(storage, name) for name in _folder_names(storage, public_id)]
        except Exception:
            log.warning("task %s: could not list its stored files", public_id, exc_info=True)
    for storage, name in dict.fromkeys(names):
        try:
            storage.delete(name)
        except Exception:
            log.warning("task %s: could not delete stored %s", public_id, name, exc_info=True)


def task_files_discard(task: Task) -> None:
    """Delete every file ``task`` keeps in our storage once the caller's
    transaction commits (its row is the caller's to delete)."""
    names, public_id = _stored_names(task), task.public_id
    transaction.on_commit(lambda: _remove(public_id, names), robust=True)


def task_delete(task: Task) -> None:
    """Delete a task: its stored source, outputs (every file field of its
    outputs, renditions too), its drafts' files (the editor's upload it was
    made from and the draft's proxy), its share link and its row (outputs,
    drafts and notification attempts go with it). Its usage records stay,
    for billing: their links to the task become null, their project,
    frames and time remain, so the month's usage and quota still count them.
    Outputs an API task wrote to a client's bucket (``Output.uri``) are the
    client's and stay.

    A task being converted right now is refused (``TaskRunning``): its run
    would store outputs after the delete. A queued one is deleted, and its
    job finds no task. The files are deleted once the row's deletion
    commits (a rolled-back delete keeps them)."""
    with transaction.atomic():
        # Locked, so that a worker's start (a conditional UPDATE from QUEUED)
        # waits for this delete and then finds no row.
        row = Task.objects.select_for_update().filter(pk=task.pk).first()
        if row is None:
            return
        if row.status == Task.Status.RUNNING:
            raise LoopforgeError(
                Code.TASK_RUNNING,
                "This task is being converted right now; delete it once it has finished.",
            )
        names = _stored_names(row)
        public_id = row.public_id
        row.delete()
        transaction.on_commit(lambda: _remove(public_id, names), robust=True)
    log.info("task %s deleted with %d stored files", public_id, len(names))


def share_link_revoke(task: Task) -> None:
    """The share link stops working at once: the task keeps no share key,
    so no URL finds it (``selectors.task_get_shared``), until
    ``share_link_renew`` makes a new one."""
    Task.objects.filter(pk=task.pk).update(share_key=None)
    task.share_key = None


def share_link_renew(task: Task) -> str:
    """A new share link for the task (a new key); the old one, if any, stops
    working at once. Returns the new key."""
    key = new_share_key()
    Task.objects.filter(pk=task.pk).update(share_key=key)
    task.share_key = key
    return key


def task_retry(task: Task) -> bool:
    """Queue a FAILED task again, as a new run with a fresh set of attempts:
    the owner may retry any failure (the cause may have passed, or been a
    bug since fixed). The project's quota is checked as at creation, with
    the frames the task reserves. False when the task is not FAILED (it
    was retried already, say). Outputs made and billed by an earlier run are
    kept and not billed again (``metering.usage_record``)."""
    if task.status != Task.Status.FAILED:
        return False
    if not (task.source or task.source_uri):
        raise LoopforgeError(
            Code.SOURCE_NOT_FOUND, "This task keeps no source to convert again; upload the video."
        )
    with transaction.atomic():
        quota_check(
            Project.objects.select_for_update().get(pk=task.project_id), task.estimated_frames
        )
        return lifecycle.task_retry(task, any_failure=True)
