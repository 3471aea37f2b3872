"""The service layer on the real S3 server and database, run inline."""

from __future__ import annotations

import logging
import re

import pytest

from converter.bench.decode import decode
from converter.models import Output, Task
from converter.services import conversion
from tests.factories import make_task, task_spec

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_task_runs_from_stored_source_to_stored_animation(clips):
    task = make_task(clips.moving(), spec=task_spec(format="webp"))
    assert task.status == Task.Status.QUEUED and task.source.name.endswith(".video")
    conversion.task_run(task)
    task.refresh_from_db()
    assert task.status == Task.Status.SUCCEEDED, (task.code, task.message)
    assert task.progress == 100 and task.started_at and task.finished_at and task.attempts == 1
    output = task.outputs.get()
    image = decode(output.file.read())
    frames = image.frames
    assert image.format == "WEBP" and len(frames) == output.frames == 6  # 0, 0.5 .. 2.5 s
    assert image.size == (output.width, output.height) == (80, 60)
    assert output.bytes == output.file.size


def test_the_worker_logs_where_the_tasks_time_went(clips, caplog):
    task = make_task(clips.moving(), spec=task_spec(format="gif"))
    with caplog.at_level(logging.INFO, logger="converter.services.conversion"):
        conversion.task_run(task)
    (line,) = [r.getMessage() for r in caplog.records if " timings: " in r.getMessage()]
    parts = dict(re.findall(r"([a-z_+]+) (\d+\.\d+)s", line))
    fixed = ["fetch", "probe", "plan", "sampler_start", "encoder_start", "moviepy_clip"]
    assert list(parts) == [*fixed, "sample+encode", "store", "renditions", "total"], line
    assert float(parts["total"]) >= sum(float(v) for k, v in parts.items() if k != "total")


def test_the_worker_reads_the_source_only_in_sandboxed_children(clips, no_pyav_here):
    """The probe and the key-frame look-up (a WebP made in runs) run in the
    sandbox's children, ffmpeg in the sandbox: no PyAV in the worker."""
    task = make_task(clips.portrait(), spec=task_spec(format="webp", interval=0.25))
    conversion.task_run(task)
    task.refresh_from_db()
    assert task.status == Task.Status.SUCCEEDED, (task.code, task.message)
    output = task.outputs.get()
    assert (output.width, output.height) == (80, 142)  # upright


@pytest.mark.parametrize(("fmt", "scanned"), [("gif", False), ("webp", True)])
def test_the_worker_reads_key_frames_only_for_a_format_made_in_runs(clips, fmt, scanned):
    """The probe reads on past the first frame for the key frames only where
    an encoder may split the animation into runs (WebP), to plan them."""
    task = make_task(clips.moving(), spec=task_spec(format=fmt))
    conversion.task_run(task)
    task.refresh_from_db()
    assert task.status == Task.Status.SUCCEEDED, (task.code, task.message)
    assert (task.probe["key_frames_until"] >= task.probe["duration"] > 0) is scanned


def test_running_a_task_twice_writes_one_output(clips):
    task = make_task(clips.moving())
    conversion.task_run(task)
    name = task.outputs.get().file.name
    Task.objects.filter(pk=task.pk).update(status=Task.Status.QUEUED)  # a duplicate delivery
    conversion.task_run(Task.objects.get(pk=task.pk))
    assert Output.objects.filter(task=task).count() == 1
    assert task.outputs.get().file.name == name


def test_a_finished_task_is_not_run_again(clips):
    task = make_task(clips.moving())
    conversion.task_run(task)
    task.refresh_from_db()
    finished = task.finished_at
    conversion.task_run(task)
    task.refresh_from_db()
    assert task.attempts == 1 and task.finished_at == finished


def test_audio_only_source_fails_with_a_clear_code(clips):
    task = make_task(clips.audio_only())
    conversion.task_run(task)
    task.refresh_from_db()
    assert task.status == Task.Status.FAILED
    assert task.code == "NoVideoStream" and "audio" in task.message
    assert not task.outputs.exclude(file="").exists()
