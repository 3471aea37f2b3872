"""The AVIF encoder, decoded back with Pillow's AVIF plugin (libavif)."""

from __future__ import annotations

import numpy as np
import pytest

from converter.bench.decode import Animation, decode
from converter.bench.score import ssim
from converter.pipeline import encode_avif
from converter.pipeline.convert import convert
from converter.pipeline.encoding import QUALITIES, EncodeOptions
from converter.pipeline.probe import probe
from converter.spec import AnimationSpec
from tests.media import decode_frame
from tests.pipeline.frames import ffmpeg_clip, moving_scene, with_alpha

# 4:2:0 chroma on small, saturated pictures; the floors catch a broken
# encoder, not a tuning change.
SSIM_FLOOR = {"low": 0.85, "balanced": 0.90, "best": 0.93}


def decoded(data: bytes, mode: str | None = None) -> Animation:
    animation = decode(data, mode)
    assert animation.format == "AVIF"
    return animation


def encoded(frames: list[np.ndarray], frame_ms: float, **kw: object) -> bytes:
    options = EncodeOptions(frame_duration_ms=frame_ms, **kw)  # type: ignore[arg-type]
    result = encode_avif.encode(iter(frames), options)
    assert result.frames == len(frames)
    assert result.durations_ms == decoded(result.data).durations
    return result.data


def test_it_keeps_every_frame_with_millisecond_durations() -> None:
    anim = decoded(encoded(moving_scene(12), 1000 / 15))
    assert len(anim.frames) == 12 and anim.size == (160, 96)
    assert set(anim.durations) == {66, 67}
    assert sum(anim.durations) == 800  # 12 frames at 15 fps


def test_odd_sizes_are_kept() -> None:
    anim = decoded(encoded(moving_scene(4, 161, 97), 100))
    assert anim.size == (161, 97) and anim.frames[0].shape == (97, 161, 3)


@pytest.mark.parametrize("quality", QUALITIES)
def test_every_quality_looks_like_the_source_and_better_costs_more(quality: str) -> None:
    frames = ffmpeg_clip(10, 192, 108)
    anim = decoded(encoded(frames, 100, quality=quality), "RGB")
    scores = [ssim(a, b) for a, b in zip(anim.frames, frames, strict=True)]
    assert min(scores) > SSIM_FLOOR[quality] - 0.1, scores  # testsrc2: fine, saturated text
    sizes = {q: len(encoded(frames, 100, quality=q)) for q in QUALITIES}
    assert sizes["low"] < sizes["balanced"] < sizes["best"]


def test_alpha_is_kept() -> None:
    frames = with_alpha(6)
    anim = decoded(encoded(frames, 100, quality="best"))
    assert anim.mode == "RGBA" and len(anim.frames) == 6
    for got, want in zip(anim.frames, frames, strict=True):
        assert got.shape[2] == 4
        assert np.abs(got[..., 3].astype(int) - want[..., 3]).max() < 8
        square = want[..., 3] == 255
        assert np.abs(got[square][:, :3].astype(int).mean(0) - (30, 200, 90)).max() < 12


def test_opaque_rgba_frames_are_saved_without_alpha() -> None:
    frames = [np.dstack([f, np.full(f.shape[:2], 255, np.uint8)]) for f in moving_scene(4)]
    anim = decoded(encoded(frames, 100))
    assert anim.mode == "RGB"


def test_a_frame_of_another_size_is_refused() -> None:
    with pytest.raises(ValueError, match="same size"):
        encoded([*moving_scene(3), moving_scene(1, 80, 48)[0]], 100)


def test_a_conversion_makes_an_avif_of_the_requested_frames(clips) -> None:  # type: ignore[no-untyped-def]
    src = clips.moving(duration=3, size="320x240")
    animation = AnimationSpec.create(format="avif", interval=0.25, frame_rate=12, width=160.0)
    result = convert(src, probe(src), animation, trim_start=0.5)
    anim = decoded(result.data, "RGB")
    assert result.format == "avif" and result.frames == len(anim.frames) == 10
    assert anim.size == (160, 120)
    assert abs(sum(anim.durations) - 10 * 1000 / 12) <= 1
    scores = [
        ssim(f, decode_frame(src, 0.5 + 0.25 * k, 160, 120, fps=25))
        for k, f in enumerate(anim.frames)
    ]
    assert min(scores) >= 0.80, scores  # WebP's floor on this clip: 0.70


def test_a_conversion_of_an_alpha_source_keeps_alpha(clips) -> None:  # type: ignore[no-untyped-def]
    src = clips.alpha()
    animation = AnimationSpec.create(format="avif", interval=0.5, frame_rate=2)
    anim = decoded(convert(src, probe(src), animation).data)
    assert anim.mode == "RGBA"
    alpha = anim.frames[0][..., 3]
    assert alpha.min() < 16 and alpha.max() > 240  # transparent background, opaque disc


def _durations(data: bytes) -> dict[str, list[int]]:
    """Every movie, track and edit duration in the file, by box type."""
    from converter.pipeline.encode_avif import _boxes, _field

    buf = bytearray(data)
    found: dict[str, list[int]] = {"mvhd": [], "tkhd": [], "elst": [], "mdhd": []}

    def walk(start: int, end: int) -> None:
        for kind, body, stop in _boxes(buf, start, end):
            name = kind.decode("latin-1")
            v1 = buf[body] == 1
            if name in ("mvhd", "mdhd"):
                found[name].append(_field(buf, body + (24 if v1 else 16), 8 if v1 else 4))
            elif name == "tkhd":
                found[name].append(_field(buf, body + (28 if v1 else 20), 8 if v1 else 4))
            elif name == "elst":
                found[name].append(_field(buf, body + 8, 8 if v1 else 4))
            elif name in ("moov", "trak", "edts", "mdia"):
                walk(body, stop)

    walk(0, len(buf))
    return found


@pytest.mark.parametrize("alpha", [False, True], ids=["opaque", "alpha"])
def test_forever_is_an_indefinite_duration_and_n_plays_n_edits(alpha: bool) -> None:
    frames = with_alpha(5) if alpha else moving_scene(5)
    forever = _durations(encoded(frames, 100, loop=0))
    assert forever["tkhd"] and set(forever["tkhd"] + forever["mvhd"]) == {2**64 - 1}
    for plays in (1, 3):
        data = encoded(frames, 100, loop=plays)
        found = _durations(data)
        assert len(found["tkhd"]) == len(found["elst"]) == (2 if alpha else 1)
        (edit,) = set(found["elst"])
        assert edit == 500  # 5 frames of 100 ms in the movie's ms timescale
        assert set(found["tkhd"] + found["mvhd"]) == {plays * edit}
        assert len(decoded(data).frames) == 5  # still decodes, every frame
