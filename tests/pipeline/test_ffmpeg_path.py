"""CONVERTER_FFMPEG: the ffmpeg the pipeline runs is the one the setting names."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import imageio_ffmpeg
import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured

from converter.pipeline import ffmpeg, sandbox
from converter.pipeline.convert import convert
from converter.pipeline.probe import probe
from converter.spec import AnimationSpec
from tests.media import FFMPEG


@pytest.fixture
def bundled_afterwards():
    yield
    ffmpeg.use(None)


@pytest.fixture
def recording_ffmpeg(tmp_path, settings) -> Iterator[tuple[Path, Path]]:
    """A wrapper that notes each call's arguments, then execs the real ffmpeg.

    It writes its notes outside any folder ffmpeg may write, which the
    sandbox forbids (tests/security/test_sandbox.py), so it runs unsandboxed:
    which binary runs is what is under test here."""
    calls = tmp_path / "calls.log"
    wrapper = tmp_path / "recording-ffmpeg"
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> "{calls}"\nexec "{FFMPEG}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    was = sandbox.mode()
    settings.CONVERTER_SANDBOX = "none"  # what start-up (apps.ready) hands the pipeline
    sandbox.use("none")
    yield wrapper, calls
    sandbox.use(was)


def test_the_bundled_ffmpeg_runs_by_default():
    assert ffmpeg.executable() == imageio_ffmpeg.get_ffmpeg_exe()


def test_the_ffmpeg_the_setting_names_is_the_one_run(
    clips, settings, recording_ffmpeg, bundled_afterwards
):
    wrapper, calls = recording_ffmpeg
    settings.CONVERTER_FFMPEG = str(wrapper)
    apps.get_app_config("converter").ready()  # what start-up does with the setting
    assert ffmpeg.executable() == str(wrapper)

    source = clips.moving()
    result = convert(
        source, probe(source), AnimationSpec.create(format="gif", interval=0.5, frame_rate=2.0)
    )
    assert result.frames > 1
    check, *lines = calls.read_text().splitlines()
    assert check.endswith("-version"), "start-up runs it once to check it works"
    assert lines and all("-codec_whitelist" in line for line in lines)


def test_an_ffmpeg_that_is_not_there_stops_start_up(settings, tmp_path, bundled_afterwards):
    settings.CONVERTER_FFMPEG = str(tmp_path / "no-such-ffmpeg")
    with pytest.raises(ImproperlyConfigured):
        apps.get_app_config("converter").ready()
    assert ffmpeg.executable() == imageio_ffmpeg.get_ffmpeg_exe()
