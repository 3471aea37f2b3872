"""The waveform option: an animation of a sound, for audio-only files (which
otherwise fail with NoVideoStream) and for the sound of a video."""

from __future__ import annotations

import numpy as np
import pytest

from converter.bench.decode import decode
from converter.pipeline.convert import convert
from converter.pipeline.errors import PipelineError
from converter.pipeline.probe import probe
from converter.spec import AnimationSpec, SpecError
from tests.media import AUDIO


def wave(**kw) -> AnimationSpec:
    return AnimationSpec.create(
        **{"format": "webp", "interval": 0.25, "frame_rate": 4, "waveform": True, **kw}
    )


def wave_heights(frames) -> list[int]:
    """Rows the wave covers in each frame (it is drawn light blue on dark)."""
    return [int(np.count_nonzero((f[..., 2] > 150).any(axis=1))) for f in frames]


@pytest.mark.parametrize("kind", list(AUDIO))
def test_every_audio_format_can_be_drawn_as_a_waveform(clips, kind):
    src = clips.audio_only(kind, rising=True)
    info = probe(src, audio_only_ok=True)
    assert info.audio_only and info.duration == pytest.approx(2.0, abs=0.05)
    result = convert(src, info, wave(format="gif"))
    image = decode(result.data)
    frames = image.frames
    assert image.format == "GIF" and image.size == (640, 240) == (result.width, result.height)
    assert result.frames == len(frames) == (8 if info.duration <= 2.0 else 9)
    heights = wave_heights(frames[:8])
    assert all(h > 5 for h in heights) and heights == sorted(heights), heights  # louder and louder


def test_frame_k_draws_the_sound_of_its_own_interval(clips):
    src = clips.audio_only("wav", rising=True)  # amplitude 0.45 x t: louder every moment
    result = convert(src, probe(src, audio_only_ok=True), wave(quality="best"), trim_start=0.5)
    frames = decode(result.data).frames
    assert len(frames) == 6  # 0.5 .. 1.75 s
    # The wave spans 2 x amplitude x 120 rows: at the end of interval k,
    # amplitude 0.45 x (0.5 + 0.25 (k + 1)).
    expected = [round(240 * 0.45 * (0.5 + 0.25 * (k + 1))) for k in range(6)]
    assert all(abs(h - e) <= 4 for h, e in zip(wave_heights(frames), expected, strict=True)), (
        wave_heights(frames),
        expected,
    )


def test_size_and_scale_type_apply_to_the_waveform_canvas(clips):
    src = clips.audio_only("mp3")
    info = probe(src, audio_only_ok=True)
    result = convert(src, info, wave(width=0.5))
    assert (result.width, result.height) == (320, 120)
    result = convert(src, info, wave(width=200.0, height=200.0, scale_type="fill"))
    assert (result.width, result.height) == (200, 200)


def test_an_audio_file_without_the_option_still_has_no_video_stream(clips):
    src = clips.audio_only("wav")
    with pytest.raises(PipelineError) as err:
        probe(src)
    assert err.value.code == "NoVideoStream" and "waveform" in err.value.message
    info = probe(src, audio_only_ok=True)  # a task with another, waveform animation
    with pytest.raises(PipelineError) as err:
        convert(src, info, wave(waveform=False))
    assert err.value.code == "NoVideoStream"


def test_the_sound_of_a_video_can_be_drawn_too(clips):
    src = clips.container("mp4-h264")  # has a tone
    result = convert(src, probe(src), wave())
    frames = decode(result.data).frames
    assert (result.width, result.height, len(frames)) == (640, 240, 8)
    assert all(h > 5 for h in wave_heights(frames))


def test_a_silent_video_has_no_waveform(clips):
    src = clips.container("webm-vp9")  # no audio track
    with pytest.raises(PipelineError) as err:
        convert(src, probe(src), wave())
    assert err.value.code == "NoAudioStream"


def test_the_option_is_off_by_default_and_parsed_from_requests():
    base = {"Format": "gif", "Interval": 0.5}
    assert AnimationSpec.parse(base).waveform is False
    spec = AnimationSpec.parse({**base, "Waveform": True})
    assert spec.waveform is True and str(spec).endswith("-wave.gif")
    assert "-wave" not in str(AnimationSpec.parse(base))
    with pytest.raises(SpecError) as err:
        AnimationSpec.parse({**base, "Waveform": "yes"})
    assert err.value.code == "InvalidArgument.Waveform"
