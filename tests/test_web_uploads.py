"""Uploads of every kind through the upload page (Django's test client): an
HLS playlist with its segments, audio-only files, a playlist alone."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from converter.bench.decode import decode
from converter.models import Task
from converter.services import conversion
from tests.factories import form_data, make_task, task_spec, upload_of
from tests.media import AUDIO, CONTAINERS

pytestmark = pytest.mark.django_db(transaction=True)


def post(client, files, **overrides):
    return client.post(
        reverse("converter:upload"), form_data(files, **overrides), HTTP_ACCEPT="application/json"
    )


def bundle(playlist):
    return [upload_of(p) for p in sorted(playlist.parent.iterdir())]


@pytest.mark.parametrize("segment_type", ["mpegts", "fmp4"])
def test_a_playlist_uploaded_with_its_segments_becomes_one_task(user_client, clips, segment_type):
    playlist = clips.hls(segment_type)
    response = post(user_client, bundle(playlist))
    assert response.status_code == 201, response.content
    task = Task.objects.get(public_id=response.json()["task_id"])
    assert task.original_filename == "index.m3u8"
    # The stored source is the assembled video, never the playlist
    with task.source.open("rb") as f:
        head = f.read(8)
    assert not head.startswith(b"#EXTM3U")
    assert task.source_size == sum(
        p.stat().st_size for p in playlist.parent.iterdir() if p.suffix != ".m3u8"
    )


def test_a_playlist_without_its_segments_is_refused_naming_the_missing_one(user_client, clips):
    playlist = clips.hls("mpegts")
    files = [f for f in bundle(playlist) if f.name != "seg001.ts"]
    response = post(user_client, files)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "SegmentMissing" and "seg001.ts" in body["errors"]["video"][0]
    assert post(user_client, [upload_of(playlist)]).json()["code"] == "SegmentMissing"
    assert not Task.objects.exists()


def test_a_playlist_pointing_outside_the_upload_is_refused(user_client, clips):
    playlist = SimpleUploadedFile(
        "evil.m3u8",
        b"#EXTM3U\n#EXTINF:1,\nhttp://169.254.169.254/latest/x.ts\n#EXTINF:1,\n../x.ts\n",
    )
    response = post(user_client, [playlist])
    assert response.status_code == 400 and response.json()["code"] == "InvalidPlaylist"
    assert not Task.objects.exists()


def test_several_videos_without_a_playlist_are_refused(user_client, clips):
    response = post(
        user_client,
        [upload_of(clips.container("mp4-h264")), upload_of(clips.container("webm-vp9"))],
    )
    assert response.status_code == 400 and response.json()["code"] == "InvalidPlaylist"


@pytest.mark.parametrize("kind", list(AUDIO))
def test_every_audio_format_is_refused_before_queueing(user_client, clips, kind):
    response = post(user_client, [upload_of(clips.audio_only(kind))])
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "NoVideoStream" and "audio" in body["errors"]["video"][0]
    assert not Task.objects.exists()


# Every input of the format matrix through the real upload path (form, header
# probe, S3 storage, the service that the worker runs), with the size and
# frame count the stored animation must have (2 s at 4 fps: 8 frames, 9 when
# a longer audio track makes the file 2.0x s long).
UPLOADS = [(kind, (320, 240), (8, 9)) for kind in CONTAINERS] + [
    ("rotated:90", (240, 320), (8,)),
    ("rotated:180", (320, 240), (8,)),
    ("rotated:270", (240, 320), (8,)),
    ("variable_frame_rate", (320, 240), (12,)),
    ("odd_size", (101, 57), (8,)),
    ("anamorphic", (320, 240), (8,)),
    ("ten_bit", (320, 240), (8,)),
    ("full_chroma", (320, 240), (8,)),
    ("interlaced", (320, 240), (8,)),
    ("without_duration", (320, 240), (8,)),
    ("broken_audio", (320, 240), (8,)),
    ("two_video_streams", (320, 240), (8,)),
    ("alpha", (160, 120), (8,)),
    ("one_frame", (320, 240), (1,)),
]


def make_clip(clips, kind: str):
    if kind in CONTAINERS:
        return clips.container(kind)
    name, _, arg = kind.partition(":")
    return getattr(clips, name)(*([int(arg)] if arg else []))


@pytest.mark.parametrize(("kind", "size", "frames"), UPLOADS, ids=[u[0] for u in UPLOADS])
def test_every_input_converts_through_a_real_upload(user_client, clips, kind, size, frames):
    src = make_clip(clips, kind)
    response = post(user_client, [upload_of(src)], format="webp", fps="4", size="original")
    assert response.status_code == 201, response.content
    task = Task.objects.get(public_id=response.json()["task_id"])
    conversion.task_run(task)  # what the worker runs, inline
    task.refresh_from_db()
    assert task.status == Task.Status.SUCCEEDED, (task.code, task.message)
    output = task.outputs.get()
    assert (output.width, output.height) == size and output.frames in frames
    with output.file.open("rb") as f:
        image = decode(f.read())
    assert (image.format, image.size) == ("WEBP", size)
    assert len(image.frames) <= output.frames  # identical frames may merge


def test_an_audio_file_with_the_waveform_option_is_queued(user_client, clips):
    response = post(user_client, [upload_of(clips.audio_only("mp3"))], waveform="on")
    assert response.status_code == 201, response.content
    task = Task.objects.get(public_id=response.json()["task_id"])
    assert task.spec["animations"][0]["waveform"] is True


def test_a_waveform_task_runs_on_an_audio_file(clips):
    task = make_task(clips.audio_only("m4a", rising=True), spec=task_spec(waveform=True, width=0.5))
    conversion.task_run(task)
    task.refresh_from_db()
    assert task.status == Task.Status.SUCCEEDED, (task.code, task.message)
    assert task.probe["audio_only"] is True
    output = task.outputs.get()
    assert (output.width, output.height, output.frames) == (320, 120, 4)  # 2 s at 0.5 s intervals


def test_the_editor_order_and_speed_fields_reach_the_output(user_client, clips):
    """2x speed halves the sampled frames (2 s at 4 fps: 8 -> 4), a boomerang
    of 4 gives 6, and Loops counts the plays."""
    src = clips.indexed(duration=2, fps=20, step=8)
    response = post(
        user_client, [upload_of(src)], fps="4", size="original", speed="2.0", boomerang="on",
        reverse="on", loop="3",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    task = Task.objects.get(public_id=response.json()["task_id"])
    animation = task.spec["animations"][0]
    assert (animation["speed"], animation["reverse"], animation["boomerang"]) == (2.0, True, True)
    conversion.task_run(task)
    task.refresh_from_db()
    assert task.status == Task.Status.SUCCEEDED, (task.code, task.message)
    output = task.outputs.get()
    assert output.frames == 6
    with output.file.open("rb") as f:
        image = decode(f.read())
    levels = [round(frame[..., 0].astype(float).mean()) for frame in image.frames]
    # sampled 0, 0.5, 1, 1.5 s = frames 0, 10, 20, 30 (x 8, mod 250); back, then forth
    back = [(8 * n) % 250 for n in (30, 20, 10, 0)]
    assert all(abs(a - b) <= 3 for a, b in zip(levels, back + back[-2:0:-1], strict=True)), levels
    assert image.info.get("loop") == 2  # plays 3 times: the first and 2 repeats


@pytest.mark.parametrize(("field", "value"), [("speed", "5"), ("loop", "-1"), ("loop", "70000")])
def test_editor_fields_out_of_range_are_refused_by_field(user_client, clips, field, value):
    response = post(user_client, [upload_of(clips.indexed(duration=2))], **{field: value})
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Task.objects.exists()


def test_the_editor_crop_and_captions_reach_the_output(user_client, clips):
    """The crop fields keep the top-right quadrant (lime), at the box's
    size; the caption rows (the API's Captions, as JSON) are drawn on it."""
    captions = '[{"Text": "你好 Hi", "Size": 0.2, "Color": "#ff00ff", "Position": "top"}]'
    response = post(
        user_client, [upload_of(clips.quadrants())], fps="10", size="original",
        crop_x="160", crop_y="0", crop_width="160", crop_height="100", captions=captions,
    )  # fmt: skip
    assert response.status_code == 201, response.content
    task = Task.objects.get(public_id=response.json()["task_id"])
    animation = task.spec["animations"][0]
    assert animation["crop"] == {"x": 160, "y": 0, "width": 160, "height": 100}
    assert animation["captions"][0]["text"] == "你好 Hi"
    conversion.task_run(task)
    task.refresh_from_db()
    assert task.status == Task.Status.SUCCEEDED, (task.code, task.message)
    output = task.outputs.get()
    assert (output.width, output.height, output.frames) == (160, 100, 20)
    with output.file.open("rb") as f:
        frame = decode(f.read()).frames[0].astype(int)
    assert all(abs(frame[90, 5] - (0, 255, 0)) <= 12)  # below the caption: the quadrant
    magenta = (frame[..., 0] > 200) & (frame[..., 1] < 60) & (frame[..., 2] > 200)
    rows = magenta.any(axis=1).nonzero()[0]
    assert rows.size and rows.max() < 50  # the caption, in the top band only


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"crop_width": "100"}, "crop_height"),
        ({"crop_height": "100"}, "crop_width"),
        ({"crop_width": "0", "crop_height": "10"}, "crop_width"),
        ({"crop_x": "-5", "crop_width": "10", "crop_height": "10"}, "crop_x"),
        ({"captions": "not json"}, "captions"),
        ({"captions": '[{"Text": ""}]'}, "captions"),
        ({"captions": '[{"Text": "x", "Color": "red"}]'}, "captions"),
    ],
)
def test_crop_and_caption_fields_that_cannot_be_drawn_are_refused(
    user_client, clips, fields, field
):
    response = post(user_client, [upload_of(clips.quadrants())], **fields)
    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()
    assert not Task.objects.exists()


def test_a_crop_outside_the_picture_is_refused_before_anything_is_stored(user_client, clips):
    response = post(
        user_client, [upload_of(clips.quadrants())], crop_x="400", crop_width="10", crop_height="10"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "CropOutOfRange"
    assert not Task.objects.exists()
