"""An honest estimate of an animation's size before it is made: a quick
trial encode of a few sampled frames at the real settings, scaled.

A few short runs of consecutive frames, spread over the selection, are
sampled and encoded by the real encoder with the real options, each run
whole and its first frame alone. The first frame's bytes are what a
file's first (whole) picture costs, the run's further bytes what each
next frame adds (GIF and WebP code a frame as its change from the one
before); the estimate is a first frame plus that much for every other
frame, and the runs' spread gives its range.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from .convert import Animation, prepare
from .frameplan import FramePlan
from .limits import DEFAULT_LIMITS, Limits
from .probe import VideoInfo

RUNS = 5
RUN_FRAMES = 4


@dataclass(frozen=True)
class Estimate:
    frames: int
    width: int
    height: int
    bytes: int  # the best guess
    low: int  # the range the sampled runs give
    high: int
    sampled: int  # frames encoded to make it
    seconds: float  # how long it took

    @property
    def spread(self) -> float:
        """How far the range reaches from the guess, as a fraction."""
        return max(self.high - self.bytes, self.bytes - self.low) / max(1, self.bytes)


def estimate(
    source: Path,
    info: VideoInfo,
    animation: Animation,
    *,
    trim_start: float = 0.0,
    trim_duration: float = 0.0,
    limits: Limits = DEFAULT_LIMITS,
) -> Estimate:
    """The animation's frames, size and bytes, estimated (``PipelineError``
    where the request cannot be made, as ``convert`` would say)."""
    t0 = time.monotonic()
    job = prepare(
        info, animation, trim_start=trim_start, trim_duration=trim_duration, limits=limits
    )
    plan, geometry, encoder, options = job.plan, job.geometry, job.encoder, job.options
    length = min(RUN_FRAMES, plan.count)
    firsts: list[int] = []
    steps: list[float] = []
    sampled = 0
    for run in _runs(plan, length):
        frames = list(job.draw(source, info, run, geometry, limits, encoder.order))
        if not frames:
            continue
        sampled += len(frames)
        whole = len(encoder.encode([iter(frames)], options).data)
        alone = len(encoder.encode([iter(frames[:1])], options).data)
        firsts.append(alone)
        if len(frames) > 1:
            steps.append(max(0.0, (whole - alone) / (len(frames) - 1)))
    count = job.frames
    first = sum(firsts) / max(1, len(firsts))
    step = sum(steps) / len(steps) if steps else first

    def total(per_frame: float) -> int:
        return round(first + (count - 1) * per_frame)

    low, high = (min(steps), max(steps)) if steps else (step, step)
    return Estimate(
        frames=count,
        width=geometry.width,
        height=geometry.height,
        bytes=total(step),
        low=total(low),
        high=total(high),
        sampled=sampled,
        seconds=time.monotonic() - t0,
    )


def _runs(plan: FramePlan, length: int) -> list[FramePlan]:
    """RUNS runs of ``length`` consecutive frames, spread over the plan."""
    if plan.count <= RUNS * length:
        return [FramePlan(plan.start, plan.interval, plan.count)]
    gap = (plan.count - length) / (RUNS - 1)
    return [
        FramePlan(plan.start + round(k * gap) * plan.interval, plan.interval, length)
        for k in range(RUNS)
    ]
