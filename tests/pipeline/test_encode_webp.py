from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest

from converter.bench.decode import Animation, decode
from converter.bench.score import ssim
from converter.pipeline import encode_webp, libwebp, webpfile
from converter.pipeline.encoding import QUALITIES, EncodeOptions
from converter.pipeline.look import Look
from tests.pipeline.frames import ffmpeg_clip, moving_scene, noisy, with_alpha

# Lossy WebP subsamples chroma, which costs SSIM on these small, sharp,
# saturated test pictures (ffmpeg's testsrc2 most of all); the floors catch a
# broken encoder, not a tuning change.
SSIM_FLOOR = {"low": 0.82, "balanced": 0.86, "best": 0.88}
SSIM_FLOOR_TESTSRC = 0.72


def decoded(data: bytes, mode: str = "RGB") -> Animation:
    """Every frame of the WEBP ``data`` in ``mode``, with its durations and info."""
    animation = decode(data, mode)
    assert animation.format == "WEBP"
    return animation


def test_it_keeps_every_frame_with_millisecond_durations() -> None:
    result = encode_webp.encode(iter(moving_scene(12)), EncodeOptions(frame_duration_ms=1000 / 15))
    anim = decoded(result.data)
    out, durations = anim.frames, anim.durations
    assert len(out) == result.frames == 12
    assert durations == result.durations_ms
    assert set(durations) == {66, 67}
    assert sum(durations) == 800  # 12 frames at 15 fps


@pytest.mark.parametrize("alpha", [False, True], ids=["opaque", "alpha"])
def test_frames_in_bgr_order_are_the_same_picture(alpha: bool) -> None:
    """The pipeline hands this encoder BGR frames (``EncodeOptions.order``):
    the file must be the one the same frames in RGB make, through every path
    (whole frames, repainted blocks with held ones transparent, libwebp's
    animation encoder for alpha, Pillow's ``save``)."""
    frames = with_alpha(8) if alpha else moving_scene(10)
    bgr = [np.ascontiguousarray(f[..., [2, 1, 0, 3][: f.shape[2]]]) for f in frames]
    as_rgb = EncodeOptions(frame_duration_ms=100)
    as_bgr = EncodeOptions(frame_duration_ms=100, order="bgr")
    made = encode_webp.encode(frames, as_rgb).data
    assert encode_webp.encode(bgr, as_bgr).data == made
    config = encode_webp.SETTINGS["balanced"]
    public = decoded(encode_webp._encode_public(frames, as_rgb, config).data).frames
    assert np.array_equal(
        decoded(encode_webp._encode_public(bgr, as_bgr, config).data).frames, public
    )
    # ... and it is the right picture
    for out, frame in zip(decoded(made, "RGBA").frames, frames, strict=True):
        shown = frame[..., 3] == 255 if alpha else np.ones(frame.shape[:2], bool)
        colour = out[..., :3][shown].mean(axis=0) - frame[..., :3][shown].mean(axis=0)
        assert np.abs(colour).max() < 16, colour  # red and blue swapped: 60 or more


def test_it_loops_forever_by_default() -> None:
    result = encode_webp.encode(moving_scene(3), EncodeOptions(frame_duration_ms=100))
    assert decoded(result.data).info["loop"] == 0


def test_it_plays_n_times_when_asked() -> None:
    result = encode_webp.encode(moving_scene(3), EncodeOptions(frame_duration_ms=100, loop=3))
    assert decoded(result.data).info["loop"] == 3


@pytest.mark.parametrize("quality", QUALITIES)
def test_it_stays_close_to_the_source(quality: str) -> None:
    frames = moving_scene(10)
    result = encode_webp.encode(frames, EncodeOptions(frame_duration_ms=100, quality=quality))
    out = decoded(result.data).frames
    assert min(ssim(a, b) for a, b in zip(out, frames, strict=True)) >= SSIM_FLOOR[quality]


def test_it_stays_close_to_a_clip_decoded_by_ffmpeg() -> None:
    frames = ffmpeg_clip(10)
    result = encode_webp.encode(frames, EncodeOptions(frame_duration_ms=100))
    out = decoded(result.data).frames
    assert min(ssim(a, b) for a, b in zip(out, frames, strict=True)) >= SSIM_FLOOR_TESTSRC


def test_it_keeps_transparency() -> None:
    frames = with_alpha()
    result = encode_webp.encode(frames, EncodeOptions(frame_duration_ms=100))
    out = decoded(result.data, "RGBA").frames
    assert len(out) == len(frames)
    for a, b in zip(out, frames, strict=True):
        assert ((a[..., 3] > 127) == (b[..., 3] > 127)).all()
        opaque = b[..., 3] > 127
        assert np.abs(a[opaque, :3].astype(int) - b[opaque, :3]).mean() < 8


def test_the_public_pillow_fallback_makes_the_same_kind_of_file() -> None:
    frames = moving_scene(6)
    settings = encode_webp.SETTINGS["balanced"]
    result = encode_webp._encode_public(frames, EncodeOptions(frame_duration_ms=100), settings)
    anim = decoded(result.data)
    out, durations, info = anim.frames, anim.durations, anim.info
    assert len(out) == 6 and durations == [100] * 6 and info["loop"] == 0
    assert min(ssim(a, b) for a, b in zip(out, frames, strict=True)) >= SSIM_FLOOR["balanced"]


def test_it_refuses_frames_of_different_sizes() -> None:
    frames = [np.zeros((10, 10, 3), np.uint8), np.zeros((12, 10, 3), np.uint8)]
    with pytest.raises(ValueError):
        encode_webp.encode(frames, EncodeOptions(frame_duration_ms=100))


def test_it_refuses_no_frames() -> None:
    with pytest.raises(ValueError):
        encode_webp.encode([], EncodeOptions(frame_duration_ms=100))


# --- runs encoded side by side and joined ---------------------------------------


def test_runs_encoded_side_by_side_join_into_one_animation() -> None:
    frames = moving_scene(24)
    options = EncodeOptions(frame_duration_ms=1000 / 15)
    whole = encode_webp.encode(frames, options)
    joined = encode_webp.encode_runs([frames[:9], frames[8:]], options)  # frame 8: the overlap
    anim = decoded(joined.data)
    out, durations, info = anim.frames, anim.durations, anim.info
    assert len(out) == joined.frames == 24 and info["loop"] == 0
    # The timeline is the whole animation's: 66/67 ms spread over all 24 frames.
    assert durations == joined.durations_ms == decoded(whole.data).durations
    assert sum(durations) == 1600
    scores = [ssim(a, b) for a, b in zip(out, frames, strict=True)]
    assert min(scores) >= SSIM_FLOOR["balanced"]
    # The second run is coded from the overlap, not from a key frame.
    assert len(joined.data) <= 1.05 * len(whole.data)


def test_a_run_libwebp_makes_a_still_picture_of_joins_as_one_long_frame() -> None:
    """libwebp merges identical frames, and a run of one picture comes out as
    a still image: it becomes one frame lasting the whole run."""
    frames = moving_scene(8)
    still = [frames[-1].copy() for _ in range(5)]
    joined = encode_webp.encode_runs(
        [frames, [frames[-1], *still]], EncodeOptions(frame_duration_ms=100)
    )
    anim = decoded(joined.data)
    out, durations = anim.frames, anim.durations
    assert joined.frames == 13
    assert len(out) == 9 and durations == [100] * 8 + [500]
    assert ssim(out[-1], still[0]) >= SSIM_FLOOR["balanced"]


def test_a_run_that_fails_stops_the_others_and_its_own_error_is_raised() -> None:
    taken = 0

    def long_run():  # far more frames than the failing run gets to
        nonlocal taken
        for frame in itertools.islice(itertools.cycle(moving_scene(8)), 2000):
            taken += 1
            yield frame

    def broken():
        yield from moving_scene(4)
        raise RuntimeError("decoder died")

    with pytest.raises(RuntimeError, match="decoder died"):
        encode_webp.encode_runs([long_run(), broken()], EncodeOptions(frame_duration_ms=100))
    assert taken < 2000


def test_a_later_run_with_only_its_overlap_adds_nothing() -> None:
    """The source ended where the second run begins: one run's frames."""
    frames = moving_scene(8)
    result = encode_webp.encode_runs([frames, frames[-1:]], EncodeOptions(frame_duration_ms=100))
    anim = decoded(result.data)
    out, durations = anim.frames, anim.durations
    assert result.frames == len(out) == 8 and durations == [100] * 8


def test_opaque_animations_use_every_cpu_and_alpha_ones_a_single_run(monkeypatch) -> None:
    monkeypatch.setattr(encode_webp, "CPUS", 4)
    assert encode_webp.parts(100, alpha=False) == 4
    assert encode_webp.parts(20, alpha=False) == 2  # at least MIN_RUN_FRAMES a run
    assert encode_webp.parts(100, alpha=True) == 1


def test_libwebp_settings_beyond_quality_reach_the_encoder() -> None:
    """Spatial noise shaping is set through our binding (Pillow's wrapper has
    no such setting): changing it changes the file."""
    from converter.pipeline import libwebp

    frames = ffmpeg_clip(6)

    def size(**kw) -> int:
        with libwebp.AnimEncoder(
            frames[0].shape[1], frames[0].shape[0], 0, libwebp.Config(quality=75, **kw)
        ) as enc:
            for k, f in enumerate(frames):
                enc.add(f, 100 * k)
            return len(enc.assemble(600))

    assert libwebp.available()
    assert size(sns_strength=0) != size(sns_strength=100)


def _anmf(data: bytes) -> list:
    return [webpfile._Frame.parse(c.payload) for c in webpfile._chunks(data) if c.fourcc == b"ANMF"]


def test_frames_that_change_a_lot_are_each_coded_whole() -> None:
    """Where most of the picture changes from frame to frame (here the whole
    scene pans 40 px a frame), every frame is a key frame: whole canvas, not
    blended with the frame before; count, durations and quality as ever.
    Frames that change little are coded as the rectangles that changed."""
    panning = [np.roll(f, 40 * k, axis=1) for k, f in enumerate(moving_scene(8))]
    result = encode_webp.encode(panning, EncodeOptions(frame_duration_ms=100))
    anim = decoded(result.data)
    out, durations, info = anim.frames, anim.durations, anim.info
    frames = _anmf(result.data)
    assert (
        result.frames == len(out) == len(frames) == 8
        and durations == [100] * 8
        and info["loop"] == 0
    )
    assert all((f.x, f.y, f.width, f.height) == (0, 0, 160, 96) for f in frames)
    assert all(f.flags & webpfile.ANMF_NO_BLEND and b"ALPH" not in f.image[:4] for f in frames)
    assert min(ssim(a, b) for a, b in zip(out, panning, strict=True)) >= SSIM_FLOOR["balanced"]

    calm = encode_webp.encode(moving_scene(8), EncodeOptions(frame_duration_ms=100))
    assert any((f.width, f.height) != (160, 96) for f in _anmf(calm.data))


def test_frames_coded_whole_take_a_lower_quality_unless_a_level_is_asked(monkeypatch) -> None:
    options = EncodeOptions(frame_duration_ms=100)
    config, hold = encode_webp.settings(options)
    lower, _ = encode_webp.adapted(config, hold, True, Look(noise=0.4), options)
    assert lower.quality == config.quality - encode_webp.WHOLE_QUALITY_DROP > 0
    panning = [np.roll(f, 40 * k, axis=1) for k, f in enumerate(moving_scene(8))]
    adapted = encode_webp.encode(panning, options)
    out = decoded(adapted.data).frames
    assert min(ssim(a, b) for a, b in zip(out, panning, strict=True)) >= SSIM_FLOOR["balanced"]
    monkeypatch.setattr(encode_webp, "WHOLE_QUALITY_DROP", 0)
    assert len(adapted.data) < len(encode_webp.encode(panning, options).data)

    at_level = EncodeOptions(frame_duration_ms=100, level=80)
    asked, held = encode_webp.settings(at_level)
    camera = replace(asked, filter_strength=encode_webp.CAMERA_FILTER_STRENGTH)
    assert encode_webp.adapted(asked, held, True, Look(noise=0.4), at_level) == (camera, held)


def test_the_noisier_the_footage_the_longer_a_block_is_held() -> None:
    options = EncodeOptions(frame_duration_ms=100)
    config, hold = encode_webp.settings(options)
    camera = replace(config, filter_strength=encode_webp.CAMERA_FILTER_STRENGTH)
    assert encode_webp.adapted(config, hold, False, Look(noise=0.3), options) == (camera, hold)
    assert encode_webp.adapted(config, hold, False, Look(noise=1.0), options)[1] == 12
    assert encode_webp.adapted(config, hold, False, Look(noise=0.1), options)[1] == 6
    assert encode_webp.adapted(config, hold, False, Look(clean=True), options) == (config, hold)
    best = EncodeOptions(frame_duration_ms=100, quality="best")
    assert encode_webp.adapted(*encode_webp.settings(best), False, Look(), best)[1] == 4


@pytest.mark.parametrize("level", [None, 40, 90])
def test_camera_footage_is_filtered_at_full_strength_and_clean_footage_as_libwebp_does(
    level,
) -> None:
    options = EncodeOptions(frame_duration_ms=100, level=level)
    config, hold = encode_webp.settings(options)
    assert config.filter_strength == libwebp.Config(quality=75).filter_strength == 60
    # Look(): the first frame said nothing (most often a fade from black)
    for whole, seen in itertools.product((False, True), (Look(), Look(0.2), Look(2.0))):
        camera, _ = encode_webp.adapted(config, hold, whole, seen, options)
        assert camera.filter_strength == encode_webp.CAMERA_FILTER_STRENGTH == 100
        assert camera.sns_strength == config.sns_strength and camera.method == config.method
    assert encode_webp.adapted(config, hold, False, Look(clean=True), options) == (config, hold)


def test_on_noisy_footage_blocks_are_held_through_the_noise() -> None:
    options = EncodeOptions(frame_duration_ms=100)
    # Grain of 2 levels on a still scene: held, only the moving things are
    # repainted, so the grainy animation costs little more than the clean one
    clean = moving_scene(8, width=320, height=192)
    grainy = encode_webp.encode(noisy(clean, 2.0), options)
    out = decoded(grainy.data).frames
    assert min(ssim(a, b) for a, b in zip(out, clean, strict=True)) >= SSIM_FLOOR["balanced"]
    # (at the named level's hold: 2.2 times)
    assert len(grainy.data) < 1.6 * len(encode_webp.encode(clean, options).data)


def test_blocks_that_barely_move_are_held_as_painted() -> None:
    """A 16 x 16 block is repainted, whole, when one of its pixels has moved
    more than the levels since the block was last painted; else it is held.
    The picture here is not a whole number of blocks."""
    rng = np.random.default_rng(3)
    first = rng.integers(40, 200, (40, 50, 3), dtype=np.uint8)
    held = encode_webp._HeldBlocks(levels=7)
    assert np.array_equal(held.paint(first), first)

    second = (first.astype(np.int16) + rng.integers(-7, 8, first.shape)).astype(np.uint8)
    second[20, 35, 1] = first[20, 35, 1] + 8  # the block of rows 16-31, columns 32-47
    painted = held.paint(second).copy()
    block = (slice(16, 32), slice(32, 48))
    assert np.array_equal(painted[block], second[block])
    painted[block] = first[block]
    assert np.array_equal(painted, first)

    # A slow drift adds up: held for 7 frames of +1, repainted at the 8th.
    drift = held.paint(second).copy()
    for step in range(1, 9):
        out = held.paint(np.clip(drift.astype(np.int16) + step, 0, 255).astype(np.uint8))
        assert np.array_equal(out, drift) == (step <= 7)
    assert np.array_equal(out, np.clip(drift.astype(np.int16) + 8, 0, 255))


def test_noise_on_still_areas_is_not_coded_again() -> None:
    """Frames whose still background flickers by a few levels (as a video
    codec's output does) are coded as the rectangles where things move (the
    square and the disc, rows 20-72, in whole blocks); with nothing held,
    the whole picture is coded again every frame."""
    rng = np.random.default_rng(5)
    clean = moving_scene(8)
    noisy = [np.clip(f + rng.integers(-3, 4, f.shape), 0, 255).astype(np.uint8) for f in clean]

    def rectangles() -> list[tuple[int, int, int, int]]:
        result = encode_webp.encode(noisy, EncodeOptions(frame_duration_ms=100))
        out = decoded(result.data).frames
        assert result.frames == len(out) == 8
        assert min(ssim(a, b) for a, b in zip(out, clean, strict=True)) >= SSIM_FLOOR["balanced"]
        return [(f.x, f.y, f.width, f.height) for f in _anmf(result.data)[1:]]

    for _x, y, width, height in rectangles():
        assert y + height <= 80 and width * height <= 0.6 * 160 * 96

    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(encode_webp.HOLD_LEVELS, "balanced", -1)  # every block repainted
        mp.setattr(encode_webp, "NOISY_HOLD", -1)  # the noise's own hold too
        assert all(r == (0, 0, 160, 96) for r in rectangles())


def test_each_frame_is_coded_as_the_blocks_it_repaints() -> None:
    """After the first (whole) frame, a frame is the rectangle around the 16 x 16
    blocks it repaints, at block offsets, blended over the frame before with
    the held blocks inside it transparent; a frame that repaints nothing
    lengthens the one before. Decoded, every frame is the source's."""
    scene = moving_scene(6)
    frames = [*scene[:3], scene[2], *scene[3:5]]  # the fourth frame repeats the third
    result = encode_webp.encode(frames, EncodeOptions(frame_duration_ms=100))
    coded = _anmf(result.data)
    assert result.frames == 6 and result.durations_ms == [100] * 6
    assert [f.duration for f in coded] == [100, 100, 200, 100, 100]
    assert (coded[0].x, coded[0].y, coded[0].width, coded[0].height) == (0, 0, 160, 96)
    for f in coded[1:]:
        assert (2 * f.x) % 16 == 0 and (2 * f.y) % 16 == 0 and f.width * f.height < 160 * 96
        assert not f.flags & webpfile.ANMF_NO_BLEND and f.image[:4] == b"ALPH"
    anim = decoded(result.data)
    out, durations, info = anim.frames, anim.durations, anim.info
    shown = [picture for picture, ms in zip(out, durations, strict=True) for _ in range(ms // 100)]
    assert len(shown) == 6 and info["loop"] == 0
    assert min(ssim(a, b) for a, b in zip(shown, frames, strict=True)) >= SSIM_FLOOR["balanced"]


def _vp8x_alpha(data: bytes) -> bool:
    return data[12:16] == b"VP8X" and bool(data[20] & webpfile.VP8X_ALPHA)


def test_a_joined_file_is_marked_with_alpha_when_only_a_later_run_blends_transparent_blocks() -> (
    None
):
    """Held blocks are transparent pixels blended over the frame before;
    Chrome blends them as opaque (showing wrong colours) unless the file says
    it has alpha. Here the first run is coded whole, the second as changes."""
    panning = [np.roll(f, 40 * k, axis=1) for k, f in enumerate(moving_scene(5))]
    calm = moving_scene(8)
    first = encode_webp.encode(panning, EncodeOptions(frame_duration_ms=100))
    assert not _vp8x_alpha(first.data)
    joined = encode_webp.encode_runs(
        [panning, [panning[-1], *calm]], EncodeOptions(frame_duration_ms=100)
    )
    assert any(f.has_alpha for f in _anmf(joined.data)) and _vp8x_alpha(joined.data)
    out = decoded(joined.data).frames
    assert (
        min(ssim(a, b) for a, b in zip(out, panning + calm, strict=True)) >= SSIM_FLOOR["balanced"]
    )


def test_a_still_stretch_longer_than_a_webp_frame_can_last_is_split() -> None:
    """A frame lasts at most 2**24 - 1 ms in WebP (4.6 hours): 200 identical
    frames of 100 s become two pictures, the second painting nothing, and the
    total stays 20,000 s; joined from two runs, each run's picture is one."""
    still = [moving_scene(1)[0]] * 200
    options = EncodeOptions(frame_duration_ms=100_000)
    for runs in ([still], [still[:100], still[99:]]):
        result = encode_webp.encode_runs(runs, options)
        coded = _anmf(result.data)
        assert result.frames == 200 and sum(result.durations_ms) == 20_000_000
        assert (
            all(f.duration <= webpfile.MAX_24 for f in coded)
            and sum(f.duration for f in coded) == 20_000_000
        )
        assert len(coded) == 2 and ((coded[1].width, coded[1].height) == (1, 1)) == (len(runs) == 1)
        anim = decoded(result.data)
        out, durations = anim.frames, anim.durations
        assert sum(durations) == 20_000_000 and ssim(out[-1], still[0]) >= SSIM_FLOOR["balanced"]
