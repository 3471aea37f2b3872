"""Frame sampling on real clips: which source frames, how many, what size."""

from __future__ import annotations

import math

import pytest

from converter.bench.decode import decode
from converter.pipeline import isolated
from converter.pipeline.convert import convert
from converter.pipeline.errors import PipelineError
from converter.pipeline.frameplan import plan_frames, split_for_decoding
from converter.pipeline.geometry import Geometry
from converter.pipeline.limits import Limits
from converter.pipeline.probe import probe
from converter.pipeline.sample import sample
from converter.spec import AnimationSpec


def indices(data: bytes) -> list[int]:
    """Frame numbers read back from an animation of the indexed clip."""
    frames = decode(data).frames
    return [round(f[..., 0].astype(float).mean()) for f in frames]


def spec(**kw) -> AnimationSpec:
    return AnimationSpec.create(
        **{"format": "webp", "interval": 1.0, "frame_rate": 10.0, "quality": "best", **kw}
    )


def test_frame_k_is_the_source_frame_at_start_plus_k_intervals(clips):
    src = clips.indexed(duration=10, fps=24)
    result = convert(src, probe(src), spec(interval=0.7), trim_start=2, trim_duration=5)
    expected = [round((2 + k * 0.7) * 24) for k in range(8)]  # 2.0 .. 6.9 s
    assert result.frames == 8
    # lossy WebP of flat grey: allow +-2 levels of brightness, i.e. no off-by-one frame
    assert all(abs(a - b) <= 2 for a, b in zip(indices(result.data), expected, strict=True)), (
        indices(result.data)
    )


@pytest.mark.parametrize("container", ["mkv", "avi"])  # millisecond and 1/fps time bases
@pytest.mark.parametrize("start", [0.0, 0.07, 0.98, 2.36])  # no seek, seeks off the frame grid
def test_each_frame_is_the_source_frame_nearest_its_time_up_to_the_last(clips, container, start):
    """Frames every 0.1 s, sampled every 0.5 s from ``start``: frame k is the
    one nearest ``start + 0.5 k`` (of two as near, the earlier); the last
    sampled time may fall within the last half frame (5.98 s), where the last
    frame (5.9 s) is the nearest."""
    src = clips.indexed(duration=6, fps=10, step=4, container=container)
    info = probe(src)
    plan = plan_frames(
        info,
        trim_start=0,
        trim_duration=0,
        start_time=start,
        interval=0.5,
        number=0,
        limits=Limits(),
    )
    frames = list(sample(src, info, plan, Geometry(64, 48, "scale=64:48"), Limits()))
    times = [start + 0.5 * k for k in range(plan.count)]
    nearest = [min(math.floor(t * 10 + 0.5 - 1e-6), 59) for t in times]
    assert [round(f[..., 0].mean() / 4, 2) for f in frames] == nearest


def test_whole_source_at_one_frame_a_second_gives_one_frame_per_second(clips):
    src = clips.indexed(duration=10, fps=24)
    result = convert(src, probe(src), spec())
    assert result.frames == 10
    assert all(
        abs(a - b) <= 2
        for a, b in zip(indices(result.data), [24 * k for k in range(10)], strict=True)
    )


def test_number_limits_the_frames_and_start_time_offsets_within_the_trim(clips):
    src = clips.indexed(duration=10, fps=24)
    result = convert(src, probe(src), spec(number=3, start_time=1.5), trim_start=2)
    assert result.frames == 3
    assert all(abs(a - b) <= 2 for a, b in zip(indices(result.data), [84, 108, 132], strict=True))


def test_a_request_past_the_end_is_clamped_to_the_source(clips):
    src = clips.indexed(duration=10, fps=24)
    result = convert(src, probe(src), spec(interval=2), trim_start=6, trim_duration=100)
    assert result.frames == 2  # 6 s and 8 s; 10 s is past the end


def test_a_start_after_the_end_is_refused(clips):
    src = clips.indexed(duration=10, fps=24)
    with pytest.raises(PipelineError) as err:
        convert(src, probe(src), spec(), trim_start=12)
    assert err.value.code == "StartTimeOutOfRange"


def test_too_many_frames_are_refused_before_decoding(clips):
    src = clips.indexed(duration=10, fps=24)
    with pytest.raises(PipelineError) as err:
        convert(src, probe(src), spec(interval=0.01), limits=Limits(max_output_frames=50))
    assert err.value.code == "TooManyFrames"


def test_portrait_phone_video_comes_out_upright(clips):
    src = clips.portrait()
    info = probe(src)
    assert (info.width, info.height, info.rotation) == (180, 320, 90)
    result = convert(src, info, spec(interval=0.5, width=90.0))
    image = decode(result.data)
    frames = image.frames
    assert image.size == (90, 160) == (result.width, result.height)
    assert frames[0].shape[:2] == (160, 90)


def test_runs_sampled_side_by_side_are_still_the_frames_at_their_times(clips, monkeypatch):
    """A WebP is sampled as consecutive runs by separate ffmpeg processes, each
    seeking to its own start; the frames must be the same as from one run."""
    from converter.pipeline import encode_webp

    monkeypatch.setattr(encode_webp, "CPUS", 3)
    src = clips.indexed(duration=10, fps=24)
    assert encode_webp.parts(24, alpha=False) == 3
    result = convert(src, probe(src), spec(interval=0.25), trim_start=1.5, trim_duration=6)
    expected = [round((1.5 + k * 0.25) * 24) for k in range(24)]
    assert result.frames == 24
    assert all(abs(a - b) <= 2 for a, b in zip(indices(result.data), expected, strict=True)), (
        indices(result.data)
    )


@pytest.mark.parametrize("probed", [True, False])
@pytest.mark.parametrize(("key_frame_every", "runs"), [(1000, 1), (12, 2)])
def test_runs_are_split_only_where_each_decodes_its_own_part(
    clips, key_frame_every, runs, probed, monkeypatch
):
    """A later run decodes from the key frame before its start: with one key
    frame (a typical screen recording) it would decode the first run's part
    again, so the plan stays one run. The probe read the key frames of a
    clip this short; where it did not, the sandboxed child looks them up."""
    src = clips.key_frame_every(key_frame_every)
    info = probe(src, key_frames=probed)
    if probed:  # no child: the probe's key frames answer
        monkeypatch.setattr(isolated, "key_frame_before", None)
    else:
        assert info.key_frames_until == 0.0  # not asked for: none read
    plan = plan_frames(
        info, trim_start=0, trim_duration=0, start_time=0, interval=0.25, number=0, limits=Limits()
    )
    split = split_for_decoding(src, info, plan, 2, Limits())
    assert len(split) == runs and sum(run.count for run in split) == plan.count == 24
