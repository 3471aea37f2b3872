"""Where an animation is going (issue 14): MaxBytes and Preset, and the
presets' data file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from converter.presets import DATA_FILE, PRESETS, load, readme_table
from converter.spec import (
    MAX_MAX_BYTES,
    MIN_MAX_BYTES,
    AnimationSpec,
    SpecError,
    request_definition,
)

BASE = {"FrameRate": 10}


def parse(**fields: object) -> AnimationSpec:
    return AnimationSpec.parse({**BASE, **fields})


def refused(field: str, **fields: object) -> SpecError:
    with pytest.raises(SpecError) as info:
        parse(**fields)
    assert info.value.code == f"InvalidArgument.{field}", info.value.message
    return info.value


def test_without_them_the_canonical_form_is_unchanged():
    spec = parse(Format="gif")
    assert (spec.max_bytes, spec.preset) == (None, None)
    assert str(spec) == "0x0-stretch-i0.1-r10-n0-s0-balanced-l0.gif"


def test_old_stored_specs_without_the_fields_still_load():
    stored = parse(Format="gif").to_dict()
    del stored["max_bytes"], stored["preset"]
    assert AnimationSpec.from_dict(stored) == parse(Format="gif")


@pytest.mark.parametrize("value", [MIN_MAX_BYTES, 256_000, MAX_MAX_BYTES, 2048.0])
def test_max_bytes_in_range_is_kept_and_named(value):
    spec = parse(Format="webp", MaxBytes=value)
    assert spec.max_bytes == int(value)
    assert str(spec).endswith(f"-b{int(value)}.webp")
    assert AnimationSpec.from_dict(spec.to_dict()) == spec


@pytest.mark.parametrize(
    "value", [999, 0, -5, MAX_MAX_BYTES + 1, 1500.5, "big", True, float("nan"), [1]]
)
def test_max_bytes_out_of_range_or_not_whole_is_refused(value):
    refused("MaxBytes", Format="gif", MaxBytes=value)


@pytest.mark.parametrize("preset", list(PRESETS))
def test_each_preset_sets_its_cap_format_box_and_duration(preset):
    p = PRESETS[preset]
    spec = parse(Preset=preset)
    assert spec.preset == preset and spec.max_bytes == p.max_bytes
    assert spec.format == p.default_format
    if p.box:
        assert (spec.width, spec.height, spec.scale_type) == (*map(float, p.box), "fit")
    else:
        assert (spec.width, spec.height) == (None, None)
    if p.max_duration_s:
        assert spec.number == int(p.max_duration_s * 10)  # at 10 fps
    else:
        assert spec.number == 0
    assert f"-p{preset}-b{p.max_bytes}." in str(spec)
    assert AnimationSpec.from_dict(spec.to_dict()) == spec


def test_preset_names_are_matched_without_case():
    assert parse(Preset="Discord-Emoji").preset == "discord-emoji"


@pytest.mark.parametrize("value", ["myspace", 3, True, ["x"]])
def test_an_unknown_preset_is_refused_naming_the_known_ones(value):
    error = refused("Preset", Preset=value)
    assert "discord-sticker" in error.message and "whatsapp-sticker" in error.message


def test_a_format_the_platform_does_not_take_is_refused_naming_the_allowed_ones():
    error = refused("Preset", Preset="github", Format="webp")
    assert "GIF or MP4" in error.message and "WEBP" in error.message
    refused("Preset", Preset="whatsapp-sticker", Format="gif")
    assert parse(Preset="github", Format="mp4").format == "mp4"


def test_a_platform_without_format_rules_takes_any_format():
    assert parse(Preset="discord", Format="avif").format == "avif"
    assert parse(Preset="slack-emoji", Format="webp").format == "webp"


def test_a_smaller_max_bytes_stays_and_a_larger_one_is_refused():
    assert parse(Preset="email", MaxBytes=500_000).max_bytes == 500_000
    error = refused("MaxBytes", Preset="email", MaxBytes=2_000_000)
    assert "1,000,000" in error.message


def test_sides_within_the_box_stay_and_larger_or_fractions_are_refused():
    spec = parse(Preset="discord-sticker", Width=200, Height=100)
    assert (spec.width, spec.height, spec.scale_type) == (200.0, 100.0, "stretch")
    one = parse(Preset="discord-sticker", Width=160)
    assert (one.width, one.height, one.scale_type) == (160.0, 320.0, "fit")
    assert "320x320" in refused("Preset", Preset="discord-sticker", Width=400).message
    refused("Preset", Preset="slack-emoji", Height=0.5)


def test_the_longest_duration_bounds_the_frames():
    assert parse(Preset="discord-sticker", FrameRate=12).number == 60
    assert parse(Preset="discord-sticker", Number=20).number == 20
    assert parse(Preset="discord-sticker", Boomerang=True).number == 26  # 2 x 26 - 2 = 50
    error = refused("Preset", Preset="discord-sticker", Number=51)
    assert "5 s" in error.message and "50 frames" in error.message


def test_a_stored_spec_that_breaks_its_preset_does_not_load():
    stored = parse(Preset="github").to_dict()
    with pytest.raises(SpecError) as info:
        AnimationSpec.from_dict({**stored, "format": "webp"})
    assert info.value.code == "InvalidArgument.Preset"
    with pytest.raises(SpecError) as info:
        AnimationSpec.from_dict({**stored, "max_bytes": 20_000_000})
    assert info.value.code == "InvalidArgument.MaxBytes"


def test_the_api_keeps_both_fields_in_the_request_definition():
    body = {
        "Sources": [{"URI": "oss://b/in.mp4"}],
        "Targets": [{"Image": {"Animations": [{"Preset": "x", "MaxBytes": 5_000_000}]}}],
    }
    kept = request_definition(body)["Targets"][0]["Image"]["Animations"][0]
    assert kept == {"Preset": "x", "MaxBytes": 5_000_000}


def test_the_data_file_has_every_field_each_preset_needs():
    data = json.loads(DATA_FILE.read_text())
    ids = [p["id"] for p in data["presets"]]
    assert ids == [
        "discord", "discord-emoji", "discord-sticker", "slack-emoji",
        "github", "x", "whatsapp-sticker", "email",
    ]  # fmt: skip
    for p in load().values():
        assert p.checked == "2026-12" and p.source and p.max_bytes > 0
        assert all(f in ("gif", "webp", "mp4", "avif") for f in p.formats)
    assert "APNG" in PRESETS["discord-sticker"].source
    assert "2026-09" in PRESETS["discord"].source
    assert "webp" not in PRESETS["github"].formats


def test_the_readme_lists_the_presets_as_the_data_file_has_them():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert readme_table() in readme


def test_the_openapi_document_lists_both_fields_and_the_report():
    from converter import openapi

    animation = openapi.SCHEMAS["Animation"]
    assert animation["properties"]["Preset"]["enum"] == list(PRESETS)
    assert animation["properties"]["MaxBytes"]["minimum"] == MIN_MAX_BYTES
    assert animation["properties"]["MaxBytes"]["maximum"] == MAX_MAX_BYTES
    assert "Format" not in animation["required"]  # a preset may give it
    assert "FitReport" in openapi.SCHEMAS["Output"]["properties"]


def _form(**fields: object):
    from converter.forms import UploadForm

    data = {"draft": "d1", "format": "gif", "fps": "10", "size": "half", "quality": "balanced"}
    return UploadForm(data={**data, **{k: str(v) for k, v in fields.items()}})


def test_the_form_takes_a_preset_and_makes_the_same_spec_as_the_api():
    form = _form(preset="discord-sticker")
    assert form.is_valid(), form.errors
    spec = form.to_spec().animations[0]
    assert spec == parse(Preset="discord-sticker", Format="gif", Interval=0.1)


def test_the_form_takes_a_cap_in_mb():
    form = _form(format="webp", max_bytes="0.5")
    assert form.is_valid(), form.errors
    assert form.to_spec().animations[0].max_bytes == 500_000
    assert not _form(max_bytes="0.0001").is_valid()  # below 1 KB
    assert not _form(max_bytes="2000").is_valid()  # above 1 GB


def test_the_form_says_which_field_breaks_the_preset():
    wrong_format = _form(preset="whatsapp-sticker")
    assert not wrong_format.is_valid() and "WEBP" in wrong_format.errors["format"][0]
    over = _form(preset="email", max_bytes="2")
    assert not over.is_valid() and "1 MB" in over.errors["max_bytes"][0]
    assert not _form(preset="myspace").is_valid()


@pytest.mark.parametrize(
    "fields",
    [{"Preset": "slack-emoji"}, {"Preset": "email", "MaxBytes": 400_000}, {"MaxBytes": 3000}],
)
def test_edit_again_gives_the_form_back_its_target(fields):
    from converter.forms import UploadForm
    from converter.spec import TaskSpec, Trim

    spec = parse(Format="gif", Interval=0.1, **fields)
    initial = UploadForm.initial_from(TaskSpec(Trim(), (spec,)), (640, 360))
    again = _form(**{k: v for k, v in initial.items() if v not in (None, "", False)})
    assert again.is_valid(), again.errors
    made = again.to_spec().animations[0]
    assert (made.preset, made.max_bytes) == (spec.preset, spec.max_bytes)
