"""The fit's choice of the passes after the first that fits (``pipeline.fit``),
on passes made up here: no conversion runs."""

from __future__ import annotations

import math

import pytest

from converter.pipeline.fit import (
    FILL,
    MARGIN,
    TARGET_PASSES,
    Pass,
    Setting,
    _grid,
    fill,
    mix_bytes,
    next_candidate,
)

WIDTH, HEIGHT = 480, 270
BASE = Setting(10.0, 1.0, "balanced")


def _pass(setting: Setting, bytes_: int, max_bytes: int, ssim: float = 0.8) -> Pass:
    w, h = round(WIDTH * setting.scale), round(HEIGHT * setting.scale)
    return Pass(setting, bytes_, 50, w, h, ssim if bytes_ <= max_bytes else None, 0.1)


def _bytes(scale: float) -> int:
    """Bytes that follow the side to the power 1.3 (WebP's at large sizes)."""
    return round(800_000 * scale**1.3)


def test_bytes_between_two_passes_of_one_mix_are_interpolated_in_log_scale():
    cap = 500_000
    low, high = Setting(10.0, 0.6, "balanced"), Setting(10.0, 0.75, "balanced")
    passes = [_pass(BASE, _bytes(1.0), cap), _pass(high, _bytes(0.75), cap)]
    passes.append(_pass(low, _bytes(0.6), cap))
    between = Setting(10.0, 0.66, "balanced")
    predicted, interpolated = mix_bytes(between, passes, "webp")
    assert interpolated and predicted == pytest.approx(_bytes(0.66), rel=1e-3)
    # Another mix, or a size outside the measured ones: not interpolated.
    assert not mix_bytes(Setting(8.0, 0.66, "balanced"), passes, "webp")[1]
    assert not mix_bytes(Setting(10.0, 0.5, "balanced"), passes, "webp")[1]


def test_a_fill_takes_the_largest_width_predicted_under_the_fill_share_of_the_cap():
    cap = 500_000
    grid = _grid(BASE, "webp", WIDTH, HEIGHT)
    passes = [
        _pass(BASE, _bytes(1.0), cap),
        _pass(Setting(10.0, 0.75, "balanced"), _bytes(0.75), cap),
        _pass(Setting(10.0, 0.6, "balanced"), _bytes(0.6), cap),
    ]
    grown = fill(passes[-1].setting, grid, passes, cap, "webp")
    assert grown is not None and grown.fps == 10.0 and grown.quality == "balanced"
    width = round(WIDTH * grown.scale)
    assert math.isclose(grown.scale, width / WIDTH, abs_tol=1e-5)  # a whole pixel
    assert mix_bytes(grown, passes, "webp")[0] <= FILL * cap
    wider = Setting(10.0, (width + 1) / WIDTH, "balanced")
    assert mix_bytes(wider, passes, "webp")[0] > FILL * cap
    # The room the first fitting pass left (about 82% of the cap) is used.
    assert _bytes(grown.scale) > 0.93 * cap


def test_after_the_first_fit_a_neighbouring_mix_then_the_kept_one_filled():
    cap = 500_000
    grid = _grid(BASE, "webp", WIDTH, HEIGHT)
    fitted = Setting(10.0, 0.6, "balanced")
    passes = [_pass(BASE, _bytes(1.0), cap), _pass(fitted, _bytes(0.6), cap, ssim=0.89)]
    explored = next_candidate(grid, passes, cap, "webp", BASE, passes[-1])
    assert explored is not None
    assert (explored.fps, explored.quality) != (10.0, "balanced")  # another mix
    assert explored.scale > 0.6  # sized for the cap, not left at the kept size
    # It scored lower: the kept mix is filled, interpolated between its passes.
    passes.append(_pass(explored, round(0.9 * cap), cap, ssim=0.85))
    grown = next_candidate(grid, passes, cap, "webp", BASE, passes[1])
    assert grown is not None and (grown.fps, grown.quality) == (10.0, "balanced")
    assert grown.scale > 0.6 * 1.01
    assert mix_bytes(grown, passes, "webp")[0] <= FILL * cap
    passes.append(_pass(grown, _bytes(grown.scale), cap, ssim=0.9))
    assert len(passes) == TARGET_PASSES
    assert next_candidate(grid, passes, cap, "webp", BASE, passes[-1]) is None


def test_a_fill_extrapolated_past_the_passes_keeps_the_margin():
    cap = 500_000
    grid = _grid(BASE, "webp", WIDTH, HEIGHT)
    fitted = Setting(10.0, 0.5, "balanced")
    passes = [_pass(fitted, _bytes(0.5), cap)]  # one pass: the priors alone
    grown = fill(fitted, grid, passes, cap, "webp")
    assert grown is not None
    assert not mix_bytes(grown, passes, "webp")[1]
    assert mix_bytes(grown, passes, "webp")[0] <= MARGIN * cap
