"""Which source times an animation samples, and how they split into runs.

Frame k of a plan is the source frame nearest to ``start + k x interval``.
``plan_frames`` turns a request into a plan (clamped to the source, within
the limits); ``split_for_decoding`` cuts it into consecutive runs that
separate ffmpeg processes sample side by side, where that pays.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path

from . import isolated, ordering
from .errors import PipelineError
from .limits import Limits
from .probe import VideoInfo

# Float seconds from JSON (0.1 x 3 = 0.30000000000000004) must not drop a frame.
EPSILON_S = 1e-6


@dataclass(frozen=True)
class FramePlan:
    start: float  # absolute source time of frame 0
    interval: float
    count: int

    def times(self) -> list[float]:
        return [self.start + k * self.interval for k in range(self.count)]

    def split(self, parts: int) -> list[FramePlan]:
        """Consecutive runs of frames, as even as can be, that together are
        this plan (no run is empty)."""
        parts = max(1, min(parts, self.count))
        bounds = [round(i * self.count / parts) for i in range(parts + 1)]
        return [
            FramePlan(self.start + a * self.interval, self.interval, b - a)
            for a, b in itertools.pairwise(bounds)
        ]


def split_for_decoding(
    source: Path, info: VideoInfo, plan: FramePlan, parts: int, limits: Limits
) -> list[FramePlan]:
    """``plan.split(parts)``, or the plan whole where the runs would decode
    the same video twice: a later run's ffmpeg decodes from the key frame
    before its start, and where that is no later than the first run's start
    (a screen recording often has one key frame) it decodes all the first
    run decodes, and one run is faster. The probe read the key frames of a
    short clip (``VideoInfo.key_frame_before``); in a longer one the key
    frame is looked up by the probe's sandboxed child (``isolated``)."""
    runs = plan.split(parts)
    if len(runs) > 1:
        key = info.key_frame_before(runs[1].start)
        if key is None:
            key = isolated.key_frame_before(source, info, runs[1].start, limits)
        if key is not None and key <= plan.start + EPSILON_S:
            return [plan]
    return runs


def plan_frames(
    info: VideoInfo,
    *,
    trim_start: float,
    trim_duration: float,
    start_time: float,
    interval: float,
    number: int,
    limits: Limits,
    boomerang: bool = False,
) -> FramePlan:
    """Which source times to sample. A request that reaches past the end of the
    source is clamped to it; one that starts after the end is refused. The
    frame limit holds for the frames made: a boomerang plays the sampled
    frames back too (``ordering.output_count``)."""
    end = info.duration
    if trim_duration > 0:
        end = min(end, trim_start + trim_duration)
    first = trim_start + start_time
    if first >= info.duration:
        raise PipelineError(
            "StartTimeOutOfRange",
            f"The start time {first:g} s is past the end of the video ({info.duration:.2f} s).",
        )
    available = max(1, math.floor((end - first) / interval - EPSILON_S) + 1)
    count = min(available, number) if number > 0 else available
    made = ordering.output_count(count, boomerang)
    if made > limits.max_output_frames:
        of = f" (a boomerang of {count})" if made != count else ""
        raise PipelineError(
            "TooManyFrames",
            f"This would make {made} frames{of}; the limit is {limits.max_output_frames}. "
            "Use a larger interval, a shorter duration or a frame number.",
        )
    return FramePlan(first, interval, count)
