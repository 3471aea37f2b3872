"""The editor's animation fields (issue 13): Speed, Reverse, Boomerang."""

from __future__ import annotations

import json

import pytest

from converter.spec import AnimationSpec, Caption, Crop, SpecError

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


# --- Crop and Captions ---------------------------------------------------------


def test_a_crop_in_pixels_or_fractions_is_kept_and_named_in_the_canonical_form():
    spec = parse(Crop={"X": 10, "Y": 0.25, "Width": 100, "Height": 0.5})
    assert spec.crop == Crop(10, 0.25, 100, 0.5)
    assert "-c10_0.25_100_0.5" in str(spec)
    assert AnimationSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
    assert parse(Crop={"Width": 8, "Height": 8}).crop == Crop(0, 0, 8, 8)  # X, Y default 0


@pytest.mark.parametrize(
    ("crop", "field"),
    [
        ("10,10,20,20", "Crop"),
        ([10, 10, 20, 20], "Crop"),
        ({"X": 0, "Y": 0, "Height": 10}, "Crop.Width"),
        ({"X": 0, "Y": 0, "Width": 10}, "Crop.Height"),
        ({"X": -1, "Width": 10, "Height": 10}, "Crop.X"),
        ({"Y": 2.5, "Width": 10, "Height": 10}, "Crop.Y"),
        ({"Width": 0, "Height": 10}, "Crop.Width"),
        ({"Width": 10, "Height": 70000}, "Crop.Height"),
        ({"Width": "wide", "Height": 10}, "Crop.Width"),
        ({"X": 0.6, "Width": 0.5, "Height": 10}, "Crop.Width"),
        ({"Y": 0.5, "Width": 10, "Height": 0.75}, "Crop.Height"),
    ],
)
def test_a_crop_that_cannot_be_a_box_is_refused_naming_the_field(crop, field):
    with pytest.raises(SpecError) as caught:
        parse(Crop=crop)
    assert caught.value.field == field


def test_captions_are_kept_with_their_defaults_and_change_the_canonical_form():
    spec = parse(Captions=[{"Text": " 你好 Hello "}, {"Text": "שלום", "Color": "#0F0"}])
    first, second = spec.captions
    assert first == Caption("你好 Hello")  # trimmed; white, bottom, a tenth of the height
    assert (second.color, second.outline, second.position) == ("#00ff00", None, "bottom")
    assert "-t" in str(spec) and str(spec) != str(parse(Captions=[{"Text": "other"}]))
    assert AnimationSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


def test_a_caption_keeps_every_field_it_is_given():
    caption = {
        "Text": "Hi", "Size": 24, "Color": "#112233", "Outline": 3, "OutlineColor": "#fff",
        "Position": "top", "X": 0.3, "Y": 0.7, "StartTime": 0.5, "EndTime": 1.5,
    }  # fmt: skip
    (got,) = parse(Captions=[caption]).captions
    assert got == Caption("Hi", 24, "#112233", 3, "#ffffff", "top", 0.3, 0.7, 0.5, 1.5)
    assert got.to_api() == {**caption, "OutlineColor": "#ffffff"}


@pytest.mark.parametrize(
    ("captions", "field"),
    [
        ({"Text": "x"}, "Captions"),
        ([{"Text": "x"}] * 11, "Captions"),
        (["x"], "Captions"),
        ([{}], "Captions.Text"),
        ([{"Text": "   "}], "Captions.Text"),
        ([{"Text": 5}], "Captions.Text"),
        ([{"Text": "x" * 201}], "Captions.Text"),
        ([{"Text": "a\nb\nc\nd"}], "Captions.Text"),
        ([{"Text": "bell\x07"}], "Captions.Text"),
        ([{"Text": "x", "Size": 0}], "Captions.Size"),
        ([{"Text": "x", "Size": 2000}], "Captions.Size"),
        ([{"Text": "x", "Size": 12.5}], "Captions.Size"),
        ([{"Text": "x", "Color": "white"}], "Captions.Color"),
        ([{"Text": "x", "OutlineColor": "#12345"}], "Captions.OutlineColor"),
        ([{"Text": "x", "Outline": -1}], "Captions.Outline"),
        ([{"Text": "x", "Outline": 65}], "Captions.Outline"),
        ([{"Text": "x", "Position": "left"}], "Captions.Position"),
        ([{"Text": "x", "X": 0.5}], "Captions.Y"),
        ([{"Text": "x", "Y": 0.5}], "Captions.X"),
        ([{"Text": "x", "X": 1.5, "Y": 0.5}], "Captions.X"),
        ([{"Text": "x", "StartTime": -1}], "Captions.StartTime"),
        ([{"Text": "x", "StartTime": 2, "EndTime": 1}], "Captions.EndTime"),
    ],
)
def test_a_caption_that_cannot_be_drawn_is_refused_naming_the_field(captions, field):
    with pytest.raises(SpecError) as caught:
        parse(Captions=captions)
    assert caught.value.field == field
    assert caught.value.code == f"InvalidArgument.{field}"
