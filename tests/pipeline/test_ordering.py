"""Speed, Reverse and Boomerang on real clips: which source frames, in
which order, for how long (the indexed clip says which frame each is)."""

from __future__ import annotations

import math

import pytest

from converter.bench.decode import decode
from converter.pipeline.convert import convert
from converter.pipeline.errors import PipelineError
from converter.pipeline.limits import Limits
from converter.pipeline.probe import probe
from converter.spec import AnimationSpec


def indices(data: bytes) -> list[int]:
    return [round(f[..., 0].astype(float).mean()) for f in decode(data).frames]


def near(got: list[int], expected: list[int]) -> bool:
    """Lossy WebP of flat grey: +-2 levels, i.e. no frame off by one (step 4)."""
    return len(got) == len(expected) and all(
        abs(a - b) <= 2 for a, b in zip(got, expected, strict=True)
    )


def make(clips, fmt: str = "webp", **kw):
    src = clips.indexed(duration=6, fps=10, step=4)
    spec = AnimationSpec.create(format=fmt, interval=0.5, frame_rate=2.0, quality="best", **kw)
    return convert(src, probe(src), spec, trim_start=1, trim_duration=3)


FORWARD = [4 * (10 + 5 * k) for k in range(6)]  # 1.0, 1.5 .. 3.5 s: frames 10, 15 .. 35


@pytest.mark.parametrize("fmt", ["gif", "webp"])
def test_reverse_plays_the_same_frames_backwards(clips, fmt):
    assert near(indices(make(clips, fmt).data), FORWARD)
    result = make(clips, fmt, reverse=True)
    assert near(indices(result.data), FORWARD[::-1]), indices(result.data)


@pytest.mark.parametrize("fmt", ["gif", "webp"])
def test_boomerang_of_n_frames_gives_2n_minus_2_without_repeating_the_turns(clips, fmt):
    result = make(clips, fmt, boomerang=True)
    assert result.frames == 2 * 6 - 2
    assert near(indices(result.data), FORWARD + FORWARD[-2:0:-1]), indices(result.data)


def test_reverse_and_boomerang_go_back_then_forth(clips):
    result = make(clips, reverse=True, boomerang=True)
    back = FORWARD[::-1]
    assert near(indices(result.data), back + back[-2:0:-1]), indices(result.data)


def test_double_speed_halves_the_frames_and_the_duration(clips):
    normal, fast = make(clips), make(clips, speed=2.0)
    assert (normal.frames, fast.frames) == (6, 3)
    assert sum(decode(fast.data).durations) * 2 == sum(decode(normal.data).durations)
    assert near(indices(fast.data), FORWARD[::2]), indices(fast.data)


def test_half_speed_samples_twice_as_often(clips):
    slow = make(clips, speed=0.5)
    assert slow.frames == 12
    # 1.0, 1.25 .. 3.75 s; of two source frames as near (1.25 s), the earlier
    expected = [4 * math.floor((1 + 0.25 * k) * 10 + 0.5 - 1e-6) for k in range(12)]
    assert near(indices(slow.data), expected), indices(slow.data)


def test_a_boomerang_past_the_frame_limit_is_refused(clips):
    src = clips.indexed(duration=6, fps=10, step=4)
    spec = AnimationSpec.create(format="gif", interval=0.5, frame_rate=2.0, boomerang=True)
    with pytest.raises(PipelineError) as caught:
        convert(src, probe(src), spec, trim_duration=3, limits=Limits(max_output_frames=8))
    assert caught.value.code == "TooManyFrames" and "10 frames" in caught.value.message
