"""A task whose animation has MaxBytes (issue 14), run by the service on the
real S3 server and database: fitted, reported, failed when it cannot fit."""

from __future__ import annotations

import pytest
from django.urls import reverse

from converter.bench.decode import decode
from converter.imm import task_to_imm
from converter.models import Task
from converter.services import conversion
from tests.factories import make_task, task_spec
from tests.media import ffmpeg

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_capped_animation_is_fitted_and_the_change_reported(client, clips):
    src = clips.moving(duration=4, size="320x240", name="fit-task.mp4")
    spec = task_spec(format="gif", interval=0.1, frame_rate=10, width=320.0, max_bytes=120_000)
    task = make_task(src, spec=spec)
    conversion.task_run(task)
    task.refresh_from_db()
    assert task.status == Task.Status.SUCCEEDED, (task.code, task.message)
    output = task.outputs.get()
    data = output.file.read()
    assert len(data) == output.bytes <= 120_000
    assert decode(data).size == (output.width, output.height)
    report = output.fit_report
    assert report["Bytes"] == output.bytes and report["MaxBytes"] == 120_000
    assert report["Changes"] and report["Summary"].startswith("To fit under 120,000 bytes")
    assert task_to_imm(task)["Outputs"][0]["FitReport"] == report
    client.force_login(task.owner)
    page = client.get(reverse("converter:task-detail", args=[task.public_id])).content.decode()
    assert report["Changes"][0] in page and 'class="fit-report"' in page


def test_an_uncapped_animation_carries_no_report(clips):
    task = make_task(clips.moving(), spec=task_spec(format="webp"))
    conversion.task_run(task)
    task.refresh_from_db()
    output = task.outputs.get()
    assert output.fit_report is None and "FitReport" not in task_to_imm(task)["Outputs"][0]


def test_a_cap_that_cannot_be_met_fails_the_task_for_good(clips):
    noise = clips.root / "fit-task-noise.mkv"
    if not noise.exists():
        ffmpeg(
            "-f", "lavfi", "-i", "nullsrc=s=320x240:r=25:d=5,geq=lum='random(1)*255':cb=128:cr=128",
            "-c:v", "ffv1", str(noise),
        )  # fmt: skip
    spec = task_spec(format="gif", interval=0.1, frame_rate=10, width=320.0, max_bytes=2000)
    task = make_task(noise, spec=spec)
    conversion.task_run(task)
    task.refresh_from_db()
    assert task.status == Task.Status.FAILED and task.attempts == 1
    assert task.code == "CannotFit" and "smallest reached was" in task.message
    assert not task.outputs.exclude(file="").exists()
