"""A source costs at most what was uploaded: an HLS bundle cannot list a
segment twice or outgrow the upload limit, each segment copy is removed once
appended, every bucket key a playlist names is checked, and an API source
swapped for a larger object after the task was made is stopped mid-download."""

from __future__ import annotations

from pathlib import Path

import pytest

from converter import storage
from converter.models import Task
from converter.pipeline.errors import PipelineError
from converter.pipeline.hls import assemble_hls
from converter.services import conversion
from tests.factories import make_api_task, make_project, make_task

BUCKET = "loopforge-test-api"


def _playlist(*segments: str) -> bytes:
    lines = ["#EXTM3U", "#EXT-X-TARGETDURATION:1"]
    for name in segments:
        lines += ["#EXTINF:0.5,", name]
    return "\n".join([*lines, "#EXT-X-ENDLIST", ""]).encode()


def test_a_segment_listed_twice_is_refused(tmp_path):
    with pytest.raises(PipelineError) as refused:
        assemble_hls(_playlist("a.ts", "b.ts", "a.ts"), lambda name: b"x" * 188, tmp_path / "o")
    assert refused.value.code == "InvalidPlaylist" and "'a.ts'" in refused.value.message


def test_fetched_copies_are_removed_once_appended(tmp_path):
    copies = []

    def fetch(name: str) -> Path:
        copy = tmp_path / f"copy-{name}"
        copy.write_bytes(b"\x47" * 188)
        copies.append(copy)
        return copy

    out = assemble_hls(_playlist("a.ts", "b.ts"), fetch, tmp_path / "o", remove_fetched=True)
    assert out.stat().st_size == 2 * 188 and len(copies) == 2
    assert not any(c.exists() for c in copies)


def _api_task(source_key: str, bucket: str = BUCKET) -> Task:
    project = make_project()
    body = {
        "ProjectName": project.name,
        "Sources": [{"URI": f"oss://{bucket}/{source_key}"}],
        "Targets": [
            {
                "Image": {
                    "Animations": [{"Format": "gif", "URI": f"oss://{BUCKET}/out/{project.pk}.gif"}]
                }
            }
        ],
    }
    return make_api_task(project, body)


@pytest.mark.django_db
def test_a_source_replaced_by_a_larger_object_is_stopped(clips, settings):
    small = clips.moving().read_bytes()
    settings.CONVERTER_MAX_UPLOAD_BYTES = len(small) + 10
    s3 = storage.s3_client()
    s3.put_object(Bucket=BUCKET, Key="bounds/swapped.mp4", Body=small)
    task = _api_task("bounds/swapped.mp4")  # its size was checked here
    s3.put_object(Bucket=BUCKET, Key="bounds/swapped.mp4", Body=small + b"\0" * 4 * 1024 * 1024)
    conversion.task_run(task)
    task.refresh_from_db()
    assert task.status == Task.Status.FAILED and task.code == "SourceTooLarge", task.message


@pytest.mark.django_db
def test_a_bucket_playlist_over_the_limit_is_refused(settings):
    settings.CONVERTER_MAX_UPLOAD_BYTES = 3000
    s3 = storage.s3_client()
    names = [f"seg{n}.ts" for n in range(4)]
    for name in names:
        s3.put_object(Bucket=BUCKET, Key=f"bounds/big/{name}", Body=b"\x47" * 1000)
    s3.put_object(Bucket=BUCKET, Key="bounds/big/index.m3u8", Body=_playlist(*names))
    task = _api_task("bounds/big/index.m3u8")
    conversion.task_run(task)
    task.refresh_from_db()
    assert task.status == Task.Status.FAILED and task.code == "SourceTooLarge", task.message


@pytest.mark.django_db
def test_a_bucket_playlist_cannot_name_the_apps_own_objects(clips, settings):
    """At a bucket's root, a playlist's plain relative names reach into
    sources/ and outputs/ (a folder name is allowed): each key is checked,
    on an installation that opens the app's own bucket to the API."""
    app_bucket = settings.CONVERTER_S3_BUCKET
    settings.CONVERTER_API_BUCKETS = [BUCKET, app_bucket]
    victim = make_task(clips.moving(), original_filename="private.mp4")
    storage.s3_client().put_object(
        Bucket=app_bucket, Key="steal.m3u8", Body=_playlist(f"sources/{victim.source.name}")
    )
    task = _api_task("steal.m3u8", bucket=app_bucket)
    conversion.task_run(task)
    task.refresh_from_db()
    assert task.status == Task.Status.FAILED and task.code == "Forbidden", (task.code, task.message)
    assert not task.outputs.filter(bytes__gt=0).exists()
