"""The reference's request parsed into specs, and what the pipeline makes of
them (no database, no S3)."""

from __future__ import annotations

import numpy as np
import pytest

from converter.bench.decode import decode
from converter.pipeline.convert import convert
from converter.pipeline.limits import Limits
from converter.pipeline.probe import probe
from converter.spec import ImmRequest, ObjectUri, SpecError, expand_uri


def request(animations: list[dict], **extra) -> dict:
    return {
        "ProjectName": "p",
        "Sources": [{"URI": "s3://media/in/clips/cat.mov"}],
        "Targets": [{"Image": {"Animations": animations}}],
        **extra,
    }


def test_uri_templates_expand_every_variable():
    source = ObjectUri.parse("oss://media/in/clips/cat.video.mov")
    uri = expand_uri(
        "oss://{bucket}/{dirname}/{barename}|{basename}|{ext}/{index}-{tags.team}.{autoext}",
        source=source,
        source_name="",
        fmt="gif",
        index=2,
        tags={"team": "blue"},
    )
    assert uri == "oss://media/in/clips/cat.video|cat.video.mov|mov/2-blue.gif"


def test_several_targets_and_animations_each_get_an_index_and_a_uri():
    body = request([{"Format": "gif", "URI": "s3://media/out/{barename}-{index}.{autoext}"}])
    body["Targets"].append(
        {
            "Image": {
                "Animations": [
                    {"Format": "webp", "URI": "s3://media/out/{barename}-{index}.{autoext}"},
                    {"Format": "gif", "Interval": 2, "URI": "s3://media/out/b.{autoext}"},
                ]
            }
        }
    )
    parsed = ImmRequest.parse(body)
    assert parsed.source == ObjectUri("s3", "media", "in/clips/cat.mov")
    assert parsed.target_uris() == [
        "s3://media/out/cat-0.gif",
        "s3://media/out/cat-1.webp",
        "s3://media/out/b.gif",
    ]
    assert parsed.spec.animations[2].frame_rate == 0.5  # default 1/Interval


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"Sources": [{"URI": "http://host/x.mp4"}]}, "InvalidArgument.Sources.URI"),
        ({"Sources": [{"URI": "oss://b/x"}, {"URI": "oss://b/y"}]}, "InvalidArgument.Sources"),
        ({"Sources": [{"URI": "oss://media/x", "Duration": -1}]}, "InvalidArgument.Duration"),
        ({"Targets": [{"Video": {}}]}, "InvalidArgument.Targets"),
        (
            {
                "Targets": [
                    {
                        "Image": {
                            "Snapshots": [{}],
                            "Animations": [{"Format": "gif", "URI": "oss://media/a"}],
                        }
                    }
                ]
            },
            "InvalidArgument.Targets.Image",
        ),
        ({"Tags": {"bad key": "x"}}, "InvalidArgument.Tags"),
        ({"Notification": {"RocketMQ": {}}}, "InvalidArgument.Notification"),
        (
            {"Notification": {"Webhook": {"URL": "ftp://x"}}},
            "InvalidArgument.Notification.Webhook.URL",
        ),
        (
            {"Notification": {"MNS": {"TopicName": ""}}},
            "InvalidArgument.Notification.MNS.TopicName",
        ),
        ({"ProjectName": ""}, "InvalidArgument.ProjectName"),
    ],
)
def test_invalid_requests_name_the_field(body, code):
    with pytest.raises(SpecError) as exc:
        ImmRequest.parse({**request([{"Format": "gif", "URI": "oss://media/a.gif"}]), **body})
    assert exc.value.code == code


def test_an_animation_without_a_uri_or_with_an_unknown_variable_is_refused():
    for uri, code in [
        ("", "InvalidArgument.URI"),
        ("oss://media/{nope}.gif", "InvalidArgument.URI"),
        ("media/a.gif", "InvalidArgument.URI"),
    ]:
        with pytest.raises(SpecError) as exc:
            ImmRequest.parse(request([{"Format": "gif", "URI": uri}]))
        assert exc.value.code == code


@pytest.mark.parametrize(
    ("scale_type", "size"),
    [
        ("stretch", (100, 100)),
        ("crop", (100, 100)),
        ("fill", (100, 100)),
        ("fit", (100, 75)),
    ],
)
def test_each_scale_type_gives_its_exact_geometry(clips, scale_type, size):
    parsed = ImmRequest.parse(
        request(
            [
                {
                    "Format": "webp",
                    "Interval": 1,
                    "Number": 2,
                    "Width": 100,
                    "Height": 100,
                    "ScaleType": scale_type,
                    "URI": "oss://media/x.{autoext}",
                }
            ]
        )
    )
    source = clips.moving()  # 320x240
    info = probe(source, Limits())
    result = convert(source, info, parsed.spec.animations[0], limits=Limits())
    image = decode(result.data)
    frames = image.frames
    assert image.size == size == (result.width, result.height) and len(frames) == 2
    if scale_type == "fill":  # 100x75 picture centred with black bars above and below
        rgb = frames[0][..., :3].astype(int)
        bars = rgb[:10], rgb[-10:]  # black, apart from lossy ringing off the picture's edge
        assert all(bar.mean() < 6 and bar.max() < 40 for bar in bars) and rgb[40:60].max() > 64


def test_frame_k_is_the_source_frame_at_start_plus_k_intervals(clips):
    """Sources StartTime 1 + animation StartTime 2, Interval 0.5, Number 4 on a
    24 fps clip whose frame n has brightness n: frames 72, 84, 96, 108, each
    shown 1/FrameRate = 1/(1/Interval) = 0.5 s."""
    body = request(
        [
            {
                "Format": "webp",
                "Interval": 0.5,
                "Number": 4,
                "StartTime": 2,
                "Quality": "best",
                "URI": "oss://media/x.{autoext}",
            }
        ]
    )
    body["Sources"][0]["StartTime"] = 1
    parsed = ImmRequest.parse(body)
    source = clips.indexed()
    info = probe(source, Limits())
    result = convert(
        source,
        info,
        parsed.spec.animations[0],
        trim_start=parsed.spec.trim.start,
        trim_duration=parsed.spec.trim.duration,
        limits=Limits(),
    )
    anim = decode(result.data)
    frames, durations = anim.frames, anim.durations
    levels = [float(np.median(f[..., :3])) for f in frames]
    expected = [72, 84, 96, 108]
    assert len(levels) == 4, levels
    assert all(abs(a - b) <= 3 for a, b in zip(levels, expected, strict=True)), levels
    assert durations == [500] * 4
