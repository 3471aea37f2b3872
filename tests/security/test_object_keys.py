"""An object key the API names reaches only the object it spells: every other
spelling of a separator is refused before any check, so no key can land
under the prefixes the app keeps its own files in, and the API's default
bucket is not the app's."""

from __future__ import annotations

import urllib.request

import pytest

from converter import storage
from converter.errors import LoopforgeError
from converter.spec import ObjectUri, SpecError, key_problem
from tests.api import call
from tests.factories import make_finished_task, make_project_with_key

HOSTILE_KEYS = [
    "outputs\\victim\\0-animation.gif",  # SeaweedFS stores it as outputs/victim/...
    "x\\..\\outputs/a.gif",
    "outputs//a.gif",
    "/outputs/a.gif",
    "a//b.gif",
    "folder/",
    "./outputs/a.gif",
    "a/./b.gif",
    "a/../outputs/b.gif",
    "..",
    "outputs%2Fa.gif",
    "outputs%2fa.gif",
    "outputs%5Ca.gif",
    "a/%2E%2E/outputs/b.gif",
    "a\tb.gif",
    "a\x7fb.gif",
]


@pytest.mark.parametrize("key", HOSTILE_KEYS)
def test_every_other_spelling_of_a_separator_is_refused(key):
    assert key_problem(key)
    with pytest.raises(SpecError):
        ObjectUri.parse(f"oss://bucket/{key}")


@pytest.mark.parametrize("key", ["a.gif", "in/clip 1.mp4", "out/blue/釀酒-1.gif", "100%.gif"])
def test_plain_keys_pass(key):
    assert key_problem(key) is None
    assert ObjectUri.parse(f"s3://bucket/{key}").key == key


def test_the_api_has_a_bucket_of_its_own_by_default(settings):
    assert settings.CONVERTER_S3_BUCKET not in settings.CONVERTER_API_BUCKETS
    with pytest.raises(LoopforgeError) as refused:
        storage.object_check_allowed(settings.CONVERTER_S3_BUCKET, "anything.gif", "p")
    assert refused.value.code == "Forbidden"


@pytest.mark.parametrize("key", ["outputs\\a.gif", "x//outputs/a.gif", "sources/a", "misc/x"])
def test_the_check_sees_the_key_the_server_would_store(key, settings):
    """Keys that do not come through ObjectUri (a playlist's segments) are
    checked in the same way, on an installation that opens the app's bucket."""
    settings.CONVERTER_API_BUCKETS = [settings.CONVERTER_S3_BUCKET]
    with pytest.raises(LoopforgeError) as refused:
        storage.object_check_allowed(settings.CONVERTER_S3_BUCKET, key, "p")
    assert refused.value.code == "Forbidden"


@pytest.mark.django_db
def test_a_presigned_put_cannot_overwrite_another_persons_animation(client, clips, settings):
    """The attack: a key spelled with backslashes passed the reserved-prefix
    check, and the pre-signed PUT replaced a stranger's animation."""
    app_bucket = settings.CONVERTER_S3_BUCKET
    settings.CONVERTER_API_BUCKETS = [app_bucket, *settings.CONVERTER_API_BUCKETS]
    victim = make_finished_task(clips.moving())
    output = victim.outputs.get()
    stored = f"{output.file.storage.location}/{output.file.name}"  # outputs/<task>/...
    assert stored.startswith("outputs/")
    before = storage.object_read(app_bucket, stored)
    _project, key = make_project_with_key("attacker")
    for spelling in (stored.replace("/", "\\"), stored.replace("/", "//", 1)):
        answer = call(
            client,
            "CreateUploadURL",
            {"ProjectName": "attacker", "URI": f"oss://{app_bucket}/{spelling}"},
            key=key,
            expect=400,
        )
        assert answer["Code"] == "InvalidArgument.URI", answer
    # The spelled-out key is refused as well, so nothing can have been signed.
    call(
        client,
        "CreateUploadURL",
        {"ProjectName": "attacker", "URI": f"oss://{app_bucket}/{stored}"},
        key=key,
        expect=403,
    )
    assert storage.object_read(app_bucket, stored) == before


@pytest.mark.django_db
def test_the_api_bucket_exists_and_takes_uploads(client, settings):
    """The default API bucket is created with the S3 server, so the API
    works out of the box."""
    bucket = settings.CONVERTER_API_BUCKETS[0]
    _project, key = make_project_with_key("own")
    answer = call(
        client,
        "CreateUploadURL",
        {"ProjectName": "own", "URI": f"oss://{bucket}/in/a.mp4"},
        key=key,
    )
    request = urllib.request.Request(answer["UploadURL"], data=b"bytes", method="PUT")  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert response.status == 200
    assert storage.object_read(bucket, "in/a.mp4") == b"bytes"
