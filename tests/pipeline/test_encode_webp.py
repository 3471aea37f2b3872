from __future__ import annotations

import functools


import numpy as np
import pytest

from converter.pipeline import encode_webp
from converter.pipeline.encoding import QUALITIES, EncodeOptions
from tests.pipeline.frames import ffmpeg_clip, moving_scene, with_alpha
from tests import quality
from tests.quality import ssim

# Lossy WebP subsamples chroma, which costs SSIM on these small, sharp,
# saturated test pictures (ffmpeg's testsrc2 most of all); the floors catch a
# broken encoder, not a tuning change.
SSIM_FLOOR = {"low": 0.82, "balanced": 0.86, "best": 0.88}
SSIM_FLOOR_TESTSRC = 0.72



decoded = functools.partial(quality.decoded, fmt="WEBP")


def test_it_keeps_every_frame_with_millisecond_durations() -> None:
    result = encode_webp.encode(
        iter(moving_scene(12)), EncodeOptions(frame_duration_ms=1000 / 15)
    )
    out, durations, _ = decoded(result.data)
    assert len(out) == result.frames == 12
    assert durations == result.durations_ms
    assert set(durations) == {66, 67}
    assert sum(durations) == 800  # 12 frames at 15 fps


def test_it_loops_forever_by_default() -> None:
    result = encode_webp.encode(moving_scene(3), EncodeOptions(frame_duration_ms=100))
    assert decoded(result.data)[2]["loop"] == 0


def test_it_plays_n_times_when_asked() -> None:
    result = encode_webp.encode(
        moving_scene(3), EncodeOptions(frame_duration_ms=100, loop=3)
    )
    assert decoded(result.data)[2]["loop"] == 3


@pytest.mark.parametrize("quality", QUALITIES)
def test_it_stays_close_to_the_source(quality: str) -> None:
    frames = moving_scene(10)
    result = encode_webp.encode(
        frames, EncodeOptions(frame_duration_ms=100, quality=quality)
    )
    out, _, _ = decoded(result.data)
    assert min(ssim(a, b) for a, b in zip(out, frames)) >= SSIM_FLOOR[quality]


def test_it_stays_close_to_a_clip_decoded_by_ffmpeg() -> None:
    frames = ffmpeg_clip(10)
    result = encode_webp.encode(frames, EncodeOptions(frame_duration_ms=100))
    out, _, _ = decoded(result.data)
    assert min(ssim(a, b) for a, b in zip(out, frames)) >= SSIM_FLOOR_TESTSRC


def test_it_keeps_transparency() -> None:
    frames = with_alpha()
    result = encode_webp.encode(frames, EncodeOptions(frame_duration_ms=100))
    out, _, _ = decoded(result.data, "RGBA")
    assert len(out) == len(frames)
    for a, b in zip(out, frames):
        assert ((a[..., 3] > 127) == (b[..., 3] > 127)).all()
        opaque = b[..., 3] > 127
        assert np.abs(a[opaque, :3].astype(int) - b[opaque, :3]).mean() < 8


def test_the_public_pillow_fallback_makes_the_same_kind_of_file() -> None:
    frames = moving_scene(6)
    settings = encode_webp.SETTINGS["balanced"]
    result = encode_webp._encode_public(
        frames, EncodeOptions(frame_duration_ms=100), settings
    )
    out, durations, info = decoded(result.data)
    assert len(out) == 6 and durations == [100] * 6 and info["loop"] == 0
    assert min(ssim(a, b) for a, b in zip(out, frames)) >= SSIM_FLOOR["balanced"]


def test_it_refuses_frames_of_different_sizes() -> None:
    frames = [np.zeros((10, 10, 3), np.uint8), np.zeros((12, 10, 3), np.uint8)]
    with pytest.raises(ValueError):
        encode_webp.encode(frames, EncodeOptions(frame_duration_ms=100))


def test_it_refuses_no_frames() -> None:
    with pytest.raises(ValueError):
        encode_webp.encode([], EncodeOptions(frame_duration_ms=100))
