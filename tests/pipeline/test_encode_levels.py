"""The encoders at points of their own quality scale (``EncodeOptions.level``),
as the benchmark's curves run them (converter/bench/curves.py): each point
keeps the frames and their durations, stays above its SSIM floor, and a
higher point spends more bytes."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from converter.bench.curves import CURVES
from converter.bench.decode import decode
from converter.bench.score import ssim
from converter.pipeline import encode_gif, encode_webp
from converter.pipeline.encoding import Encoded, EncodeOptions
from tests.pipeline.frames import moving_scene


def _gif_floor(level: int) -> float:
    return 0.93 if level >= 90 else 0.88


@pytest.mark.parametrize(
    ("fmt", "encode", "floor", "smallest_share"),
    [
        ("gif", encode_gif.encode, _gif_floor, 0.5),
        ("webp", encode_webp.encode, lambda level: 0.9, 0.7),
    ],
)
def test_every_point_of_the_benchmarks_curve_keeps_frames_and_stays_close(
    fmt: str,
    encode: Callable[..., Encoded],
    floor: Callable[[int], float],
    smallest_share: float,
) -> None:
    frames = moving_scene(10)
    levels = next(c.points for c in CURVES[fmt] if c.tool == "ours")
    sizes = []
    for level in levels:
        result = encode(frames, EncodeOptions(frame_duration_ms=100, level=level))
        anim = decode(result.data, "RGB")
        assert len(anim.frames) == result.frames == 10 and sum(anim.durations) == 1000
        assert min(ssim(a, b) for a, b in zip(anim.frames, frames, strict=True)) >= floor(level)
        sizes.append(len(result.data))
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1] * smallest_share, sizes
