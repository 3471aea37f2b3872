"""Every input the reference service accepts, made by the bundled ffmpeg and
converted through the whole pipeline: format, geometry, orientation, frame
count and an SSIM floor against the source frame nearest each sampled time
(decoded independently with PyAV)."""

from __future__ import annotations

import numpy as np
import pytest

from converter.bench.decode import decode
from converter.bench.score import ssim
from converter.pipeline.convert import convert
from converter.pipeline.errors import PipelineError
from converter.pipeline.probe import probe
from converter.spec import AnimationSpec
from tests.media import AUDIO, CONTAINERS, reference_frames

# About 70 s of CPU, more than half of all the tests that need no server:
# the full run has it, --fast leaves it out.
pytestmark = pytest.mark.slow

# Measured on these clips: lossy WebP q90 of the busy test pattern scores
# 0.84-0.90 against the source, GIF (256 colours, dithered) a little lower.
FLOORS = {"webp": 0.78, "gif": 0.70}


def check(
    src, info, fmt, *, size, frames, interval=0.25, trim_start=0.0, stream=0, floor=None, **kw
):
    """Convert and assert format, size, frame count, timing and SSIM; return
    the decoded output frames and their scores."""
    animation = AnimationSpec.create(
        format=fmt, interval=interval, frame_rate=4, quality="best", **kw
    )
    result = convert(src, info, animation, trim_start=trim_start)
    image = decode(result.data)
    out, durations = image.frames, image.durations
    assert image.format == fmt.upper()
    assert image.size == size == (result.width, result.height)
    assert len(out) == frames == result.frames
    if frames > 1:  # a one-frame file is a still image: no frame duration
        assert all(abs(d - 250) <= 10 for d in durations), durations
    times = [trim_start + interval * k for k in range(frames)]
    refs = reference_frames(src, times, *size, stream=stream)
    scores = [ssim(f[..., :3], r) for f, r in zip(out, refs, strict=True)]
    assert min(scores) >= (floor or FLOORS[fmt]), scores
    return out, scores


@pytest.mark.parametrize("fmt", ["webp", "gif"])
@pytest.mark.parametrize("kind", list(CONTAINERS))
def test_every_container_and_codec_converts(clips, kind, fmt):
    src = clips.container(kind)
    info = probe(src)
    expected = CONTAINERS[kind]
    assert info.demuxer == expected.demuxer and info.codec in expected.codecs, info
    assert (info.width, info.height, info.rotation) == (320, 240, 0)
    assert info.duration == pytest.approx(2.0, abs=0.1)
    # 0 .. 1.75 s; files whose audio runs a little longer add a frame at 2.0 s
    # (the last picture, still shown), never more.
    frames = 8 if info.duration < 2.0 + 1e-6 else 9
    check(src, info, fmt, size=(320, 240), frames=frames, width=None)


@pytest.mark.parametrize(
    ("degrees", "size"), [(90, (240, 320)), (180, (320, 240)), (270, (240, 320))]
)
def test_rotated_phone_video_comes_out_upright(clips, degrees, size):
    src = clips.rotated(degrees)
    info = probe(src)
    assert (info.rotation, (info.width, info.height)) == (degrees, size)
    out, scores = check(src, info, "webp", size=size, frames=8)
    # The orientation is the displayed one, not the coded one or another turn.
    upright = reference_frames(src, [0.0], *size)[0]
    for turns in (1, 2, 3):
        wrong = np.ascontiguousarray(np.rot90(upright, turns))
        if wrong.shape == out[0][..., :3].shape:
            assert ssim(out[0][..., :3], wrong) < scores[0] - 0.2


def test_variable_frame_rate_samples_by_timestamp(clips):
    src = clips.variable_frame_rate()  # 50 fps for 1 s, then 10 fps to 2.9 s
    info = probe(src)
    check(src, info, "webp", size=(320, 240), frames=12)


def test_odd_dimensions_are_kept(clips):
    src = clips.odd_size()
    info = probe(src)
    assert (info.width, info.height) == (101, 57)
    check(src, info, "gif", size=(101, 57), frames=8)
    check(src, info, "webp", size=(101, 57), frames=8)


def test_anamorphic_pixels_are_shown_square(clips):
    src = clips.anamorphic()  # 240x240 coded, sample aspect 4:3
    info = probe(src)
    assert (info.coded_width, info.coded_height, info.width, info.height) == (240, 240, 320, 240)
    check(src, info, "webp", size=(320, 240), frames=8)
    # Halved, the pattern's fine lines alias in both scalers: a lower floor.
    check(src, info, "webp", size=(160, 120), frames=8, width=0.5, floor=0.7)


@pytest.mark.parametrize(
    ("maker", "pix_fmt"),
    [
        ("ten_bit", "yuv420p10le"),
        ("ten_bit_vp9", "yuv420p10le"),
        ("full_chroma", "yuv444p"),
    ],
)
def test_ten_bit_and_full_chroma_sources(clips, maker, pix_fmt):
    src = getattr(clips, maker)()
    info = probe(src)
    assert info.pix_fmt == pix_fmt
    check(src, info, "webp", size=(320, 240), frames=8)


def combing(frame: np.ndarray) -> float:
    """How much odd rows disagree with their even neighbours (interlace combs)."""
    y = frame[..., :3].astype(float).mean(axis=2)
    return float(np.abs(y[1:-1] - (y[:-2] + y[2:]) / 2).mean())


@pytest.mark.parametrize("codec", ["mpeg2", "h264"])
def test_interlaced_transport_stream_is_deinterlaced(clips, codec):
    src = clips.interlaced(codec)
    info = probe(src)
    assert info.demuxer == "mpegts" and info.interlaced
    out, _ = check(src, info, "webp", size=(320, 240), frames=8)
    woven = reference_frames(src, [0.25 * k for k in range(8)], 320, 240)
    for k in range(1, 8):  # frame 0 is still: the pattern moves from then on
        assert combing(out[k]) < 0.7 * combing(woven[k]), (k, combing(out[k]), combing(woven[k]))


def test_progressive_sources_are_not_deinterlaced(clips):
    assert not probe(clips.container("mp4-h264")).interlaced
    assert not probe(clips.container("vob-mpeg2")).interlaced


def test_container_without_a_stated_duration(clips):
    import av

    src = clips.without_duration()
    with av.open(str(src)) as container:
        assert container.duration is None  # nothing stated: the probe must find it
    info = probe(src)
    assert info.duration == pytest.approx(2.0, abs=0.05)
    check(src, info, "webp", size=(320, 240), frames=8)


def test_a_broken_audio_track_does_not_matter(clips):
    src = clips.broken_audio()
    check(src, probe(src), "webp", size=(320, 240), frames=8)


def test_the_default_video_stream_is_used(clips):
    src = clips.two_video_streams()  # testsrc2 first, testsrc flagged default
    info = probe(src)
    assert info.stream_index == 1
    out, _ = check(src, info, "webp", size=(320, 240), frames=4, interval=0.5, stream=1)
    other = reference_frames(src, [0.0], 320, 240, stream=0)[0]
    assert ssim(out[0][..., :3], other) < 0.5


@pytest.mark.parametrize("codec", ["vp9", "vp8"])
def test_alpha_webm_gives_a_transparent_webp(clips, codec):
    src = clips.alpha(codec)
    info = probe(src)
    assert info.has_alpha and info.codec == codec
    result = convert(
        src, info, AnimationSpec.create(format="webp", interval=0.5, frame_rate=2, quality="best")
    )
    image = decode(result.data)
    frames = image.frames
    assert image.mode == "RGBA" and len(frames) == 4
    master = reference_frames(
        clips.alpha_master(), [0.5 * k for k in range(4)], 160, 120, alpha=True
    )
    for out, ref in zip(frames, master, strict=True):
        assert out.shape[2] == 4
        assert ((out[..., 3] > 127) == (ref[..., 3] > 127)).mean() > 0.98  # the same disc
        assert out[0, 0, 3] == 0 and out[60, 80, 3] == 255
        visible = ref[..., 3] > 127
        assert ssim(out[..., :3] * visible[..., None], ref[..., :3] * visible[..., None]) > 0.85


def test_alpha_webm_gives_a_gif_with_transparency(clips):
    src = clips.alpha()
    result = convert(
        src, probe(src), AnimationSpec.create(format="gif", interval=0.5, frame_rate=2)
    )
    frames = decode(result.data).frames
    assert len(frames) == 4
    assert all(f.shape[2] == 4 for f in frames), "no frame has GIF transparency"
    for f in frames:
        assert f[0, 0, 3] == 0 and f[60, 80, 3] == 255


def test_a_one_frame_source_gives_a_one_frame_animation(clips):
    src = clips.one_frame()
    info = probe(src)
    check(src, info, "webp", size=(320, 240), frames=1, number=10)
    check(src, info, "gif", size=(320, 240), frames=1)


def test_a_request_past_the_end_is_clamped_and_says_how_many_frames(clips):
    src = clips.container("mp4-h264")
    info = probe(src)
    # 1.5 s + 10 x 0.25 s reaches 4 s; the clip ends at 2 s: 1.5 and 1.75 only
    check(src, info, "webp", size=(320, 240), frames=2, trim_start=1.5, number=10)


@pytest.mark.parametrize("kind", list(AUDIO))
@pytest.mark.parametrize("decode", [False, True])
def test_audio_only_files_fail_fast_with_no_video_stream(clips, kind, decode):
    with pytest.raises(PipelineError) as err:
        probe(clips.audio_only(kind), decode=decode)
    assert err.value.code == "NoVideoStream" and err.value.permanent
    assert "audio" in err.value.message


@pytest.mark.parametrize("kind", ["mp3", "m4a", "flac"])
def test_cover_art_in_an_audio_file_is_not_a_video(clips, kind):
    with pytest.raises(PipelineError) as err:
        probe(clips.audio_with_cover(kind))
    assert err.value.code == "NoVideoStream"


@pytest.mark.parametrize("kind", list(CONTAINERS))
def test_every_container_seeks_to_the_exact_frame(clips, kind):
    """A start inside the file makes ffmpeg seek, which each demuxer does its
    own way (index, bitrate guess, timestamps): the frames must still be the
    ones nearest 0.7, 0.95, 1.2 and 1.45 s."""
    src = clips.container(kind)
    check(src, probe(src), "webp", size=(320, 240), frames=4, trim_start=0.7, number=4)


@pytest.mark.parametrize(
    ("kind", "piped"),
    [
        ("ts-h264", False),
        ("vob-mpeg2", False),
        ("flv-h264", True),
        ("mkv-h264", True),
        ("avi-mpeg4", False),
        ("rm-rv20", False),
        ("wmv-wmv2", False),
        ("mp4-h264", False),
    ],
)
def test_a_seek_far_into_a_long_file_finds_the_exact_frames(clips, kind, piped):
    src = clips.long(kind, piped)
    info = probe(src)
    assert info.duration == pytest.approx(12.0, abs=0.15)
    # These small noisy clips score 0.69-0.85 even on the right frame after
    # lossy WebP, so the floor only catches gross errors; that each frame is
    # the one at its own time is shown by it resembling its own reference
    # more than the references a quarter second before and after.
    out, _ = check(
        src, info, "webp", size=(160, 120), frames=5, trim_start=8.3, number=5, floor=0.6
    )
    refs = reference_frames(src, [8.3 + 0.25 * k for k in range(5)], 160, 120)
    for k, frame in enumerate(out):
        scores = [ssim(frame[..., :3], ref) for ref in refs]
        assert max(range(5), key=scores.__getitem__) == k, (k, scores)
