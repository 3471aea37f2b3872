"""The editor's background upload (a draft) and Convert from it, through
Django's test client: the probe's facts come back at once, Convert makes the
task from the stored source without the file, and a draft is its owner's
and makes one task."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import av
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from converter import reconcile
from converter.models import Draft, Task
from converter.services import conversion, preview_jobs
from converter.uploads import too_large
from tests.factories import form_data, make_user, upload_of
from tests.poll import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def two_seconds(clips):
    # A name of its own: the session's clips are cached by name.
    return clips.moving(duration=2, name="two-seconds.mp4")


def draft_post(client, upload):
    return client.post(
        reverse("converter:draft-create"), {"video": upload}, HTTP_ACCEPT="application/json"
    )


def convert(client, draft_id, **overrides):
    data = form_data("", draft=draft_id, **overrides)
    del data["video"]  # the editor sends no file with Convert
    return client.post(reverse("converter:upload"), data, HTTP_ACCEPT="application/json")


def test_a_chosen_video_is_stored_and_probed_at_once(user_client, clips):
    response = draft_post(user_client, upload_of(two_seconds(clips)))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["draft_id"].startswith("dr-")
    assert (body["width"], body["height"], body["fps"]) == (320, 240, 25)
    assert body["duration"] == pytest.approx(2, abs=0.05)
    assert body["audio_only"] is False and body["max_output_frames"] == 1000
    assert (body["container"], body["codec"]) == ("mov", "h264")  # ffmpeg: mov,mp4,...
    draft = Draft.objects.get(public_id=body["draft_id"])
    assert draft.owner == user_client.user and draft.task is None
    assert draft.original_filename == "two-seconds.mp4"
    with draft.source.open("rb") as f:
        assert f.read() == two_seconds(clips).read_bytes()
    assert not Task.objects.exists()  # nothing is queued before Convert


def test_convert_makes_the_task_from_the_draft_without_the_file(user_client, clips):
    draft_id = draft_post(user_client, upload_of(two_seconds(clips))).json()["draft_id"]
    response = convert(user_client, draft_id, start="0.5", duration="1", fps="4", format="webp")
    assert response.status_code == 201, response.content
    task = Task.objects.get(public_id=response.json()["task_id"])
    draft = Draft.objects.get(public_id=draft_id)
    assert draft.task == task and draft.claimed_at is not None
    assert task.source.name == draft.source.name and task.original_filename == "two-seconds.mp4"
    assert task.spec["trim"] == {"start": 0.5, "duration": 1.0}
    conversion.task_run(task)  # what the worker runs, inline
    task.refresh_from_db()
    assert task.status == Task.Status.SUCCEEDED, (task.code, task.message)
    assert task.outputs.get().frames == 4


def test_another_persons_draft_is_not_found(user_client, clips):
    draft_id = draft_post(user_client, upload_of(two_seconds(clips))).json()["draft_id"]
    other = Client()
    other.force_login(make_user())
    assert convert(other, draft_id).status_code == 404
    assert convert(other, "dr-" + "0" * 32).status_code == 404
    assert not Task.objects.exists()
    assert convert(user_client, draft_id).status_code == 201  # still its owner's to use


def test_a_draft_makes_one_task(user_client, clips):
    draft_id = draft_post(user_client, upload_of(two_seconds(clips))).json()["draft_id"]
    assert convert(user_client, draft_id).status_code == 201
    again = convert(user_client, draft_id, fps="5")
    assert again.status_code == 409
    assert again.json()["code"] == "DraftUsed"
    assert "already converted" in again.json()["errors"]["video"][0]
    assert Task.objects.count() == 1


def test_a_refused_convert_leaves_the_draft_for_the_next_try(user_client, clips):
    draft_id = draft_post(user_client, upload_of(two_seconds(clips))).json()["draft_id"]
    late = convert(user_client, draft_id, start="5")
    assert late.status_code == 400 and late.json()["code"] == "StartTimeOutOfRange"
    bad = convert(user_client, draft_id, size="pixels", width="")
    assert bad.status_code == 400 and "width" in bad.json()["errors"]
    assert Draft.objects.get(public_id=draft_id).task is None
    assert convert(user_client, draft_id).status_code == 201


def test_a_file_that_is_no_video_is_refused_with_the_reason(user_client):
    notes = SimpleUploadedFile("notes.mp4", b"not a video at all\n" * 50)
    response = draft_post(user_client, notes)
    assert response.status_code == 400
    assert "not a video format we can read" in response.json()["message"]
    assert not Draft.objects.exists()


def test_a_draft_over_the_size_limit_is_refused(user_client, settings):
    settings.CONVERTER_MAX_UPLOAD_BYTES = 4096
    response = draft_post(user_client, SimpleUploadedFile("big.mp4", b"\0" * 8192))
    assert response.status_code == 413
    assert response.json()["message"] == too_large().message
    assert not Draft.objects.exists()


def test_an_audio_draft_converts_only_as_a_waveform(user_client, clips):
    body = draft_post(user_client, upload_of(clips.audio_only("mp3"))).json()
    assert body["audio_only"] is True
    picture = convert(user_client, body["draft_id"])
    assert picture.status_code == 400 and picture.json()["code"] == "NoVideoStream"
    assert convert(user_client, body["draft_id"], waveform="on").status_code == 201


def test_the_reconciler_removes_old_unclaimed_drafts_only(user_client, clips):
    ids = [
        draft_post(user_client, upload_of(two_seconds(clips))).json()["draft_id"] for _ in range(3)
    ]
    assert convert(user_client, ids[0]).status_code == 201
    old = Draft.objects.get(public_id=ids[1])
    Draft.objects.filter(public_id__in=ids[:2]).update(
        created_at=old.created_at - timedelta(days=2)
    )
    storage, name = old.source.storage, old.source.name
    assert storage.exists(name)

    assert reconcile.reconcile().removed_drafts == 1  # the pass the reconciler runs
    assert not storage.exists(name)
    assert set(Draft.objects.values_list("public_id", flat=True)) == {ids[0], ids[2]}
    claimed = Draft.objects.get(public_id=ids[0])
    assert claimed.source.storage.exists(claimed.task.source.name)  # the task's source now
    assert reconcile.sweep_drafts() == 0


def test_drafts_need_a_login(client, clips):
    response = draft_post(client, upload_of(two_seconds(clips)))
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not Draft.objects.exists()


def test_the_server_finds_the_black_bars_of_a_draft_for_the_editor(user_client, clips, worker):
    """The draft's preview is a job on the previews queue, run by a real
    worker; the editor polls the draft's URL until it is ready."""
    body = draft_post(user_client, upload_of(clips.quadrants(bars="letterbox"))).json()
    assert body["preview"]["state"] == "pending"

    def ready():
        preview = user_client.get(body["url"]).json()["preview"]
        return preview if preview["state"] != "pending" else None

    preview = wait_until(ready, timeout_s=60, what="the draft's preview")
    bars = {"x": 0, "y": 40, "width": 320, "height": 240}
    assert preview["state"] == "ready" and preview["bars"] == bars


def test_a_video_a_browser_cannot_play_gets_an_h264_proxy(user_client, clips, worker):
    """An AVI plays in no browser: the preview job makes an H.264 MP4 of it
    on the source's clock, which the editor plays instead; an MP4 needs none."""
    body = draft_post(user_client, upload_of(clips.container("avi-mpeg4"))).json()
    preview = wait_until(
        lambda: (p := user_client.get(body["url"]).json()["preview"])["state"] != "pending" and p,
        timeout_s=60,
        what=lambda: f"the draft's preview (worker log: {worker.log()[-2000:]})",
    )
    assert preview["state"] == "ready" and preview["proxy_url"], preview
    response = user_client.get(preview["proxy_url"])
    assert response.status_code == 200 and response["Content-Type"] == "video/mp4"
    with av.open(io.BytesIO(b"".join(response.streaming_content))) as video:
        assert [s.type for s in video.streams] == ["video"]
        stream = video.streams.video[0]
        assert (stream.codec_context.name, stream.width, stream.height) == ("h264", 320, 240)
        frames = sum(1 for _ in video.decode(stream))
    assert frames == 30  # 2 s at 15 fps: the source's clock
    other = Client()
    other.force_login(make_user("other-proxy-viewer"))
    assert other.get(preview["proxy_url"]).status_code == 404

    # Convert discards the proxy; the task reads the source itself.
    draft = Draft.objects.get(public_id=body["draft_id"])
    name = draft.proxy.name
    assert convert(user_client, body["draft_id"]).status_code == 201
    assert not draft.proxy.storage.exists(name)

    mp4 = draft_post(user_client, upload_of(two_seconds(clips))).json()
    wait_until(lambda: user_client.get(mp4["url"]).json()["preview"]["state"] == "ready", 60)
    assert user_client.get(mp4["url"]).json()["preview"]["proxy_url"] is None


def test_a_preview_whose_source_is_gone_fails_with_the_code(user_client, clips):
    body = draft_post(user_client, upload_of(two_seconds(clips))).json()
    draft = Draft.objects.get(public_id=body["draft_id"])
    draft.source.storage.delete(draft.source.name)  # gone from storage, still named
    preview_jobs.draft_preview_make(draft)
    preview = user_client.get(body["url"]).json()["preview"]
    assert preview == {"state": "failed", "bars": None, "code": "SourceNotFound", "proxy_url": None}


def test_another_persons_draft_preview_is_not_found(user_client, clips):
    url = draft_post(user_client, upload_of(two_seconds(clips))).json()["url"]
    other = Client()
    other.force_login(make_user("other-previewer"))
    assert other.get(url).status_code == 404


def test_edit_again_opens_the_editor_on_a_copy_of_the_source_with_the_settings(user_client, clips):
    """Edit again from a task: a new draft of the same video (copied in
    storage, not uploaded), the editor's fields set as the task asked, and
    Convert makes a variant from it without a file."""
    source = clips.quadrants()
    draft_id = draft_post(user_client, upload_of(source)).json()["draft_id"]
    captions = '[{"Text": "你好", "Position": "top"}]'
    first = convert(
        user_client, draft_id, fps="5", format="webp", start="0.5", speed="2.0", reverse="on",
        crop_x="160", crop_y="0", crop_width="160", crop_height="120", captions=captions,
    )  # fmt: skip
    task = Task.objects.get(public_id=first.json()["task_id"])
    conversion.task_run(task)
    task.refresh_from_db()
    assert task.status == Task.Status.SUCCEEDED, (task.code, task.message)
    assert b"Edit again" in user_client.get(f"/tasks/{task.public_id}/").content

    response = user_client.post(f"/tasks/{task.public_id}/edit")
    assert response.status_code == 302
    again = Draft.objects.exclude(public_id=draft_id).get()
    assert response["Location"] == f"/?draft={again.public_id}&from={task.public_id}"
    assert again.task is None and again.source.name != task.source.name
    with again.source.open("rb") as f:
        assert f.read() == source.read_bytes()

    page = user_client.get(response["Location"])
    form = page.context["form"]
    assert form.initial["draft"] == again.public_id
    expected = {
        "format": "webp", "fps": 5.0, "start": 0.5, "speed": "2.0", "reverse": True,
        "crop_x": 160, "crop_y": 0, "crop_width": 160, "crop_height": 120,
    }  # fmt: skip
    assert {k: form.initial[k] for k in expected} == expected
    assert json.loads(form.initial["captions"]) == [
        {"Text": "你好", "Size": 0.1, "Color": "#ffffff", "OutlineColor": "#000000",
         "Position": "top", "StartTime": 0}
    ]  # fmt: skip
    assert page.context["draft_facts"]["draft_id"] == again.public_id
    played = user_client.get(page.context["draft_facts"]["source_url"])
    assert played.status_code == 200 and played["Content-Type"] == "video/webm"
    assert b"".join(played.streaming_content) == source.read_bytes()

    variant = convert(user_client, again.public_id, fps="5", format="gif", size="half")
    assert variant.status_code == 201, variant.content
    made = Task.objects.get(public_id=variant.json()["task_id"])
    assert made.source.name != task.source.name and made.spec["animations"][0]["format"] == "gif"


def test_edit_again_is_refused_for_another_persons_task(user_client, clips):
    draft_id = draft_post(user_client, upload_of(two_seconds(clips))).json()["draft_id"]
    task_id = convert(user_client, draft_id).json()["task_id"]
    other = Client()
    other.force_login(make_user("other-editor"))
    assert other.post(f"/tasks/{task_id}/edit").status_code == 404
    assert Draft.objects.count() == 1


def test_another_persons_draft_source_is_not_found(user_client, clips):
    url = draft_post(user_client, upload_of(two_seconds(clips))).json()["source_url"]
    other = Client()
    other.force_login(make_user("other-viewer"))
    assert other.get(url).status_code == 404
    assert user_client.get(url).status_code == 200


def test_suggested_moments_are_found_by_a_job_and_polled(user_client, clips, worker):
    body = draft_post(user_client, upload_of(clips.highlights())).json()
    asked = user_client.post(body["moments_url"], {"length": "4"})
    assert asked.status_code == 202 and asked.json()["moments"]["state"] == "pending"
    found = wait_until(
        lambda: (m := user_client.get(body["url"]).json()["moments"])["state"] != "pending" and m,
        timeout_s=60,
        what=lambda: f"the moments (worker log: {worker.log()[-2000:]})",
    )
    assert found["state"] == "ready" and found["length"] == 4
    spans = sorted((m["start"], m["end"]) for m in found["items"])
    assert spans == [(3.0, 7.0), (13.0, 17.0), (23.0, 27.0)]
    assert not Task.objects.exists()  # nothing queued for conversion, nothing billed


@pytest.mark.parametrize("length", ["", "0.1", "61", "soon"])
def test_suggested_moments_need_a_sensible_length(user_client, clips, length):
    body = draft_post(user_client, upload_of(two_seconds(clips))).json()
    refused = user_client.post(body["moments_url"], {"length": length})
    assert refused.status_code == 400 and "length" in refused.json()["errors"]


def test_the_editor_estimate_answers_from_a_trial_encode(user_client, clips, worker):
    body = draft_post(user_client, upload_of(two_seconds(clips))).json()
    url = reverse("converter:draft-estimate", args=[body["draft_id"]])
    fields = {"format": "gif", "fps": "10", "size": "original", "quality": "balanced"}
    answer = user_client.post(url, fields)
    assert answer.status_code == 200, answer.content
    found = answer.json()
    assert (found["frames"], found["width"], found["height"]) == (20, 320, 240)
    assert found["low"] <= found["bytes"] <= found["high"] and found["bytes"] > 1000
    faster = user_client.post(url, {**fields, "fps": "5"}).json()
    assert faster["frames"] == 10 and faster["bytes"] < found["bytes"]
    refused = user_client.post(url, {**fields, "fps": "500"})
    assert refused.status_code == 400 and "fps" in refused.json()["errors"]
    assert not Task.objects.exists()
