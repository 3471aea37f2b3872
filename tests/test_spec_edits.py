"""The editor's animation fields (issue 13): Speed, Reverse, Boomerang."""

from __future__ import annotations

import pytest

from converter.spec import AnimationSpec, SpecError

BASE = {"Format": "gif", "FrameRate": 10}


def parse(**fields: object) -> AnimationSpec:
    return AnimationSpec.parse({**BASE, **fields})


def test_defaults_keep_the_canonical_form_of_older_specs():
    spec = parse()
    assert (spec.speed, spec.reverse, spec.boomerang) == (1.0, False, False)
    assert str(spec).endswith("-l0.gif")


def test_old_stored_specs_without_the_fields_still_load():
    stored = parse().to_dict()
    for key in ("speed", "reverse", "boomerang"):
        del stored[key]
    assert AnimationSpec.from_dict(stored) == parse()


@pytest.mark.parametrize("speed", [0.25, 0.5, 2, 4])
def test_speed_in_range_is_kept_and_named_in_the_canonical_form(speed):
    spec = parse(Speed=speed)
    assert spec.speed == speed
    assert f"-x{speed:g}" in str(spec)
    assert AnimationSpec.from_dict(spec.to_dict()) == spec


@pytest.mark.parametrize("speed", [0, 0.2, 4.5, -1, "fast", True, float("inf")])
def test_speed_out_of_range_or_not_a_number_is_refused(speed):
    with pytest.raises(SpecError) as caught:
        parse(Speed=speed)
    assert caught.value.field == "Speed"


@pytest.mark.parametrize(("key", "tag"), [("Reverse", "-rev"), ("Boomerang", "-boom")])
def test_order_flags_are_kept_and_named(key, tag):
    spec = parse(**{key: True})
    assert getattr(spec, key.lower()) is True
    assert tag in str(spec)
    assert str(spec) != str(parse())


@pytest.mark.parametrize("key", ["Reverse", "Boomerang"])
@pytest.mark.parametrize("value", ["yes", 1, None])
def test_order_flags_must_be_booleans(key, value):
    with pytest.raises(SpecError) as caught:
        parse(**{key: value})
    assert caught.value.field == key


def test_the_api_echoes_the_editor_fields_in_the_request_definition():
    from converter.spec import request_definition

    body = {
        "Targets": [{"Image": {"Animations": [{**BASE, "Speed": 2, "Reverse": True}]}}],
    }
    animation = request_definition(body)["Targets"][0]["Image"]["Animations"][0]
    assert (animation["Speed"], animation["Reverse"]) == (2, True)
