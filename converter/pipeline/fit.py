"""Fit an animation under a size cap (``MaxBytes``), losing as little as can be.

``fit`` calls ``convert`` with candidate settings (a lower frame rate, a
smaller picture, a lower quality level and, for a GIF, a smaller palette)
and returns the candidate at most ``max_bytes`` that scores the highest
SSIM against the source. Each pass teaches the next: the bytes per frame
per pixel of the last pass, with the quality's and palette's known share,
predict each candidate's size, so the first candidate tried after the
request's own setting usually fits. Then one pass tries a neighbouring mix
(another frame rate first) sized for the cap, and one fills the room left
under the cap in the better mix, interpolating its size between measured
passes. Candidates are ranked by a prior of what each change costs a
viewer; the measured SSIM decides among those that fit.

The result is never over the cap: when the smallest setting is still too
large, ``fit`` fails with ``CannotFit``, naming the smallest size reached.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from . import mpegts, waveform

# convert's own planning steps, so the reference is sampled exactly as the
# animation would be (the same times, the same picture).
from .convert import (
    ENCODERS,
    Animation,
    AnimationResult,
    _Order,
    _plan_frames,
    _plan_geometry,
    convert,
)
from .encoding import QUALITIES, Quality
from .errors import PipelineError
from .frameplan import FramePlan
from .limits import DEFAULT_LIMITS, Limits
from .probe import VideoInfo
from .quality import held_ssim, shown_frames
from .sample import sample, through_clip
from .workdir import private_folder

log = logging.getLogger(__name__)

T = TypeVar("T")

# Passes after which fit stops and keeps the best it has (each is a whole
# conversion; the target on typical clips is 4 or fewer).
MAX_PASSES = 6
# The passes a fit aims to end in. After the first that fits, one pass tries
# a neighbouring mix (another frame rate, quality or palette: the priors of
# ``cost`` are guesses, SSIM measures), and one fills the room left under the
# cap in the better mix (or, when it has none left, steps on from it). A fit
# whose first fitting pass comes later than the third still gets one after it.
TARGET_PASSES = 4
# Below these a change costs more than any cap is worth: a frame rate of 4
# still reads as motion, a side of 16 px as a picture (an emoji is 32).
MIN_FPS = 4.0
MIN_SIDE_PX = 16
# The frame rates (fractions of the requested one), sizes (fractions of the
# requested sides) and GIF palette sizes tried.
FPS_STEPS = (1.0, 0.8, 2 / 3, 0.5, 0.4, 0.3)
SCALE_STEPS = tuple(round(0.95**k, 3) for k in range(46))  # 1 down to 0.1, 5% apart
GIF_COLORS = (256, 128, 64, 32, 16)
# A candidate is tried when it is predicted at most this share of the cap:
# the model is a few percent off, and a pass over the cap is a pass lost.
MARGIN = 0.93
# A pass whose size lies between two measured passes of its own mix (only
# the size differs) is interpolated, a few percent off at most, so it may aim
# this close to the cap. The size the hand strategy lands on is typically at
# 90-95% of the cap; stopping at MARGIN or below loses to it.
FILL = 0.96
# A fill is tried only when it makes the sides at least this much larger: a
# pixel or two is not worth a conversion.
MIN_FILL_GAIN = 1.01
# The source frames each candidate is scored against, at most (evenly spread).
REFERENCE_FRAMES = 12

# How bytes follow each setting (priors; each pass measures the product).
# Fewer frames do not shrink a file in proportion: each frame left differs
# more from the one before (GIF repaints, WebP and video code differences).
# Measured from 10 to 8 fps (bbb): WebP 0.86; GIF 0.45-0.7, its repainted
# rectangles grow with the motion between frames.
FRAMES_EXPONENT = {"gif": 0.6, "webp": 0.85, "mp4": 0.85, "avif": 0.85}
MIN_SLOPE, MAX_SLOPE = 0.5, 1.6  # of measured bytes against the priors (``estimate``)
# Bytes against pixels, per format. WebP's were measured (bbb, 480x270 down
# to 114x64, balanced): 0.8 overall, 0.6-0.7 for large pictures and near 1
# for small ones, against GIF's 0.9 (``predicted_bytes``' first guess; the
# passes correct it).
PIXELS_EXPONENT = {"gif": 0.9, "webp": 0.8, "mp4": 0.9, "avif": 0.9}
# Bytes of each quality level relative to "balanced", per format.
QUALITY_BYTES: dict[str, dict[str, float]] = {
    "gif": {"low": 0.8, "balanced": 1.0, "best": 1.35},
    "webp": {"low": 0.75, "balanced": 1.0, "best": 1.6},
    "mp4": {"low": 0.6, "balanced": 1.0, "best": 1.7},
    "avif": {"low": 0.7, "balanced": 1.0, "best": 1.6},
}
COLOR_BYTES = {256: 1.0, 128: 0.88, 64: 0.76, 32: 0.64, 16: 0.52}
# What each change costs a viewer (a prior, in SSIM-like units per log
# step): the quality level first (barely seen), then the palette, the
# size and the frame rate. Measured SSIM settles it among those that fit.
QUALITY_COST = {"gif": 0.1, "webp": 0.2, "mp4": 0.15, "avif": 0.15}
COLOR_COST = 0.15  # per halving
SCALE_COST = 1.2  # per e-fold of the side
FPS_COST = 1.0  # per e-fold of the frame rate


@dataclass(frozen=True)
class Setting:
    """One candidate: a frame rate, a fraction of the requested sides, a
    quality level and (GIF) a palette size."""

    fps: float
    scale: float
    quality: Quality
    colors: int = 256


@dataclass(frozen=True)
class Pass:
    """One conversion tried, and what it measured."""

    setting: Setting
    bytes: int
    frames: int
    width: int
    height: int
    ssim: float | None  # None: over the cap, not scored
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "FrameRate": round(self.setting.fps, 3),
            "Width": self.width,
            "Height": self.height,
            "Quality": self.setting.quality,
            "Colors": self.setting.colors,
            "Frames": self.frames,
            "Bytes": self.bytes,
            "SSIM": None if self.ssim is None else round(self.ssim, 4),
        }


@dataclass(frozen=True)
class FitResult:
    result: AnimationResult
    max_bytes: int
    chosen: Pass
    passes: tuple[Pass, ...]
    changes: tuple[str, ...]  # in words: "12 fps instead of 15"
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        if not self.changes:
            return f"Fits under {self.max_bytes:,} bytes as asked."
        return f"To fit under {self.max_bytes:,} bytes: " + ", ".join(self.changes) + "."

    def report(self) -> dict[str, Any]:
        """What the task records and GetTask answers (``FitReport``)."""
        return {
            "MaxBytes": self.max_bytes,
            "Bytes": len(self.result.data),
            "SSIM": None if self.chosen.ssim is None else round(self.chosen.ssim, 4),
            "Passes": len(self.passes),
            "Changes": list(self.changes),
            "Summary": self.summary,
            "Tried": [p.to_dict() for p in self.passes],
        }


class _Candidate:
    """The requested animation with one candidate's settings: what
    ``convert`` reads of it (``convert.Animation``), the rest as asked."""

    def __init__(self, base: Animation, setting: Setting, size: tuple[int, int]) -> None:
        self._base = base
        self.setting = setting
        ratio = _rate(base) / setting.fps  # > 1: sample further apart, keep the speed
        self.format = base.format
        self.interval = base.interval * ratio
        self.number = max(1, math.floor(base.number / ratio + 1e-9)) if base.number else 0
        self.start_time = base.start_time
        if setting.scale == 1.0:
            self.width, self.height = base.width, base.height
        else:
            self.width, self.height = float(size[0]), float(size[1])
        self.scale_type = base.scale_type
        self.quality = setting.quality
        self.loop = base.loop
        self.frame_rate = setting.fps
        self.frame_duration_ms = 1000.0 / setting.fps
        self.colors = setting.colors

    def __getattr__(self, name: str) -> Any:  # speed, crop, captions...: as asked
        return getattr(self._base, name)

    def __str__(self) -> str:
        s = self.setting
        return f"{self._base} (fit: {s.fps:g} fps, x{s.scale:g}, {s.quality}, {s.colors} colours)"


@dataclass(frozen=True)
class _Reference:
    frames: list[np.ndarray]  # the source at the requested size
    times_ms: list[float]  # each one's time on the animation's clock
    width: int
    height: int


def fit(
    source: Path,
    info: VideoInfo,
    animation: Animation,
    max_bytes: int,
    *,
    trim_start: float = 0.0,
    trim_duration: float = 0.0,
    limits: Limits = DEFAULT_LIMITS,
    on_progress: Callable[[float], None] | None = None,
    max_passes: int = MAX_PASSES,
) -> FitResult:
    """The animation at most ``max_bytes``, as close to the source as the
    candidates tried allow."""
    t0 = time.monotonic()
    reference = _reference(source, info, animation, trim_start, trim_duration, limits)
    base = Setting(_rate(animation), 1.0, _quality(animation.quality))
    grid = _grid(base, animation.format, reference.width, reference.height)
    passes: list[Pass] = []
    results: dict[Setting, AnimationResult] = {}

    def attempt(setting: Setting) -> Pass:
        size = _size(setting, reference.width, reference.height)
        done = len(passes)

        def progress(fraction: float) -> None:
            if on_progress:
                on_progress(min(0.99, (done + fraction) / max(3, done + 1)))

        p0 = time.monotonic()
        result = convert(
            source,
            info,
            _Candidate(animation, setting, size),
            trim_start=trim_start,
            trim_duration=trim_duration,
            limits=limits,
            on_progress=progress,
        )
        fits = len(result.data) <= max_bytes
        score = held_ssim(
            reference.frames, reference.times_ms, shown_frames(result.data, result.format)
        ) if fits else None  # fmt: skip
        made = Pass(
            setting,
            len(result.data),
            result.frames,
            result.width,
            result.height,
            score,
            time.monotonic() - p0,
        )
        passes.append(made)
        if fits:
            results[setting] = result
        log.info("fit pass %d: %s -> %d bytes, SSIM %s", len(passes), setting, made.bytes, score)
        return made

    attempt(base)
    while len(passes) < max_passes:
        chosen = choose(passes, max_bytes)
        nxt = next_candidate(grid, passes, max_bytes, animation.format, base, chosen)
        if nxt is None:
            break
        attempt(nxt)
    chosen = choose(passes, max_bytes)
    if chosen is None:
        smallest = min(passes, key=lambda p: p.bytes)
        raise PipelineError(
            "CannotFit",
            f"The animation cannot be made at most {max_bytes:,} bytes: the smallest "
            f"reached was {smallest.bytes:,} bytes ({_words(smallest, passes[0])}). "
            "Choose a shorter stretch or a larger cap.",
        )
    if on_progress:
        on_progress(1.0)
    return FitResult(
        result=results[chosen.setting],
        max_bytes=max_bytes,
        chosen=chosen,
        passes=tuple(passes),
        changes=tuple(changes(passes[0], chosen)),
        timings={"fit_s": time.monotonic() - t0},
    )


def choose(passes: Sequence[Pass], max_bytes: int) -> Pass | None:
    """The pass to keep: the highest SSIM of those at most ``max_bytes``
    (the smaller file on a tie); None when none fits."""
    fitting = [p for p in passes if p.bytes <= max_bytes and p.ssim is not None]
    if not fitting:
        return None
    return max(fitting, key=lambda p: (p.ssim or 0.0, -p.bytes))


def predicted_bytes(setting: Setting, anchor: Pass, fmt: str) -> float:
    """A candidate's bytes by the priors alone, from a measured pass: its
    bytes per frame per pixel, moved by how frames, pixels, quality and
    palette change bytes."""
    a = anchor.setting
    frames = math.pow(setting.fps / a.fps, FRAMES_EXPONENT[fmt])
    pixels = math.pow(setting.scale / a.scale, 2 * PIXELS_EXPONENT[fmt])
    q = QUALITY_BYTES[fmt]
    quality = q[setting.quality] / q[a.quality]
    colors = COLOR_BYTES[setting.colors] / COLOR_BYTES[a.colors]
    return float(anchor.bytes * frames * pixels * quality * colors)


def estimate(setting: Setting, passes: Sequence[Pass], fmt: str) -> float:
    """A candidate's bytes from the passes so far. Each setting sits on one
    axis, the priors' log size ratio to the first pass; the log bytes
    measured are drawn as a line through the two passes nearest the
    candidate on it (a secant: its slope says how far bytes really move
    against the priors, since a file's fixed share, headers, palettes and
    key frames, makes them move less on some footage), and with one pass,
    as the priors say."""
    first = passes[0]

    def axis(s: Setting) -> float:
        return math.log(predicted_bytes(s, first, fmt) / first.bytes)

    x = axis(setting)
    near = sorted(passes, key=lambda p: abs(axis(p.setting) - x))
    x1, y1 = axis(near[0].setting), math.log(near[0].bytes)
    slope = 1.0
    for other in near[1:]:
        x2 = axis(other.setting)
        if abs(x2 - x1) > 0.05:
            slope = (y1 - math.log(other.bytes)) / (x1 - x2)
            slope = min(MAX_SLOPE, max(MIN_SLOPE, slope))
            break
    return math.exp(y1 + slope * (x - x1))


def cost(setting: Setting, base: Setting, fmt: str) -> float:
    """The prior of what a candidate costs a viewer against the request."""
    drop = QUALITIES.index(base.quality) - QUALITIES.index(setting.quality)
    return (
        FPS_COST * math.log(base.fps / setting.fps)
        + SCALE_COST * math.log(1 / setting.scale)
        + QUALITY_COST[fmt] * drop
        + COLOR_COST * math.log2(256 / setting.colors)
    )


def next_candidate(
    grid: Sequence[Setting],
    passes: Sequence[Pass],
    max_bytes: int,
    fmt: str,
    base: Setting,
    chosen: Pass | None,
) -> Setting | None:
    """The next setting to try, or None to stop.

    Until one fits: the cheapest candidate predicted to fit (``estimate``),
    tighter after each miss; when none is, the smallest setting (it
    fits, or nothing does). Once one fits, up to ``TARGET_PASSES`` in all
    (at least one more): first a neighbouring mix of frame rate, quality and
    palette at the size predicted to use the cap (``explore``: the priors
    that chose the kept mix are guesses, and SSIM judges motion against
    detail better), then the kept pass's mix, the better of the two, at the
    largest size predicted to fit (``fill``: the first fitting pass is aimed
    short of the cap, and a larger picture is what the hand strategy wins
    with) or, when that leaves no room to use, one more step from it."""
    tried = {p.setting for p in passes}
    if chosen is None:
        misses = sum(1 for p in passes if p.bytes > max_bytes)
        target = max_bytes * MARGIN ** max(1, misses - 1)
        fitting = [s for s in grid if s not in tried and estimate(s, passes, fmt) <= target]
        if fitting:
            return min(fitting, key=lambda s: cost(s, base, fmt))
        smallest = grid[-1]
        return None if smallest in tried else smallest
    if chosen.setting == base:
        return None  # it fits as asked
    first = next(i for i, p in enumerate(passes) if p.ssim is not None)
    if len(passes) >= max(TARGET_PASSES, first + 2):
        return None  # the best of those measured is kept
    further = len(passes) - first - 1
    grown = fill(chosen.setting, grid, passes, max_bytes, fmt)
    if grown is not None and (grown in tried or grown.scale < chosen.setting.scale * MIN_FILL_GAIN):
        grown = None
    if further == 0 or grown is None:
        return explore(chosen.setting, grid, passes, max_bytes, fmt, base) or grown
    return grown


def _mix(setting: Setting) -> tuple[float, Quality, int]:
    """What a setting is apart from its size: frame rate, quality, palette."""
    return setting.fps, setting.quality, setting.colors


def mix_bytes(setting: Setting, passes: Sequence[Pass], fmt: str) -> tuple[float, bool]:
    """A candidate's bytes, and whether they were interpolated. Between two
    measured passes of its own mix (the nearest smaller and larger), log
    bytes on a line in log scale: the passes measure exactly how this
    footage's bytes follow size there. Elsewhere, ``estimate``."""
    same = [p for p in passes if _mix(p.setting) == _mix(setting)]
    below = [p for p in same if p.setting.scale <= setting.scale]
    above = [p for p in same if p.setting.scale > setting.scale]
    if not below or not above:
        return estimate(setting, passes, fmt), False
    lo = max(below, key=lambda p: p.setting.scale)
    hi = min(above, key=lambda p: p.setting.scale)
    t = math.log(setting.scale / lo.setting.scale) / math.log(hi.setting.scale / lo.setting.scale)
    return math.exp(math.log(lo.bytes) + t * math.log(hi.bytes / lo.bytes)), True


def fill(
    mix: Setting, grid: Sequence[Setting], passes: Sequence[Pass], max_bytes: int, fmt: str
) -> Setting | None:
    """``mix`` (its frame rate, quality, palette) at the largest size, to the
    pixel, predicted to fit: at most ``FILL`` of the cap where interpolated
    (``mix_bytes``), ``MARGIN`` where extrapolated; None when not even the
    grid's smallest size is. Bytes grow with size, so the widths are
    bisected."""
    width = round(passes[0].width / passes[0].setting.scale)  # the requested one
    smallest = min(s.scale for s in grid)

    def at(w: int) -> Setting:
        return Setting(mix.fps, 1.0 if w >= width else round(w / width, 5), mix.quality, mix.colors)

    def fits(w: int) -> bool:
        predicted, interpolated = mix_bytes(at(w), passes, fmt)
        return predicted <= max_bytes * (FILL if interpolated else MARGIN)

    lo, hi = math.ceil(width * smallest), width
    if not fits(lo):
        return None
    while lo < hi:  # fits(lo) holds; find the largest such width
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return at(lo)


def explore(
    kept: Setting,
    grid: Sequence[Setting],
    passes: Sequence[Pass],
    max_bytes: int,
    fmt: str,
    base: Setting,
) -> Setting | None:
    """A mix one step from the kept one (the next frame rate, quality level
    or palette size either way) not yet tried, at the largest size
    predicted to fit (``fill``); None when there is none.

    Another frame rate comes first, then the cheapest by ``cost``: what a
    frame rate costs depends on how much the footage moves, which no prior
    knows and ``held_ssim`` measures (on the benchmark's clip 8 fps scores
    0.01-0.015 above 10 fps at the same bytes, where the prior had ranked
    it below a smaller picture). One step at a time, from the kept mix: a
    fit goes a second step only when the first measured better."""
    q, c = kept.quality, kept.colors
    fps = sorted({s.fps for s in grid})
    levels = sorted({s.quality for s in grid}, key=QUALITIES.index)
    palettes = sorted({s.colors for s in grid})
    beside = (
        [Setting(f, 1.0, q, c) for f in _beside(fps, kept.fps)]
        + [Setting(kept.fps, 1.0, level, c) for level in _beside(levels, q)]
        + [Setting(kept.fps, 1.0, q, n) for n in _beside(palettes, c)]
    )
    measured = {_mix(p.setting) for p in passes}
    options = [
        grown
        for mix in beside
        if _mix(mix) not in measured
        and (grown := fill(mix, grid, passes, max_bytes, fmt)) is not None
    ]
    return min(options, key=lambda s: (s.fps == kept.fps, cost(s, base, fmt)), default=None)


def _beside(values: Sequence[T], own: T) -> list[T]:
    """The values next to ``own`` in ``values`` (one on each side, where there is one)."""
    at = list(values).index(own)
    return [values[k] for k in (at - 1, at + 1) if 0 <= k < len(values)]


def changes(asked: Pass, kept: Pass) -> list[str]:
    """What the kept pass changed from the request's own, in words."""
    a, k = asked.setting, kept.setting
    said = []
    if not math.isclose(a.fps, k.fps):
        said.append(f"{k.fps:g} fps instead of {a.fps:g}")
    if (asked.width, asked.height) != (kept.width, kept.height):
        said.append(f"{kept.width} px instead of {asked.width}")
    if a.quality != k.quality:
        said.append(f"quality {k.quality} instead of {a.quality}")
    if a.colors != k.colors:
        said.append(f"{k.colors} colours instead of {a.colors}")
    return said


def _words(p: Pass, asked: Pass) -> str:
    return ", ".join(changes(asked, p)) or "as asked"


def _rate(animation: Animation) -> float:
    """The requested frame rate (rounded: 1000 / (1000 / 15) is not 15)."""
    return round(1000.0 / animation.frame_duration_ms, 6)


def _quality(name: str) -> Quality:
    for quality in QUALITIES:
        if quality == name:
            return quality
    raise KeyError(name)


def _size(setting: Setting, width: int, height: int) -> tuple[int, int]:
    return max(1, round(width * setting.scale)), max(1, round(height * setting.scale))


def _grid(base: Setting, fmt: str, width: int, height: int) -> list[Setting]:
    """Every candidate, ordered so that the last is the smallest."""
    fps = sorted(
        {round(base.fps * f, 2) for f in FPS_STEPS[1:] if base.fps * f >= MIN_FPS} | {base.fps},
        reverse=True,
    )
    side = min(width, height)
    scales = [s for s in SCALE_STEPS if s == 1.0 or side * s >= MIN_SIDE_PX]
    levels = QUALITIES[: QUALITIES.index(base.quality) + 1][::-1]
    colors = GIF_COLORS if fmt == "gif" else (256,)
    settings = [Setting(f, s, q, c) for f in fps for s in scales for q in levels for c in colors]
    smallest = Setting(fps[-1], scales[-1], levels[-1], colors[-1])
    settings.remove(smallest)
    return [*settings, smallest]


def _reference(
    source: Path,
    info: VideoInfo,
    animation: Animation,
    trim_start: float,
    trim_duration: float,
    limits: Limits,
) -> _Reference:
    """The source's picture at the requested size and times (a few of
    them, evenly spread), on the animation's clock: what every candidate
    is scored against."""
    wave = bool(getattr(animation, "waveform", False))
    order = _Order.of(animation)
    plan = _plan_frames(info, animation, trim_start, trim_duration, limits, order)
    geometry = _plan_geometry(info, animation, wave, limits, ENCODERS[animation.format])
    stride = max(1, math.ceil(plan.count / REFERENCE_FRAMES))
    sub = FramePlan(plan.start, plan.interval * stride, math.ceil(plan.count / stride))
    draw = waveform.sample if wave else sample
    with private_folder("work") as tmp:
        if info.demuxer == "mpegts":
            source = mpegts.without_sdt(source, tmp / "source.ts")
        frames = list(through_clip(draw(source, info, sub, geometry, limits, "rgb"), sub.count))
    indices = [k * stride for k in range(len(frames))]
    if order.reverse:  # the first frame shown is the last sampled
        indices = [plan.count - 1 - k for k in indices]
    times = [k * animation.frame_duration_ms for k in indices]
    return _Reference(frames, times, geometry.width, geometry.height)
