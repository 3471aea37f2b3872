"""The decoder: the ffmpeg the product runs by default is a current build,
and a build named by ``CONVERTER_FFMPEG`` runs in the sandbox, portrait
video upright (README.md, "The decoder")."""

from __future__ import annotations

import re
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import imageio_ffmpeg
import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured

from converter.bench.decode import decode
from converter.bench.score import ssim
from converter.pipeline import ffmpeg, isolated
from converter.pipeline.convert import convert
from converter.spec import AnimationSpec
from tests.media import reference_frames

# The first release with the fix for CVE-2026-40962 (an out-of-bounds write
# in the mov demuxer, which reads every MP4 and MOV upload).
FIXED_IN = (8, 1)


def release(line: str) -> tuple[int, int]:
    """(major, minor) of an ``ffmpeg -version`` first line ("ffmpeg version
    n9.0.2-17-g2a571b6068-20260930 ...", "ffmpeg version 7.0.2-static ...")."""
    found = re.match(r"ffmpeg version n?(\d+)\.(\d+)", line)
    assert found, line
    return int(found[1]), int(found[2])


@pytest.fixture(scope="module")
def build(tmp_path_factory) -> Path:
    """A build elsewhere on disk: here a copy of the bundled one, as an
    administrator would unpack a newer wheel or a static build."""
    path = tmp_path_factory.mktemp("opt") / "ffmpeg-build" / "ffmpeg"
    path.parent.mkdir()
    shutil.copy(imageio_ffmpeg.get_ffmpeg_exe(), path)
    return path


@pytest.fixture
def named(settings) -> Iterator[None]:
    yield
    settings.CONVERTER_FFMPEG = ""
    ffmpeg.use(None)


def test_the_default_decoder_is_a_release_with_the_mov_fix():
    assert ffmpeg.executable() == imageio_ffmpeg.get_ffmpeg_exe()
    assert release(ffmpeg.version()) >= FIXED_IN, ffmpeg.version()


@pytest.mark.parametrize("fmt", ["gif", "webp"])
@pytest.mark.parametrize("link", [False, True])
def test_a_portrait_phone_clip_comes_out_upright_from_a_named_decoder(
    clips, settings, named, build, tmp_path, fmt, link
):
    """A build named by the setting (or a symlink to it): start-up checks it
    runs in the sandbox, the probe reads the rotation, and every frame comes
    out tall and matches the source shown upright (decoded by PyAV's own
    libraries, not by this ffmpeg)."""
    if link:
        (tmp_path / "ffmpeg").symlink_to(build)
    named_path = tmp_path / "ffmpeg" if link else build
    settings.CONVERTER_FFMPEG = str(named_path)
    apps.get_app_config("converter").ready()
    assert ffmpeg.executable() == str(named_path)

    source = clips.portrait()
    info = isolated.probe(source)
    assert (info.rotation, info.width, info.height) == (90, 180, 320)
    animation = AnimationSpec.create(format=fmt, interval=0.25, frame_rate=4, quality="best")
    result = convert(source, info, animation)
    frames = decode(result.data).frames
    assert (result.width, result.height) == (180, 320) and len(frames) == 8
    refs = reference_frames(source, [0.25 * k for k in range(8)], 180, 320)
    scores = [ssim(f[..., :3], r) for f, r in zip(frames, refs, strict=True)]
    assert min(scores) > {"gif": 0.7, "webp": 0.78}[fmt], scores


def test_a_build_the_sandbox_cannot_run_stops_start_up(settings, named, tmp_path):
    """Say, one whose libraries live outside /usr, or here a script whose
    interpreter is not in the sandbox: refused at start-up, not at every
    conversion."""
    build = tmp_path / "ffmpeg"
    build.write_text("#!/opt/nowhere/bin/python\n")
    build.chmod(build.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    settings.CONVERTER_FFMPEG = str(build)
    with pytest.raises(ImproperlyConfigured, match="does not run in the sandbox"):
        apps.get_app_config("converter").ready()


def test_release_reads_both_kinds_of_version_line():
    assert release("ffmpeg version n9.0.2-17-g2a571b6068-20260930 Copyright") == (9, 0)
    assert release("ffmpeg version 7.0.2-static https://johnvansickle.com") == (7, 0)
    assert release("ffmpeg version 5.1.8-0+deb12u1 Copyright") == (5, 1)
