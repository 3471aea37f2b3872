"""The request parser never fails with anything but SpecError, whatever JSON
it is given (hypothesis)."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from converter.spec import AnimationSpec, SpecError, TaskSpec, Trim

FIELDS = ["Format", "Interval", "FrameRate", "Number", "StartTime", "Width", "Height", "ScaleType",
          "URI", "Quality", "Loop", "Duration"]

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.sampled_from(["gif", "webp", "GIF", "fit", "crop", "1e400", "-0", "nan", "inf", "0x10", " 1 ", "１"]),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=8,
)
requests = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=12), json_values, max_size=8)
anything = st.one_of(requests, json_values)

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _valid(spec: AnimationSpec) -> None:
    assert spec.format in ("gif", "webp")
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
        assert exc.code.startswith("InvalidArgument") and exc.message
        return
    _valid(spec)


@FUZZ
@given(anything)
def test_trim_parse_raises_only_spec_error(data):
    try:
        trim = Trim.parse(data)
    except SpecError as exc:
        assert exc.code.startswith("InvalidArgument") and exc.message
        return
    assert math.isfinite(trim.start) and trim.start >= 0 and math.isfinite(trim.duration) and trim.duration >= 0


@FUZZ
@given(st.fixed_dictionaries({"Format": st.sampled_from(["gif", "webp"])}, optional={
    k: json_scalars for k in FIELDS if k != "Format"}))
def test_nearly_valid_animations_raise_only_spec_error(data):
    try:
        _valid(AnimationSpec.parse(data))
    except SpecError:
        pass


if hasattr(TaskSpec, "parse"):  # the IMM request parser (issue 3)

    @FUZZ
    @given(anything)
    def test_task_parse_raises_only_spec_error(data):
        try:
            TaskSpec.parse(data)
        except SpecError:
            pass
