from __future__ import annotations

import numpy as np
import pytest

from converter.bench.decode import Animation, decode
from converter.bench.score import ssim
from converter.pipeline import encode_gif
from converter.pipeline.encoding import QUALITIES, EncodeOptions
from converter.pipeline.look import Look
from tests.pipeline.frames import (
    ffmpeg_clip,
    flashing_squares,
    moving_scene,
    noisy,
    with_alpha,
)

SSIM_FLOOR = 0.95
SSIM_FLOOR_BY_QUALITY = {"low": 0.92, "balanced": SSIM_FLOOR, "best": SSIM_FLOOR}


def decoded(data: bytes, mode: str = "RGB") -> Animation:
    """Every frame of the GIF ``data`` in ``mode``, with its durations and info."""
    animation = decode(data, mode)
    assert animation.format == "GIF"
    return animation


def test_it_keeps_every_frame_and_spreads_durations_to_hundredths() -> None:
    frames = moving_scene(12)
    result = encode_gif.encode(iter(frames), EncodeOptions(frame_duration_ms=1000 / 15))
    anim = decoded(result.data)
    out, durations = anim.frames, anim.durations
    assert len(out) == result.frames == 12
    assert durations == result.durations_ms
    assert set(durations) == {60, 70}
    assert sum(durations) == 800  # 12 frames at 15 fps


def test_it_loops_forever_by_default() -> None:
    result = encode_gif.encode(moving_scene(3), EncodeOptions(frame_duration_ms=100))
    assert decoded(result.data).info["loop"] == 0


def test_it_plays_n_times_when_asked() -> None:
    three = encode_gif.encode(moving_scene(3), EncodeOptions(frame_duration_ms=100, loop=3))
    once = encode_gif.encode(moving_scene(3), EncodeOptions(frame_duration_ms=100, loop=1))
    assert decoded(three.data).info["loop"] == 2  # NETSCAPE counts repeats after the first play
    assert "loop" not in decoded(once.data).info


@pytest.mark.parametrize("quality", QUALITIES)
def test_it_stays_close_to_the_source(quality: str) -> None:
    frames = moving_scene(10)
    result = encode_gif.encode(frames, EncodeOptions(frame_duration_ms=100, quality=quality))
    out = decoded(result.data).frames
    scores = [ssim(a, b) for a, b in zip(out, frames, strict=True)]
    assert min(scores) >= SSIM_FLOOR_BY_QUALITY[quality]


def test_it_stays_close_to_a_clip_decoded_by_ffmpeg() -> None:
    frames = ffmpeg_clip(10)
    result = encode_gif.encode(frames, EncodeOptions(frame_duration_ms=100))
    out = decoded(result.data).frames
    assert min(ssim(a, b) for a, b in zip(out, frames, strict=True)) >= SSIM_FLOOR


def test_it_leaves_nothing_behind_when_content_disappears() -> None:
    frames = flashing_squares()
    result = encode_gif.encode(frames, EncodeOptions(frame_duration_ms=100))
    out = decoded(result.data).frames
    for a, b in zip(out, frames, strict=True):
        assert np.abs(a.astype(int) - b.astype(int)).max() <= 8


def test_unchanged_frames_cost_almost_nothing() -> None:
    still = [moving_scene(1)[0]] * 10
    one = encode_gif.encode(still[:1], EncodeOptions(frame_duration_ms=100))
    ten = encode_gif.encode(still, EncodeOptions(frame_duration_ms=100))
    assert ten.frames == 10
    assert len(ten.data) < len(one.data) + 10 * 40


def test_it_keeps_transparency() -> None:
    frames = with_alpha()
    result = encode_gif.encode(frames, EncodeOptions(frame_duration_ms=100))
    out = decoded(result.data, "RGBA").frames
    assert len(out) == len(frames)
    for a, b in zip(out, frames, strict=True):
        assert ((a[..., 3] > 0) == (b[..., 3] > 0)).all()
        opaque = b[..., 3] > 0
        assert np.abs(a[opaque, :3].astype(int) - b[opaque, :3]).max() <= 8


def _error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(int) - b.astype(int)).mean())


def test_on_noisy_footage_it_paints_the_picture_not_the_noise() -> None:
    clean = moving_scene(12, width=320, height=192)
    grainy = noisy(clean, 3.0)
    result = encode_gif.encode(grainy, EncodeOptions(frame_duration_ms=100))
    anim = decoded(result.data)
    assert len(anim.frames) == 12 and anim.durations == [100] * 12  # none lost to the lookahead
    # Denoised: each frame is nearer the picture under the grain than the
    # grainy frame itself is, and as near the grainy frame as that picture is.
    for out, picture, asked in zip(anim.frames, clean, grainy, strict=True):
        assert _error(out, picture) < 0.8 * _error(asked, picture)
        assert ssim(out, asked) >= ssim(picture, asked) - 0.05
    # The still background is not repainted for its grain: the grainy GIF
    # costs less than 4 times the clean one (without the adaptive default,
    # 6 times at threshold 6 and no lookahead, more at the default 3).
    plain = encode_gif.encode(clean, EncodeOptions(frame_duration_ms=100))
    assert len(result.data) < 4 * len(plain.data)


def test_the_noisier_the_footage_the_more_a_pixel_must_move_to_be_repainted() -> None:
    options = EncodeOptions(frame_duration_ms=100)
    balanced = encode_gif.SETTINGS["balanced"]
    assert encode_gif.adapted(balanced, Look(noise=0.3), options) == balanced
    assert encode_gif.adapted(balanced, Look(noise=1.0), options).threshold == 6
    assert encode_gif.adapted(balanced, Look(noise=4.0), options).threshold == 12
    # a picture of random pixels is not noise over a picture: it must move
    assert encode_gif.adapted(balanced, Look(noise=70.0), options).threshold == 18
    assert encode_gif.lookahead(Look(noise=0.3)) == 0 < encode_gif.lookahead(Look(noise=1.0))


def test_a_low_level_tolerates_its_changes_on_top_of_the_noise() -> None:
    at_60 = EncodeOptions(frame_duration_ms=100, level=60)
    low = encode_gif.settings(at_60)
    assert low.threshold == 10
    assert encode_gif.adapted(low, Look(noise=0.3), at_60).threshold == 10  # not noisy
    assert encode_gif.adapted(low, Look(noise=1.0), at_60).threshold == 15
    assert encode_gif.adapted(low, Look(noise=2.0), at_60).threshold == 18  # at most
    # the default's own threshold is below the noise's: the noise decides
    balanced = encode_gif.SETTINGS["balanced"]
    named = EncodeOptions(frame_duration_ms=100)
    assert encode_gif.adapted(balanced, Look(noise=2.0), named).threshold == 6


def test_clean_footage_gets_a_lower_palette_target_unless_a_level_is_asked() -> None:
    balanced = encode_gif.SETTINGS["balanced"]
    named = encode_gif.adapted(balanced, Look(clean=True), EncodeOptions(frame_duration_ms=100))
    assert named.max_quality == balanced.max_quality - 1
    at_level = EncodeOptions(frame_duration_ms=100, level=99)
    asked = encode_gif.settings(at_level)
    assert encode_gif.adapted(asked, Look(clean=True), at_level) == asked


def test_it_refuses_frames_of_different_sizes() -> None:
    frames = [np.zeros((10, 10, 3), np.uint8), np.zeros((12, 10, 3), np.uint8)]
    with pytest.raises(ValueError):
        encode_gif.encode(frames, EncodeOptions(frame_duration_ms=100))


def test_it_refuses_no_frames() -> None:
    with pytest.raises(ValueError):
        encode_gif.encode([], EncodeOptions(frame_duration_ms=100))
