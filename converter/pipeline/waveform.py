"""An animation of a sound: frame k draws the waveform of the audio heard from
``start + k x interval`` for one interval (ffmpeg's showwaves filter), so the
animation plays the sound's shape in time. Off by default; a task asks for it
with ``AnimationSpec.waveform`` (for audio files, and for the sound of videos).

The drawing goes through the same safe ffmpeg runner and input options as
video sampling and comes out the same way (raw frames from a pipe,
``ffmpeg.raw_frames``), so encoders cannot tell the difference.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from . import ffmpeg
from .encoding import Order
from .errors import PipelineError
from .frameplan import FramePlan
from .geometry import WAVEFORM_CANVAS, Geometry
from .limits import Limits
from .probe import VideoInfo

BACKGROUND = "0x111827"
WAVE_COLOUR = "0x38bdf8"
BASE_RATE_HZ = 44_100  # columns are drawn from about this many samples a second


def sample(
    source: Path,
    info: VideoInfo,
    plan: FramePlan,
    geometry: Geometry,
    limits: Limits,
    order: Order = "rgb",
) -> Iterator[np.ndarray]:
    """The planned frames of the drawing, in order, as ``sample.sample``
    gives video frames."""
    if info.audio_stream is None:
        raise PipelineError("NoAudioStream", "This file has no sound to draw a waveform of.")
    w, h = WAVEFORM_CANVAS
    # Each frame is one interval of sound drawn as ``w`` columns of ``n``
    # samples. showwaves frames by sample count, so resample the sound to the
    # rate at which ``n x w`` samples last exactly one interval; otherwise the
    # frames drift away from their times (at 44.1 kHz and 0.25 s, 17 x 640
    # samples last 0.2467 s).
    n = max(1, round(BASE_RATE_HZ * plan.interval / w))
    rate = max(1, round(n * w / plan.interval))
    bg = [int(BACKGROUND[i : i + 2], 16) for i in (2, 4, 6)]
    # showwaves (ffmpeg 7.0.2) first sends an empty frame and keeps the last
    # interval until more sound comes: pad two intervals of silence and drop
    # the first frame, so frame k draws exactly [start + k x interval, + interval).
    # It draws on transparent black; lutrgb paints that black with the
    # background colour (the wave colour has no zero channel).
    graph = (
        f"[0:a:{info.audio_stream}]aformat=channel_layouts=mono,aresample={rate},"
        f"apad=pad_dur={2 * plan.interval!r},"
        f"showwaves=s={w}x{h}:mode=cline:draw=full:n={n}:colors={WAVE_COLOUR},trim=start_frame=1,"
        f"format=rgb24,lutrgb=r='if(val,val,{bg[0]})':g='if(val,val,{bg[1]})':b='if(val,val,{bg[2]})',"
        f"{geometry.filters},format={ffmpeg.PIXEL_FORMATS[order][False]}[v]"
    )
    args = ffmpeg.safe_input_args(source, info.demuxer, max_pixels=limits.max_source_pixels)
    if plan.start > 0:
        args += ["-ss", f"{plan.start:.6f}"]
    window = plan.count * plan.interval
    args += ["-t", f"{window:.6f}", "-i", f"file:{source.resolve()}"]
    args += ["-filter_complex", graph, "-map", "[v]", "-map_metadata", "-1", "-map_chapters", "-1"]
    return ffmpeg.raw_frames(
        args,
        plan.count,
        (geometry.height, geometry.width, 3),
        limits,
        "No sound could be decoded from the file.",
        [source],
    )
