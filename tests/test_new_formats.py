"""mp4 and avif are offered everywhere a format is named: the spec, the API
schema, the web form, the file names and content types."""

from __future__ import annotations

import pytest

from converter import openapi
from converter.forms import UploadForm
from converter.pipeline.convert import ENCODERS
from converter.pipeline.formats import CONTENT_TYPES, EXTENSIONS
from converter.spec import FORMATS, AnimationSpec, expand_uri


def test_every_format_has_an_encoder_an_extension_and_a_content_type() -> None:
    assert set(FORMATS) == set(ENCODERS) == set(EXTENSIONS) == set(CONTENT_TYPES)
    assert (CONTENT_TYPES["mp4"], CONTENT_TYPES["avif"]) == ("video/mp4", "image/avif")


def test_the_api_schema_names_every_format() -> None:
    assert openapi.SCHEMAS["Animation"]["properties"]["Format"]["enum"] == list(FORMATS)


@pytest.mark.parametrize(("fmt", "ext"), [("mp4", ".mp4"), ("avif", ".avif")])
def test_a_request_for_the_format_parses_and_autoext_gives_its_extension(
    fmt: str, ext: str
) -> None:
    spec = AnimationSpec.parse({"Format": fmt, "URI": "oss://b/out/{barename}.{autoext}"})
    assert spec.format == fmt
    uri = expand_uri(
        spec.uri, source=None, source_name="clip.mov", fmt=spec.format, index=0, tags={}
    )
    assert uri == f"oss://b/out/clip{ext}"


def test_the_web_form_offers_them_by_name() -> None:
    choices = dict(UploadForm().fields["format"].choices)  # type: ignore[attr-defined]
    assert choices["mp4"] == "MP4 (video, smallest)"
    assert choices["avif"] == "AVIF"
