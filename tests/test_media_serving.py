"""Outputs and renditions served like a media host, in both delivery modes:
exact types, nosniff, ETag and Last-Modified with 304, byte ranges for the
MP4, cache lifetimes by URL kind, and RFC 6266 downloads; redirects pin
the type and the disposition in the signed URL."""

from __future__ import annotations

import urllib.error
import urllib.request
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from converter.models import Task
from converter.services import conversion
from tests.factories import make_task, make_user, task_spec

pytestmark = pytest.mark.django_db(transaction=True)


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def finished(clips):
    owner = make_user("media-owner")
    task = make_task(
        clips.quadrants(duration=2, fps=10),
        owner=owner,
        spec=task_spec(interval=0.1, frame_rate=10, width=None),
        original_filename="釀酒 night.mov",
    )
    conversion.task_run(task)
    task.refresh_from_db()
    assert task.status == Task.Status.SUCCEEDED, (task.code, task.message)
    client = Client()
    client.force_login(owner)
    return task, task.outputs.get(), client


def test_etag_and_last_modified_revalidate_with_304(finished):
    task, output, client = finished
    url = f"/tasks/{task.public_id}/0.gif"
    first = client.get(url)
    assert first.status_code == 200 and first["Content-Type"] == "image/gif"
    assert first["X-Content-Type-Options"] == "nosniff" and first["Accept-Ranges"] == "bytes"
    etag, modified = first["ETag"], first["Last-Modified"]
    assert etag.startswith('"') and parsedate_to_datetime(modified)
    assert len(body(first)) == output.bytes
    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and not again.content and again["ETag"] == etag
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=modified).status_code == 304
    assert client.get(url, HTTP_IF_NONE_MATCH='"another"').status_code == 200


def test_byte_ranges_of_the_mp4_let_a_player_seek(finished):
    task, output, _ = finished
    url = f"/s/{task.share_key}/0.mp4"
    whole = body(Client().get(url))
    assert len(whole) == output.video_bytes > 200
    part = Client().get(url, HTTP_RANGE="bytes=100-199")
    assert part.status_code == 206 and part["Content-Type"] == "video/mp4"
    assert part["Content-Range"] == f"bytes 100-199/{len(whole)}"
    assert part["Content-Length"] == "100" and body(part) == whole[100:200]
    tail = Client().get(url, HTTP_RANGE="bytes=-50")
    assert tail.status_code == 206 and body(tail) == whole[-50:]
    rest = Client().get(url, HTTP_RANGE=f"bytes={len(whole) - 10}-")
    assert body(rest) == whole[-10:]
    past = Client().get(url, HTTP_RANGE=f"bytes={len(whole)}-")
    assert past.status_code == 416 and past["Content-Range"] == f"bytes */{len(whole)}"
    stale = Client().get(url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"another version"')
    assert stale.status_code == 200 and body(stale) == whole  # If-Range of another: all of it


def test_cache_lifetimes_follow_the_url(finished):
    task, output, client = finished
    owner_url = f"/tasks/{task.public_id}/0.gif"
    assert client.get(owner_url)["Cache-Control"] == "private, max-age=3600"
    versioned = client.get(owner_url, {"v": output.content_version})
    assert versioned["Cache-Control"] == "private, max-age=31536000, immutable"
    shared = Client().get(f"/s/{task.share_key}/0.gif")
    assert shared["Cache-Control"] == "public, max-age=300, s-maxage=60"
    # A version that is not the file's own is an unversioned URL.
    other = Client().get(f"/s/{task.share_key}/0.gif", {"v": "1-2-3"})
    assert other["Cache-Control"] == "public, max-age=300, s-maxage=60"
    shared_versioned = Client().get(f"/s/{task.share_key}/0.gif", {"v": output.content_version})
    assert "immutable" in shared_versioned["Cache-Control"]
    assert "s-maxage=60" in shared_versioned["Cache-Control"]  # a revoked link dies in a minute
    page = Client().get(f"/s/{task.share_key}/")
    assert "s-maxage=30" in page["Cache-Control"]


def test_downloads_are_attachments_with_an_rfc_6266_name(finished):
    task, _, client = finished
    inline = client.get(f"/tasks/{task.public_id}/0.gif")
    assert inline["Content-Disposition"].startswith("inline")
    download = client.get(f"/tasks/{task.public_id}/0.gif", {"download": "1"})
    disposition = download["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert "filename*=utf-8''%E9%87%80%E9%85%92%20night.gif" in disposition
    shared = Client().get(f"/s/{task.share_key}/0.gif", {"download": "1"})
    assert shared["Content-Disposition"] == 'attachment; filename="animation.gif"'


def test_head_requests_are_answered(finished):
    task, _, _ = finished
    response = Client().head(f"/s/{task.share_key}/0.mp4")
    assert response.status_code == 200 and response["Content-Type"] == "video/mp4"


@pytest.mark.parametrize(
    ("ext", "kind"), [("gif", "image/gif"), ("mp4", "video/mp4"), ("jpg", "image/jpeg")]
)
def test_redirects_pin_the_type_and_the_disposition(finished, settings, ext, kind):
    settings.CONVERTER_DELIVERY = "redirect"
    task, _, _ = finished
    for download in ("", "1"):
        response = Client().get(
            f"/s/{task.share_key}/0.{ext}", {"download": download} if download else {}
        )
        assert response.status_code == 302
        query = parse_qs(urlsplit(response["Location"]).query)
        assert query["response-content-type"] == [kind]
        want = f'{"attachment" if download else "inline"}; filename="animation.{ext}"'
        assert query["response-content-disposition"] == [want]
        with urllib.request.urlopen(response["Location"]) as fetched:  # noqa: S310  (our S3 server)
            assert fetched.headers["Content-Type"] == kind
            assert fetched.headers["Content-Disposition"] == want


def test_storage_answers_ranges_and_revalidation_behind_a_redirect(finished, settings):
    """Redirect delivery hands the request to S3, which must seek and
    revalidate as we do: a range of the MP4 and a 304 on its ETag."""
    settings.CONVERTER_DELIVERY = "redirect"
    task, output, _ = finished
    location = Client().get(f"/s/{task.share_key}/0.mp4")["Location"]
    ranged = urllib.request.Request(location, headers={"Range": "bytes=100-199"})  # noqa: S310
    with urllib.request.urlopen(ranged) as fetched:  # noqa: S310  (our S3 server)
        assert fetched.status == 206 and len(fetched.read()) == 100
        assert fetched.headers["Content-Range"] == f"bytes 100-199/{output.video_bytes}"
    with urllib.request.urlopen(location) as fetched:  # noqa: S310
        etag = fetched.headers["ETag"]
    again = urllib.request.Request(location, headers={"If-None-Match": etag})  # noqa: S310
    with pytest.raises(urllib.error.HTTPError) as not_modified:
        urllib.request.urlopen(again)  # noqa: S310
    assert not_modified.value.code == 304
