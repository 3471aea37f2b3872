"""Every failure carries its true code: a file's fault is never taken for a
storage outage (retried for minutes, then 'StorageUnavailable'), nor for a
bug ('InternalError'); only the storage layer's own errors may pass."""

from __future__ import annotations

import re
from pathlib import Path

import av
import pytest

from converter.models import Task
from converter.pipeline.errors import PipelineError
from converter.pipeline.probe import probe
from converter.services import conversion
from tests.factories import make_task
from tests.media import ffmpeg, pattern, tone


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("true-codes")


def sorenson_flv(folder: Path) -> Path:
    """A valid FLV as ``ffmpeg -c:v flv -c:a libmp3lame`` writes it: no index,
    so PyAV cannot seek back in it (EPERM)."""
    path = folder / "sorenson.flv"
    ffmpeg(*pattern("160x120", 10, 2), *tone(2), "-c:v", "flv", "-c:a", "libmp3lame", str(path))
    return path


def empty_video_track(folder: Path) -> Path:
    """A fragmented MP4 whose video track holds no samples (its sound does):
    the streams copied, no video frame kept."""
    source, path = folder / "with-frames.mp4", folder / "empty-track.mp4"
    ffmpeg(*pattern("160x120", 10, 1), *tone(1), "-c:v", "libx264", "-c:a", "aac", str(source))
    ffmpeg(
        "-i", str(source), "-map", "0", "-c", "copy", "-frames:v", "0",
        "-movflags", "frag_keyframe+empty_moov", str(path),
    )  # fmt: skip
    return path


def mjpeg_claiming(folder: Path, side: int) -> Path:
    """An MJPEG AVI whose every JPEG frame header (SOF0) claims side x side."""
    source = folder / "mjpeg.avi"
    if not source.exists():
        ffmpeg(*pattern("160x120", 10, 1), "-c:v", "mjpeg", str(source))
    data = bytearray(source.read_bytes())
    for match in re.finditer(rb"\xff\xc0\x00\x11\x08", bytes(data)):
        data[match.end() : match.end() + 4] = side.to_bytes(2, "big") * 2
    path = folder / f"mjpeg-{side}.avi"
    path.write_bytes(bytes(data))
    return path


def run(path: Path) -> Task:
    task = make_task(path)
    conversion.task_run(task)
    task.refresh_from_db()
    return task


@pytest.mark.django_db
def test_a_sorenson_flv_with_mp3_converts(media):
    task = run(sorenson_flv(media))
    assert task.status == Task.Status.SUCCEEDED, (task.code, task.message)
    assert task.outputs.get().frames in (4, 5)  # 2 s (and its last frame) at 2 fps


def test_a_video_track_with_no_frames_is_no_video_stream(media):
    with pytest.raises(PipelineError) as refused:
        probe(empty_video_track(media))
    assert refused.value.code == "NoVideoStream"


@pytest.mark.parametrize("side", [16000, 65535])
@pytest.mark.django_db
def test_corrupt_frame_headers_fail_as_the_files_fault(media, side):
    task = run(mjpeg_claiming(media, side))
    assert task.status == Task.Status.FAILED
    assert task.code in ("DecodeFailed", "SourceUnreadable", "SourceTooLarge"), task.code
    assert task.attempts == 1 and "unexpected" not in task.message


@pytest.mark.django_db
def test_an_os_error_from_the_pipeline_is_not_a_storage_fault(clips, monkeypatch):
    """PyAV raises subclasses of OSError for media problems: one escaping the
    pipeline is a bug to fix, never an outage to retry for minutes."""

    def failing(*args, **kwargs):
        raise av.error.PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(conversion, "convert", failing)
    task = run(clips.moving())
    assert task.status == Task.Status.FAILED and task.code == "InternalError"
    assert task.attempts == 1
