"""A decoding bomb costs one task, not the worker; the wall time bounds the
encoders as well as ffmpeg."""

from __future__ import annotations

import time

import pytest

from converter.models import Task
from converter.pipeline.errors import PipelineError
from converter.services import conversion
from tests.factories import make_task, make_user
from tests.poll import wait_until
from tests.security import hostile


def test_a_memory_bomb_fails_its_task_and_the_same_worker_goes_on(make_worker, clips, tmp_path):
    # 189 KB on disk, 64 Mpx per frame. The probe is told to let it through,
    # so the ffmpeg memory cap is what stops it. RLIMIT_AS is coarse: a small
    # normal decode needs under 400 MB of address space, this bomb over 600 MB
    # (measured with ffmpeg 7.0.2 and 9.0.2, MALLOC_ARENA_MAX=2), so 500 MB
    # tells them apart.
    bomb = hostile.big_frames_mp4(tmp_path / "bomb.mp4", "8000x8000", seconds=1, fps=2)
    worker = make_worker(
        CONVERTER_MAX_SOURCE_PIXELS=str(100_000_000),
        CONVERTER_FFMPEG_MEMORY_BYTES=str(500 * 1024 * 1024),
    )
    user = make_user()
    bad = make_task(bomb, owner=user)
    wait_until(
        lambda: Task.objects.get(pk=bad.pk).is_finished,
        120,
        what=lambda: f"the bomb ({worker.log()[-1500:]})",
    )
    bad.refresh_from_db()
    assert bad.status == Task.Status.FAILED and bad.code == "DecodeFailed", (bad.code, bad.message)
    good = make_task(clips.moving(), owner=user)
    wait_until(lambda: Task.objects.get(pk=good.pk).is_finished, 120, what="the next task")
    good.refresh_from_db()
    assert good.status == Task.Status.SUCCEEDED, (good.code, good.message, worker.log()[-2000:])
    assert worker.running  # the same worker process, still running


@pytest.mark.django_db
def test_encoding_past_the_wall_time_is_stopped(settings):
    settings.CONVERTER_TASK_TIMEOUT_S = 5
    task = Task(public_id="mc-x", spec={"animations": []})
    report = conversion._progress_reporter(task, 0, 1, deadline=time.monotonic() - 0.1)
    with pytest.raises(PipelineError) as error:
        report(0.6)  # called for every encoded frame
    assert error.value.code == "Timeout" and error.value.permanent
