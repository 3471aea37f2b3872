"""The MP4 encoder, decoded back with PyAV (libavcodec's own H.264 decoder)."""

from __future__ import annotations

import io
from fractions import Fraction

import av
import numpy as np
import pytest

from converter.bench.score import ssim
from converter.pipeline import encode_mp4
from converter.pipeline.convert import convert
from converter.pipeline.encoding import QUALITIES, EncodeOptions
from converter.pipeline.probe import probe
from converter.spec import AnimationSpec
from tests.media import decode_frame
from tests.pipeline.frames import ffmpeg_clip, moving_scene, with_alpha

# 4:2:0 halves the chroma of these small, saturated pictures; the floors
# catch a broken encoder (wrong matrix, swapped channels, lost frames).
SSIM_FLOOR = {"low": 0.85, "balanced": 0.90, "best": 0.93}


class Decoded:
    """An MP4's video stream as PyAV reads it, and its frames as RGB."""

    def __init__(self, data: bytes) -> None:
        with av.open(io.BytesIO(data)) as container:
            self.streams = [s.type for s in container.streams]
            video = container.streams.video[0]
            self.codec = video.codec_context.name
            self.profile = video.codec_context.profile
            self.pixel_format = video.codec_context.format.name
            self.size = (video.codec_context.width, video.codec_context.height)
            assert video.duration is not None and video.time_base is not None
            self.duration = Fraction(video.duration) * video.time_base
            self.frames = []
            self.times = []
            for frame in container.decode(video=0):
                self.frames.append(frame.to_ndarray(format="rgb24"))
                self.times.append(frame.time)


def encoded(frames: list[np.ndarray], frame_ms: float, **kw: object) -> tuple[bytes, int]:
    result = encode_mp4.encode(iter(frames), EncodeOptions(frame_duration_ms=frame_ms, **kw))  # type: ignore[arg-type]
    return result.data, result.frames


@pytest.mark.parametrize("fps", [15, 12.5, 29.97, 0.5])
def test_frame_count_and_duration_match_exactly(fps: float) -> None:
    data, count = encoded(moving_scene(12), 1000 / fps)
    video = Decoded(data)
    assert count == len(video.frames) == 12
    assert video.duration == 12 / Fraction(fps).limit_denominator(1000)
    step = 1 / fps
    assert all(abs(t - k * step) < 1e-3 for k, t in enumerate(video.times)), video.times


def test_it_is_muted_h264_high_yuv420p() -> None:
    video = Decoded(encoded(moving_scene(6), 100)[0])
    assert video.streams == ["video"]  # no audio, no data or subtitle track
    assert (video.codec, video.profile, video.pixel_format) == ("h264", "High", "yuv420p")


def test_the_index_comes_before_the_pictures() -> None:
    """faststart: a player can start before the whole file is downloaded."""
    data = encoded(moving_scene(6), 100)[0]
    boxes = _top_level_boxes(data)
    assert boxes.index("moov") < boxes.index("mdat"), boxes


@pytest.mark.parametrize(("width", "height"), [(161, 97), (160, 97), (161, 96), (160, 96)])
def test_odd_sides_are_padded_by_one_pixel_repeating_the_edge(width: int, height: int) -> None:
    frames = moving_scene(4, width, height)
    video = Decoded(encoded(frames, 100, quality="best")[0])
    assert video.size == (width + width % 2, height + height % 2)
    for got, want in zip(video.frames, frames, strict=True):
        assert ssim(got[:height, :width], want) > SSIM_FLOOR["best"]
        edge = got[:, width - 1].astype(int), got[:, -1].astype(int)
        assert np.abs(edge[0] - edge[1]).mean() < 6  # no black column
        row = got[height - 1].astype(int), got[-1].astype(int)
        assert np.abs(row[0] - row[1]).mean() < 6


@pytest.mark.parametrize("quality", QUALITIES)
def test_every_quality_looks_like_the_source_and_better_costs_more(quality: str) -> None:
    frames = ffmpeg_clip(10, 192, 108)
    data, _ = encoded(frames, 100, quality=quality)
    video = Decoded(data)
    scores = [ssim(a, b) for a, b in zip(video.frames, frames, strict=True)]
    assert min(scores) > SSIM_FLOOR[quality] - 0.1, scores  # testsrc2: fine, saturated text
    assert np.mean(scores) > SSIM_FLOOR[quality] - 0.05
    sizes = {q: len(encoded(frames, 100, quality=q)[0]) for q in QUALITIES}
    assert sizes["low"] < sizes["balanced"] < sizes["best"]


def test_bgr_frames_come_out_in_their_colours() -> None:
    frames = moving_scene(4)
    bgr = [f[..., ::-1].copy() for f in frames]
    video = Decoded(encoded(bgr, 100, order="bgr")[0])
    for got, want in zip(video.frames, frames, strict=True):
        assert np.abs(got.astype(int).mean((0, 1)) - want.mean((0, 1))).max() < 4
        assert ssim(got, want) > SSIM_FLOOR["balanced"]


def test_alpha_is_composited_on_black() -> None:
    frames = with_alpha(6)
    video = Decoded(encoded(frames, 100, quality="best")[0])
    assert len(video.frames) == 6
    for got, want in zip(video.frames, frames, strict=True):
        assert got[2:12, 2:60].max() < 24  # transparent: black
        square = want[..., 3] == 255
        assert np.abs(got[square].astype(int).mean(0) - (30, 200, 90)).max() < 16


def test_frames_are_taken_one_at_a_time() -> None:
    """ffmpeg gets each frame as the iterator yields it: a frame is never
    drawn before the one before it was written."""
    drawn = []

    def frames():  # type: ignore[no-untyped-def]
        for k, f in enumerate(moving_scene(30)):
            drawn.append(k)
            yield f

    assert encode_mp4.encode(frames(), EncodeOptions(frame_duration_ms=50)).frames == 30
    assert drawn == list(range(30))


def test_a_frame_of_another_size_is_refused() -> None:
    frames = [*moving_scene(3), moving_scene(1, 80, 48)[0]]
    with pytest.raises(ValueError, match="same size"):
        encoded(frames, 100)


def test_no_frames_is_an_error() -> None:
    with pytest.raises(ValueError, match="no frames"):
        encoded([], 100)


def test_a_conversion_makes_an_mp4_of_the_requested_frames(clips) -> None:  # type: ignore[no-untyped-def]
    src = clips.moving(duration=3, size="320x240")
    animation = AnimationSpec.create(format="mp4", interval=0.25, frame_rate=12, width=160.0)
    result = convert(src, probe(src), animation, trim_start=0.5)
    video = Decoded(result.data)
    assert result.format == "mp4" and result.frames == len(video.frames) == 10
    assert video.size == (160, 120) and video.streams == ["video"]
    assert video.duration == Fraction(10, 12)
    scores = [
        ssim(f, decode_frame(src, 0.5 + 0.25 * k, 160, 120, fps=25))
        for k, f in enumerate(video.frames)
    ]
    assert min(scores) >= 0.85, scores


def _top_level_boxes(data: bytes) -> list[str]:
    boxes, at = [], 0
    while at + 8 <= len(data):
        size = int.from_bytes(data[at : at + 4], "big")
        boxes.append(data[at + 4 : at + 8].decode("latin-1"))
        if size == 1:
            size = int.from_bytes(data[at + 8 : at + 16], "big")
        if size < 8:
            break
        at += size
    return boxes


def test_the_benchmark_decoder_reads_an_mp4() -> None:
    """``bench.decode`` (the benchmark's and the tests' one decoder) gives an
    MP4's frames and their durations as it does a GIF's."""
    from converter.bench.decode import decode

    frames = moving_scene(8, 161, 97)
    data, _ = encoded(frames, 1000 / 12.5)
    anim = decode(data)
    assert (anim.format, anim.size, len(anim.frames)) == ("MP4", (162, 98), 8)
    assert anim.durations == [80] * 8
    assert ssim(anim.frames[0][:97, :161], frames[0]) > SSIM_FLOOR["balanced"]


def test_a_sampling_failure_stops_the_encode_with_its_own_error() -> None:
    from converter.pipeline.errors import PipelineError

    def frames():  # type: ignore[no-untyped-def]
        yield from moving_scene(3)
        raise PipelineError("DecodeFailed", "The video could not be decoded.")

    with pytest.raises(PipelineError, match="could not be decoded"):
        encode_mp4.encode(frames(), EncodeOptions(frame_duration_ms=100))


def test_an_ffmpeg_failure_is_reported_with_its_words(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from converter.pipeline import ffmpeg

    with pytest.raises(RuntimeError, match=r"ffmpeg could not encode: .*Encoder not found"):
        ffmpeg.encode_raw(
            iter(moving_scene(2)),
            size=(160, 96),
            pixel_format="rgb24",
            frame_rate=Fraction(10),
            output_args=["-c:v", "no-such-codec", "-f", "mp4"],
            output=tmp_path / "out.mp4",
            timeout_s=60,
        )


def test_an_odd_sized_conversion_reports_the_size_the_file_has(clips) -> None:  # type: ignore[no-untyped-def]
    src = clips.moving(duration=1, size="320x240")
    animation = AnimationSpec.create(format="mp4", interval=0.25, frame_rate=4, width=161.0)
    result = convert(src, probe(src), animation)
    assert (result.width, result.height) == Decoded(result.data).size == (162, 122)
