"""The request parser never fails with anything but SpecError, whatever JSON
it is given (hypothesis)."""

from __future__ import annotations

import contextlib
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from converter.spec import FORMATS, AnimationSpec, SpecError, Trim

FIELDS = [
    "Format",
    "Interval",
    "FrameRate",
    "Number",
    "StartTime",
    "Width",
    "Height",
    "ScaleType",
    "URI",
    "Quality",
    "Loop",
    "Duration",
]

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(
        ["gif", "webp", "GIF", "fit", "crop", "1e400", "-0", "nan", "inf", "0x10", " 1 ", "１"]
    ),
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=8,
)
requests = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=12), json_values, max_size=8)
anything = st.one_of(requests, json_values)

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_refused_clearly(error: SpecError) -> None:
    """A refusal has an InvalidArgument code and a message saying why."""
    assert error.code.startswith("InvalidArgument") and error.message


def _valid(spec: AnimationSpec) -> None:
    assert spec.format in FORMATS
    for value in (spec.interval, spec.frame_rate, spec.start_time):
        assert math.isfinite(value) and value >= 0
    assert spec.number >= 0 and 0 <= spec.loop <= 65535
    str(spec)
    assert AnimationSpec.from_dict(spec.to_dict()) == spec


@FUZZ
@given(anything)
def test_animation_parse_raises_only_spec_error(data):
    try:
        spec = AnimationSpec.parse(data)
    except SpecError as exc:
        assert_refused_clearly(exc)
        return
    _valid(spec)


@FUZZ
@given(anything)
def test_trim_parse_raises_only_spec_error(data):
    try:
        trim = Trim.parse(data)
    except SpecError as exc:
        assert_refused_clearly(exc)
        return
    assert (
        math.isfinite(trim.start)
        and trim.start >= 0
        and math.isfinite(trim.duration)
        and trim.duration >= 0
    )


@FUZZ
@given(
    st.fixed_dictionaries(
        {"Format": st.sampled_from(FORMATS)},
        optional={k: json_scalars for k in FIELDS if k != "Format"},
    )
)
def test_nearly_valid_animations_raise_only_spec_error(data):
    with contextlib.suppress(SpecError):
        _valid(AnimationSpec.parse(data))


def _mostly(valid, hostile=None):
    """Valid values most of the time, so that parsing gets past the first field."""
    hostile = hostile if hostile is not None else json_values
    return st.one_of(valid, valid, valid, hostile)


def _imm_bodies():
    good_uri = st.sampled_from(
        ["oss://bkt/k.mov", "s3://bkt/v/釀酒.mov", "oss://bkt/a/{barename}-{index}.{autoext}"]
    )
    uri = _mostly(
        good_uri,
        st.sampled_from(
            [
                "oss://bkt/",
                "http://x/y",
                "oss:///k",
                "oss://bkt/{tags.x}",
                "oss://bkt/{nope}",
                "",
                "oss://bkt/../../k",
                5,
                None,
            ]
        ),
    )
    number = st.one_of(st.integers(-5, 5000), st.floats(-1, 1e6), json_scalars)
    animation = st.fixed_dictionaries(
        {"Format": _mostly(st.sampled_from(FORMATS), json_scalars), "URI": uri},
        optional={
            "Interval": number,
            "FrameRate": number,
            "Number": number,
            "StartTime": number,
            "Width": number,
            "Height": number,
            "Loop": number,
            "ScaleType": _mostly(st.sampled_from(["fit", "crop", "fill", "stretch"]), json_scalars),
            "Quality": json_scalars,
        },
    )
    source = st.fixed_dictionaries({"URI": uri}, optional={"StartTime": number, "Duration": number})
    target = st.fixed_dictionaries(
        {
            "Image": _mostly(
                st.fixed_dictionaries(
                    {"Animations": _mostly(st.lists(animation, min_size=1, max_size=3))}
                )
            )
        },
        optional={"URI": json_scalars, "Container": json_scalars},
    )
    notification = st.fixed_dictionaries(
        {},
        optional={
            "MNS": _mostly(
                st.fixed_dictionaries(
                    {"TopicName": _mostly(st.text(min_size=1, max_size=20), json_scalars)}
                )
            ),
            "Webhook": _mostly(
                st.fixed_dictionaries(
                    {
                        "URL": _mostly(
                            st.sampled_from(
                                [
                                    "https://example.com/h",
                                    "http://127.0.0.1:9/x",
                                    "ftp://x",
                                    "http://[::1]/",
                                ]
                            ),
                            json_scalars,
                        )
                    },
                    optional={"Secret": json_scalars},
                )
            ),
        },
    )
    return st.fixed_dictionaries(
        {
            "ProjectName": _mostly(st.just("p"), json_scalars),
            "Sources": _mostly(st.lists(source, min_size=1, max_size=1)),
            "Targets": _mostly(st.lists(target, min_size=1, max_size=2)),
        },
        optional={
            "UserData": _mostly(st.text(max_size=50), json_scalars),
            "Tags": _mostly(st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3)),
            "Notification": _mostly(notification),
        },
    )


try:
    from converter.spec import ImmRequest
except ImportError:  # before the API lands
    ImmRequest = None

if ImmRequest is not None:

    @FUZZ
    @given(st.one_of(_imm_bodies(), anything))
    def test_imm_request_parse_raises_only_spec_error(data):
        try:
            request = ImmRequest.parse(data)
        except SpecError as exc:
            assert_refused_clearly(exc)
            return
        for animation in request.spec.animations:
            _valid(animation)
        request.target_uris()
