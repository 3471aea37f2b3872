"""MP4 and AVIF asked for through the API, made by a real worker and written
to the real S3 server under {autoext}, with their content types."""

from __future__ import annotations

import pytest

from converter import storage
from converter.bench.decode import decode
from tests.api import call
from tests.factories import make_project_with_key
from tests.test_api_end_to_end import BUCKET, finished


@pytest.mark.parametrize(
    ("fmt", "decoded_as", "content_type"),
    [("mp4", "MP4", "video/mp4"), ("avif", "AVIF", "image/avif")],
)
def test_the_format_is_made_and_stored_under_its_extension(
    worker, clips, client, fmt, decoded_as, content_type
):
    storage.s3_client().put_object(
        Bucket=BUCKET, Key="formats/quadrants.mkv", Body=clips.quadrants().read_bytes()
    )
    _, key = make_project_with_key("test-project")
    animation = {
        "Format": fmt, "FrameRate": 10, "Width": 0.5,
        "Crop": {"X": 0, "Y": 0.5, "Width": 0.5, "Height": 0.4999},
        "Captions": [{"Text": "Bleu", "Color": "#FFFF00", "Size": 0.25, "Position": "top"}],
        "URI": f"oss://{BUCKET}/formats/out.{{autoext}}",
    }  # fmt: skip
    body = {
        "ProjectName": "test-project",
        "Sources": [{"URI": f"oss://{BUCKET}/formats/quadrants.mkv"}],
        "Targets": [{"Image": {"Animations": [animation]}}],
    }
    created = call(client, "CreateMediaConvertTask", body, key=key)
    output = finished(client, key, created["TaskId"], worker)["Outputs"][0]
    assert output["URI"] == f"oss://{BUCKET}/formats/out.{fmt}"
    head = storage.s3_client().head_object(Bucket=BUCKET, Key=f"formats/out.{fmt}")
    assert head["ContentType"] == content_type
    image = decode(storage.object_read(BUCKET, f"formats/out.{fmt}"), "RGB")
    assert image.format == decoded_as
    assert len(image.frames) == output["Frames"] and image.size == (
        output["Width"],
        output["Height"],
    )
    frame = image.frames[0].astype(int)
    assert all(abs(frame[55, 40] - (0, 0, 255)) <= 24)  # the blue quadrant: channels in order
    # the caption, drawn in the encoder's own channel order, comes out yellow
    yellow = (frame[..., 0] > 180) & (frame[..., 1] > 180) & (frame[..., 2] < 90)
    h = frame.shape[0]
    assert yellow[: h // 2].any() and not yellow[h // 2 :].any()
