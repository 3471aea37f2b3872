"""The reference requests, verbatim, through the API to a real worker
process, the real S3 server and real Redis: the objects written, the stream
message, the webhook and the usage figures."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import redis
from django.conf import settings

from converter import notifications, storage
from converter.bench.decode import decode
from converter.models import Delivery, Task, UsageRecord
from tests.api import call
from tests.factories import make_project_with_key
from tests.poll import wait_until

BUCKET = settings.CONVERTER_API_BUCKETS[0]

# MISSION.md's examples as written there; only the bucket is this test's.
EXAMPLE_1 = """{"ProjectName": "test-project",
 "Notification": {"MNS": {"TopicName": "test-mns-topic"}},
 "Sources": [{"URI": "oss://test-bucket/video-demo/釀酒.mov"}],
 "Targets": [{"Image": {"Animations": [{
    "Format": "webp", "FrameRate": 15, "Height": 0.5, "Interval": 1,
    "ScaleType": "fit", "URI": "oss://test-bucket/video-demo/animation.{autoext}",
    "Width": 0.5}]}}]}"""
EXAMPLE_2 = EXAMPLE_1.replace(
    '"Sources": [{"URI": "oss://test-bucket/video-demo/釀酒.mov"}]',
    '"Sources": [{"Duration": 25, "StartTime": 5, "URI": "oss://test-bucket/video-demo/釀酒.mov"}]',
)
assert EXAMPLE_2 != EXAMPLE_1


def body_of(example: str) -> dict:
    return json.loads(example.replace("test-bucket", BUCKET))


@pytest.fixture
def fast_retries(monkeypatch):
    """Webhook retries after 1 s in the worker process (started after this)."""
    monkeypatch.setenv("CONVERTER_WEBHOOK_RETRY_INTERVALS_S", "1,1,1")


class Receiver:
    """A webhook receiver on 127.0.0.1 that fails the first ``fail`` requests."""

    def __init__(self, fail: int = 0) -> None:
        self.requests: list[tuple[dict, bytes]] = []
        self.fail = fail
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                status = 500 if len(receiver.requests) <= receiver.fail else 204
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/loopforge"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def finished(client, key, task_id: str, worker) -> dict:
    def done():
        answer = call(
            client, "GetTask", {"ProjectName": "test-project", "TaskId": task_id}, key=key
        )
        return answer if answer["Status"] != "Running" else None

    answer = wait_until(
        done, 120, 0.5, what=lambda: f"the task (worker log: {worker.log()[-2000:]})"
    )
    assert answer["Status"] == "Succeeded", (answer, worker.log()[-3000:])
    return answer


def check_animation(frames_expected: int) -> None:
    data = storage.object_read(BUCKET, "video-demo/animation.webp")
    image = decode(data)
    frames, durations = image.frames, image.durations
    assert image.format == "WEBP" and len(frames) == frames_expected
    assert image.size == (80, 45)  # half of 160x90
    assert all(abs(d - 1000 / 15) <= 1 for d in durations), durations  # FrameRate 15


def stream_messages() -> list[dict]:
    client = redis.Redis.from_url(settings.CONVERTER_NOTIFY_REDIS_URL)
    key = notifications.stream_key("test-project", "test-mns-topic")
    return [json.loads(fields[b"message"]) for _, fields in client.xrange(key)]


def test_the_reference_examples_work_verbatim(worker, clips, client):
    storage.s3_client().put_object(
        Bucket=BUCKET, Key="video-demo/釀酒.mov", Body=clips.reference().read_bytes()
    )
    project, key = make_project_with_key("test-project")

    created = call(client, "CreateMediaConvertTask", body_of(EXAMPLE_1), key=key)
    answer = finished(client, key, created["TaskId"], worker)
    check_animation(30)  # a 30 s source sampled every second
    assert answer["Progress"] == 100 and answer["StartTime"] and answer["EndTime"]
    output = answer["Outputs"][0]
    assert output["URI"] == f"oss://{BUCKET}/video-demo/animation.webp"
    assert (output["Format"], output["Width"], output["Height"], output["Frames"]) == (
        "webp",
        80,
        45,
        30,
    )
    assert output["Bytes"] == len(storage.object_read(BUCKET, "video-demo/animation.webp"))

    # The owner sees the API task in the browser too, its output streamed from the bucket.
    client.force_login(project.owner)
    page = client.get(f"/tasks/{created['TaskId']}/")
    assert page.status_code == 200 and "釀酒.mov" in page.content.decode()
    image = client.get(f"/tasks/{created['TaskId']}/0.webp")
    assert image.status_code == 200 and b"".join(image.streaming_content)[:4] == b"RIFF"
    client.logout()

    messages = wait_until(stream_messages, 20, what="the stream message")
    assert len(messages) == 1
    message = messages[0]
    assert {"id", "source", "type", "subject", "time", "content"} <= set(message)
    assert (
        message["content"]["TaskId"] == created["TaskId"]
        and message["content"]["Status"] == "Succeeded"
    )
    assert message["content"]["Outputs"][0]["Frames"] == 30
    assert message["content"]["Sources"][0]["URI"] == f"oss://{BUCKET}/video-demo/釀酒.mov"

    created = call(client, "CreateMediaConvertTask", body_of(EXAMPLE_2), key=key)
    finished(client, key, created["TaskId"], worker)
    check_animation(25)  # seconds 5 to 30
    assert len(wait_until(lambda: len(stream_messages()) == 2 and stream_messages(), 20)) == 2

    assert sorted(UsageRecord.objects.filter(project=project).values_list("frames", flat=True)) == [
        25,
        30,
    ]
    usage = call(client, "GetUsage", {"ProjectName": "test-project"}, key=key)
    assert usage["FramesThisMonth"] == 55 and usage["Usage"][0]["Frames"] == 55
    assert Delivery.objects.filter(channel="mns", ok=True).count() == 2


def test_a_webhook_is_signed_retried_and_every_attempt_recorded(
    fast_retries, worker, clips, client
):
    storage.s3_client().put_object(
        Bucket=BUCKET, Key="video-demo/釀酒.mov", Body=clips.reference().read_bytes()
    )
    _, key = make_project_with_key("test-project")
    receiver = Receiver(fail=1)
    try:
        body = body_of(EXAMPLE_2)
        body["Targets"][0]["Image"]["Animations"][0]["Number"] = 3  # a quick task
        body["Targets"][0]["Image"]["Animations"].append(
            {
                "Format": "gif",
                "Interval": 2,
                "Number": 2,
                "Width": 32,
                "Height": 32,
                "ScaleType": "fill",
                "URI": f"oss://{BUCKET}/out/{{tags.team}}/{{barename}}-{{index}}.{{autoext}}",
            }
        )
        body.update(
            UserData="order-17",
            Tags={"team": "blue"},
            Notification={"Webhook": {"URL": receiver.url, "Secret": "s3cret"}},
        )
        created = call(client, "CreateMediaConvertTask", body, key=key)
        answer = finished(client, key, created["TaskId"], worker)
        assert [o["URI"] for o in answer["Outputs"]] == [
            f"oss://{BUCKET}/video-demo/animation.webp",
            f"oss://{BUCKET}/out/blue/釀酒-1.gif",
        ]
        image = decode(storage.object_read(BUCKET, "out/blue/釀酒-1.gif"))
        frames = image.frames
        assert image.format == "GIF" and len(frames) == 2 and image.size == (32, 32)

        wait_until(lambda: len(receiver.requests) >= 2, 30, what="the retried webhook")
        bodies = set()
        for headers, raw in receiver.requests:
            assert notifications.verify(raw, "s3cret", headers[notifications.SIGNATURE_HEADER])
            bodies.add(raw)
        assert len(bodies) == 1  # each attempt sends the same message
        message = json.loads(raw)
        assert message["content"]["TaskId"] == created["TaskId"]
        assert message["content"]["UserData"] == "order-17" and message["content"]["Tags"] == {
            "team": "blue"
        }
        deliveries = wait_until(
            lambda: (
                list(Delivery.objects.filter(task__public_id=created["TaskId"]).order_by("attempt"))
                if Delivery.objects.filter(task__public_id=created["TaskId"], ok=True).exists()
                else None
            ),
            10,
        )
        assert [(d.attempt, d.ok, d.status_code) for d in deliveries] == [
            (1, False, 500),
            (2, True, 204),
        ]
        got = call(
            client,
            "GetTask",
            {"ProjectName": "test-project", "TaskId": created["TaskId"], "RequestDefinition": True},
            key=key,
        )
        assert got["RequestDefinition"]["Notification"]["Webhook"] == {
            "URL": receiver.url,
            "Secret": "******",
        }
        assert "s3cret" not in got["TaskRequestDefinition"]
        assert [(d["Attempt"], d["OK"]) for d in got["Deliveries"]] == [(1, False), (2, True)]
        assert Task.objects.get(public_id=created["TaskId"]).usage.count() == 2
    finally:
        receiver.close()


def test_an_hls_playlist_in_a_bucket_folder_converts_from_its_own_segments(worker, clips, client):
    folder = clips.hls().parent  # index.m3u8 and its segments
    s3 = storage.s3_client()
    for path in sorted(folder.iterdir()):
        s3.put_object(Bucket=BUCKET, Key=f"streams/show/{path.name}", Body=path.read_bytes())
    # a segment elsewhere in the bucket that a playlist must never reach
    s3.put_object(Bucket=BUCKET, Key="streams/secret.ts", Body=b"private")
    _, key = make_project_with_key("test-project")
    body = {
        "ProjectName": "test-project",
        "Sources": [{"URI": f"s3://{BUCKET}/streams/show/index.m3u8"}],
        "Targets": [
            {
                "Image": {
                    "Animations": [
                        {
                            "Format": "gif",
                            "Interval": 0.5,
                            "FrameRate": 4,
                            "Width": 80,
                            "URI": f"s3://{BUCKET}/streams/out/{{barename}}.{{autoext}}",
                        }
                    ]
                }
            }
        ],
    }
    created = call(client, "CreateMediaConvertTask", body, key=key)
    answer = finished(client, key, created["TaskId"], worker)
    image = decode(storage.object_read(BUCKET, "streams/out/index.gif"))
    frames = image.frames
    assert image.format == "GIF" and image.size[0] == 80
    assert len(frames) == answer["Outputs"][0]["Frames"] >= 4

    # A playlist that names a segment outside its folder fails without reading it.
    s3.put_object(
        Bucket=BUCKET,
        Key="streams/evil/index.m3u8",
        Body=b"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n../secret.ts\n#EXT-X-ENDLIST\n",
    )
    body["Sources"][0]["URI"] = f"s3://{BUCKET}/streams/evil/index.m3u8"
    created = call(client, "CreateMediaConvertTask", body, key=key)
    task_id = created["TaskId"]
    answer = wait_until(
        lambda: (
            (
                a := call(
                    client, "GetTask", {"ProjectName": "test-project", "TaskId": task_id}, key=key
                )
            )["Status"]
            != "Running"
            and a
        ),
        120,
        0.5,
        what="the evil playlist task",
    )
    assert answer["Status"] == "Failed" and answer["Code"] == "InvalidPlaylist", answer


def test_crop_and_captions_through_the_api(worker, clips, client):
    """The editor's picture edits asked for by a program: the bottom-left
    quadrant (blue) at half its size, with a caption; a crop that cannot be
    a box is refused naming its field, before anything is queued."""
    storage.s3_client().put_object(
        Bucket=BUCKET, Key="edits/quadrants.mkv", Body=clips.quadrants().read_bytes()
    )
    _, key = make_project_with_key("test-project")
    animation = {
        "Format": "gif", "FrameRate": 10, "Width": 0.5,
        "Crop": {"X": 0, "Y": 0.5, "Width": 0.5, "Height": 0.4999},
        "Captions": [{"Text": "Bleu", "Color": "#FFFF00", "Size": 0.25, "Position": "top"}],
        "URI": f"oss://{BUCKET}/edits/out.{{autoext}}",
    }  # fmt: skip
    body = {
        "ProjectName": "test-project",
        "Sources": [{"URI": f"oss://{BUCKET}/edits/quadrants.mkv"}],
        "Targets": [{"Image": {"Animations": [animation]}}],
    }
    created = call(client, "CreateMediaConvertTask", body, key=key)
    output = finished(client, key, created["TaskId"], worker)["Outputs"][0]
    assert (output["Width"], output["Height"], output["Frames"]) == (80, 60, 20)
    frame = decode(storage.object_read(BUCKET, "edits/out.gif")).frames[0].astype(int)
    assert all(abs(frame[55, 40] - (0, 0, 255)) <= 12)  # below the caption: the blue quadrant
    yellow = (frame[..., 0] > 200) & (frame[..., 1] > 200) & (frame[..., 2] < 60)
    assert yellow[:30].any() and not yellow[30:].any()  # the caption, in the top band

    bad = {**body, "Targets": [{"Image": {"Animations": [{**animation, "Crop": {"X": 5}}]}}]}
    refused = call(client, "CreateMediaConvertTask", bad, key=key, expect=400)
    assert refused["Code"] == "InvalidArgument.Crop.Width"
    assert Task.objects.count() == 1


def test_suggest_moments_through_the_api(worker, clips, client):
    """SuggestMoments runs on the worker and answers the three busy, loud
    stretches of the clip, edged on its cuts; no task is made."""
    storage.s3_client().put_object(
        Bucket=BUCKET, Key="moments/highlights.mp4", Body=clips.highlights().read_bytes()
    )
    _, key = make_project_with_key("test-project")
    body = {
        "ProjectName": "test-project",
        "Sources": [{"URI": f"oss://{BUCKET}/moments/highlights.mp4"}],
        "Duration": 4,
    }
    answer = call(client, "SuggestMoments", body, key=key)
    spans = sorted((m["StartTime"], m["EndTime"]) for m in answer["Moments"])
    assert spans == [(3.0, 7.0), (13.0, 17.0), (23.0, 27.0)]
    assert all(m["StartsOnCut"] and m["EndsOnCut"] for m in answer["Moments"])
    assert not Task.objects.exists() and not UsageRecord.objects.exists()
    two = call(client, "SuggestMoments", {**body, "Number": 2}, key=key)
    assert len(two["Moments"]) == 2
    for bad, field in [({"Duration": 0}, "Duration"), ({"Number": 11}, "Number")]:
        refused = call(client, "SuggestMoments", {**body, **bad}, key=key, expect=400)
        assert refused["Code"] == f"InvalidArgument.{field}"
    missing = {**body, "Sources": [{"URI": f"oss://{BUCKET}/moments/none.mp4"}]}
    assert (
        call(client, "SuggestMoments", missing, key=key, expect=404)["Code"] == "ResourceNotFound"
    )


def test_estimate_answers_frames_size_and_bytes_without_a_task(worker, clips, client):
    """EstimateMediaConvertTask takes CreateMediaConvertTask's body and
    answers each animation's frames, size and estimated bytes, close to what
    the conversion then makes; it queues and bills nothing."""
    storage.s3_client().put_object(
        Bucket=BUCKET, Key="estimate/moving.mp4", Body=clips.moving(duration=3).read_bytes()
    )
    _, key = make_project_with_key("test-project")
    body = {
        "ProjectName": "test-project",
        "Sources": [{"URI": f"oss://{BUCKET}/estimate/moving.mp4"}],
        "Targets": [
            {"Image": {"Animations": [
                {"Format": "gif", "FrameRate": 10, "Width": 160, "URI": f"oss://{BUCKET}/estimate/a.gif"},
                {"Format": "webp", "FrameRate": 5, "Width": 0.5, "Boomerang": True,
                 "URI": f"oss://{BUCKET}/estimate/b.webp"},
            ]}}
        ],
    }  # fmt: skip
    answer = call(client, "EstimateMediaConvertTask", body, key=key)
    first, second = answer["Animations"]
    assert (first["Index"], first["Frames"], first["Width"], first["Height"]) == (0, 30, 160, 120)
    assert (second["Frames"], second["Width"], second["Height"]) == (2 * 15 - 2, 160, 120)
    for estimate in (first, second):
        assert estimate["EstimatedBytesLow"] <= estimate["EstimatedBytes"]
        assert estimate["EstimatedBytes"] <= estimate["EstimatedBytesHigh"]
    assert not Task.objects.exists() and not UsageRecord.objects.exists()
    created = call(client, "CreateMediaConvertTask", body, key=key)
    outputs = finished(client, key, created["TaskId"], worker)["Outputs"]
    for estimate, output in zip((first, second), outputs, strict=True):
        assert estimate["Frames"] == output["Frames"]
        assert 0.6 < estimate["EstimatedBytes"] / output["Bytes"] < 1.6, (estimate, output)
    refused = call(client, "EstimateMediaConvertTask", {**body, "Sources": []}, key=key, expect=400)
    assert refused["Code"] == "InvalidArgument.Sources"
