"""Fitting under a size cap (``pipeline.fit``) on clips the tests make: each
preset's cap and picture, CannotFit, the report, and the chooser."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from PIL import Image

from converter.bench.decode import decode
from converter.pipeline import encode_gif
from converter.pipeline.encoding import EncodeOptions
from converter.pipeline.fit import (
    MAX_PASSES,
    Pass,
    Setting,
    choose,
    estimate,
    fit,
    next_candidate,
    predicted_bytes,
)
from converter.pipeline.probe import probe
from converter.pipeline.quality import held_ssim
from converter.presets import PRESETS
from converter.spec import AnimationSpec
from tests.media import decode_frame, ffmpeg


@pytest.fixture(scope="module")
def wide(clips):
    """6 s of moving colour pattern, larger than every preset's box."""
    return clips.moving(duration=6, size="640x360", name="fit-wide.mp4")


@pytest.fixture(scope="module")
def noise(clips):
    """5 s of full-frame noise, lossless: nothing compresses it."""
    path = clips.root / "fit-noise.mkv"
    if not path.exists():
        ffmpeg(
            "-f", "lavfi", "-i",
            "nullsrc=s=320x240:r=25:d=5,geq=lum='random(1)*255':cb='random(2)*255':cr=128",
            "-c:v", "ffv1", "-pix_fmt", "yuv444p", str(path),
        )  # fmt: skip
    return path


@pytest.mark.parametrize("preset", list(PRESETS))
def test_every_preset_gives_a_file_under_its_cap_in_its_format_and_picture(wide, preset):
    p = PRESETS[preset]
    spec = AnimationSpec.parse({"Preset": preset, "FrameRate": 10})
    assert spec.max_bytes is not None
    fitted = fit(wide, probe(wide), spec, spec.max_bytes)
    data = fitted.result.data
    assert len(data) <= p.max_bytes
    shown = decode(data)
    assert shown.format == {"gif": "GIF", "webp": "WEBP", "mp4": "MP4", "avif": "AVIF"}[spec.format]
    assert spec.format == p.default_format
    width, height = shown.size
    if p.box:
        assert width <= p.box[0] and height <= p.box[1]
        assert max(width / p.box[0], height / p.box[1]) > 0.25  # not shrunk to nothing
    if p.max_duration_s:
        assert sum(shown.durations) <= 1000 * p.max_duration_s
    assert len(fitted.passes) <= 4  # the target on a typical clip
    assert fitted.chosen.ssim is not None and fitted.chosen.ssim > 0.5
    assert fitted.report()["Bytes"] == len(data) <= fitted.report()["MaxBytes"]


def test_an_impossible_cap_fails_with_the_smallest_size_reached(noise):
    spec = AnimationSpec.create(format="gif", interval=0.1, frame_rate=10, max_bytes=2000)
    with pytest.raises(Exception) as info:
        fit(noise, probe(noise), spec, 2000)
    assert getattr(info.value, "code", "") == "CannotFit"
    reached = re.search(r"smallest reached was ([\d,]+) bytes", str(info.value))
    assert reached, str(info.value)
    assert int(reached.group(1).replace(",", "")) > 2000
    assert "2,000 bytes" in str(info.value)


def test_the_report_names_what_changed_as_the_file_has_it(wide):
    spec = AnimationSpec.create(format="gif", interval=0.1, frame_rate=10, number=30)
    info = probe(wide)
    fitted = fit(wide, info, spec, 150_000)
    shown = decode(fitted.result.data)
    assert fitted.changes, fitted.report()
    kept = fitted.chosen.setting
    for change in fitted.changes:
        if "fps" in change:
            assert change == f"{kept.fps:g} fps instead of 10"
            assert abs(np.mean(shown.durations) - 1000 / kept.fps) <= 10
        elif "px" in change:
            assert change == f"{shown.size[0]} px instead of 640"
        elif "quality" in change:
            assert change == f"quality {kept.quality} instead of balanced"
        else:
            assert change == f"{kept.colors} colours instead of 256"
    report = fitted.report()
    assert report["Summary"].startswith("To fit under 150,000 bytes: ")
    assert all(c in report["Summary"] for c in fitted.changes)
    assert report["Passes"] == len(report["Tried"]) <= MAX_PASSES


def test_a_request_that_fits_as_asked_is_made_as_asked_in_one_pass(wide):
    spec = AnimationSpec.create(format="webp", interval=0.1, frame_rate=10, width=160.0)
    fitted = fit(wide, probe(wide), spec, 5_000_000)
    assert len(fitted.passes) == 1 and fitted.changes == ()
    assert decode(fitted.result.data).size == (160, 90)
    assert fitted.summary == "Fits under 5,000,000 bytes as asked."


def test_a_real_fit_keeps_the_highest_ssim_of_those_under_the_cap(wide):
    spec = AnimationSpec.create(format="gif", interval=0.1, frame_rate=10, number=30)
    fitted = fit(wide, probe(wide), spec, 200_000)
    scored = [p for p in fitted.passes if p.ssim is not None]
    assert all(p.bytes <= 200_000 for p in scored)
    assert fitted.chosen.ssim == max(p.ssim for p in scored if p.ssim is not None)


def _pass(bytes_: int, ssim: float | None, fps: float = 10, scale: float = 1.0) -> Pass:
    return Pass(Setting(fps, scale, "balanced"), bytes_, 10, 100, 100, ssim, 0.1)


def test_the_chooser_keeps_the_higher_ssim_under_the_cap_never_one_over():
    over = _pass(1200, None)
    small = _pass(700, 0.81, scale=0.7)
    better = _pass(950, 0.86, fps=8)
    assert choose([over, small, better], 1000) is better
    assert choose([over, better, small], 1000) is better
    assert choose([_pass(1001, 0.99)], 1000) is None
    assert choose([over], 1000) is None
    tie = _pass(600, 0.81, scale=0.6)
    assert choose([small, tie], 1000) is tie  # the smaller on a tie


def test_the_passes_predict_the_next_and_a_miss_teaches_the_slope():
    base = Setting(10, 1.0, "balanced")
    first = Pass(base, 100_000, 20, 200, 100, None, 0.1)
    half = Setting(10, 0.5, "balanced")
    guess = predicted_bytes(half, first, "webp")
    assert 25_000 < guess < 35_000  # about a quarter of the pixels, by the priors
    assert estimate(half, [first], "webp") == pytest.approx(guess)
    # The file shrank 0.6 as far (in log ratio) as the priors said: the
    # next candidate is predicted on that slope, from the nearer pass.
    measured = Pass(half, round(100_000 * (guess / 100_000) ** 0.6), 20, 100, 50, None, 0.1)
    quarter = Setting(10, 0.25, "balanced")
    expected = measured.bytes * (predicted_bytes(quarter, measured, "webp") / measured.bytes) ** 0.6
    assert estimate(quarter, [first, measured], "webp") == pytest.approx(expected, rel=0.01)
    grid = [Setting(10, s, "balanced") for s in (1.0, 0.5, 0.25, 0.1)]
    # None fits by the estimate: the smallest is tried; tried and over: give up.
    assert next_candidate(grid, [first], 10, "webp", base, None) == grid[-1]
    tried = [first, Pass(grid[-1], 5000, 20, 20, 10, None, 0.1)]
    assert next_candidate(grid, tried, 10, "webp", base, None) is None
    # Room under the cap: the cheapest candidate predicted to fit comes next.
    assert next_candidate(grid, [first], 40_000, "webp", base, None) == half


def test_held_ssim_judges_a_lower_frame_rate_by_the_motion_it_holds(clips):
    src = clips.moving(duration=2, size="160x120", name="fit-small.mp4")
    times = [k * 100.0 for k in range(10)]
    reference = [decode_frame(src, t / 1000, 160, 120, fps=25) for t in times]
    every = [(t, f) for t, f in zip(times, reference, strict=True)]
    half = every[::2]
    small = [(t, f[::2, ::2].copy()) for t, f in every]
    assert held_ssim(reference, times, every) == pytest.approx(1.0)
    assert held_ssim(reference, times, half) < 0.99
    assert held_ssim(reference, times, small) < 0.99


def test_a_gif_palette_size_caps_every_frames_colours():
    rng = np.random.default_rng(1)
    frames = [rng.integers(0, 256, (32, 48, 3), dtype=np.uint8) for _ in range(3)]
    full = encode_gif.encode(frames, EncodeOptions(frame_duration_ms=100))
    few = encode_gif.encode(frames, EncodeOptions(frame_duration_ms=100, colors=16))
    assert len(few.data) < len(full.data)
    with Image.open(io.BytesIO(few.data)) as image:
        for n in range(image.n_frames):
            image.seek(n)
            assert len(image.getpalette() or []) // 3 <= 16
