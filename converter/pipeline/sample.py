"""Frame sampling: frame k is the source frame shown at ``start + k x interval``.

ffmpeg (with the safe input options) seeks to the start, picks the frames at
the sampled times with the ``fps`` filter, scales them, and writes a small
lossless clip with no metadata into the task's private folder. MoviePy then
opens that clip, which we made ourselves and can trust, and hands out its
frames one at a time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
from moviepy import VideoFileClip

from . import ffmpeg, mpegts
from .errors import PipelineError
from .geometry import Geometry
from .limits import Limits
from .probe import VideoInfo

# Interlaced sources (broadcast TS, DV, old camcorders) show combing on every
# moving edge. bwdif (motion-adaptive, better than yadif on still detail) makes
# one progressive frame of each frame before sampling, keeping the frame times.
DEINTERLACE = "bwdif=mode=send_frame:parity=auto:deint=all"

# MPEG program and transport streams (and FLV written live) have no index:
# ffmpeg finds a position by bisecting on timestamps and can land up to a GOP
# *after* the target (measured: the next keyframe, 0.7 s late, on TS and VOB),
# losing the frames in between. There, seek this much earlier and let the fps
# filter pick the frames.
SEEK_MARGIN_S = {"mpeg": 5.0, "mpegts": 5.0, "flv": 5.0}
# For these (timestamp-discontinuous formats), ffmpeg 7.0.2's input -ss also
# shifts timestamps by the seek point but not by the file's start time, so
# frame times come out off by it (1.48 s on a TS from ffmpeg's muxer). Keep the
# file's own timeline instead (-copyts -start_at_zero: the same zero as without
# a seek) and place the fps filter's slots on it.
OWN_TIMELINE = ("mpeg", "mpegts")

# Float seconds from JSON (0.1 x 3 = 0.30000000000000004) must not drop a frame.
EPSILON_S = 1e-6


@dataclass(frozen=True)
class Clip:
    """A clip we wrote ourselves: 1 fps, ``frames`` frames, no metadata."""

    path: Path
    frames: int


@dataclass(frozen=True)
class FramePlan:
    start: float  # absolute source time of frame 0
    interval: float
    count: int

    def times(self) -> list[float]:
        return [self.start + k * self.interval for k in range(self.count)]


def plan_frames(
    info: VideoInfo,
    *,
    trim_start: float,
    trim_duration: float,
    start_time: float,
    interval: float,
    number: int,
    limits: Limits,
) -> FramePlan:
    """Which source times to sample. A request that reaches past the end of the
    source is clamped to it; one that starts after the end is refused."""
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
    if count > limits.max_output_frames:
        raise PipelineError(
            "TooManyFrames",
            f"This would make {count} frames; the limit is {limits.max_output_frames}. "
            "Use a larger interval, a shorter duration or a frame number.",
        )
    return FramePlan(first, interval, count)


def _decoder(info: VideoInfo) -> str | None:
    # ffmpeg's native VP8/VP9 decoders drop the alpha side channel; libvpx keeps it.
    if info.has_alpha and info.codec in ("vp8", "vp9"):
        return {"vp8": "libvpx", "vp9": "libvpx-vp9"}[info.codec]
    return None


def normalise(
    source: Path,
    info: VideoInfo,
    plan: FramePlan,
    geometry: Geometry,
    workdir: Path,
    limits: Limits,
    on_progress: Callable[[float], None] | None = None,
) -> Clip:
    """Write the sampled, scaled frames to a clip in ``workdir`` at 1 fps
    (frame k at k seconds), so MoviePy reads exactly the planned frames."""
    pix_fmt = "rgba" if info.has_alpha else "rgb24"
    if info.demuxer == "mpegts":
        source = mpegts.without_sdt(source, workdir / "source.ts")
    # ffmpeg's accurate seek drops every frame before ``-ss``, but the frame
    # shown at the start time usually began a little earlier. Seek two source
    # frames early and let the fps filter, whose slots start at ``lead``, pick
    # the frame shown at each sampled time (round=up).
    lead = min(plan.start, max(2.0 / max(info.fps, 1.0), SEEK_MARGIN_S.get(info.demuxer, 0.0)))
    # Read slightly past the last sampled time so its frame is decoded.
    window = lead + (plan.count - 1) * plan.interval + 2.0 / max(info.fps, 1.0) + 0.05
    seek = plan.start - lead
    own_timeline = seek > 0 and info.demuxer in OWN_TIMELINE
    slots_from = plan.start if own_timeline else lead
    vf = (
        f"{DEINTERLACE + ',' if info.interlaced else ''}"
        f"fps=fps=1/{plan.interval!r}:start_time={slots_from!r}:round=up,{geometry.filters},"
        f"format={pix_fmt},settb=1,setpts=N"
    )
    args = ["-copyts", "-start_at_zero"] if own_timeline else []
    args += ffmpeg.safe_input_args(
        source, info.demuxer, max_pixels=limits.max_source_pixels, decoder=_decoder(info)
    )
    if seek > 0:
        # Never ``-ss 0``: where the demuxer cannot seek (FLV without an index
        # starting at a non-zero timestamp) it makes ffmpeg drop every frame.
        args += ["-ss", f"{seek:.6f}"]
    args += ["-t", f"{window:.6f}", "-i", f"file:{source.resolve()}"]
    args += ["-map", f"0:v:{info.stream_index}", "-an", "-sn", "-dn"]
    args += ["-map_metadata", "-1", "-map_chapters", "-1", "-vf", vf]
    frame_bytes = geometry.width * geometry.height * len(pix_fmt.replace("24", ""))
    return write_clip(
        args, workdir, plan.count, frame_bytes, limits, on_progress,
        "No frame could be decoded from the video.",
    )


# Up to this many bytes of frames the clip is stored raw (NUT): nothing to
# encode or decode, which is most of ffmpeg's work on a short clip. Larger
# clips are compressed losslessly (FFV1) to keep the temporary folder small.
MAX_RAW_CLIP_BYTES = 512 * 1024 * 1024


def write_clip(
    args: list[str],
    workdir: Path,
    count: int,
    frame_bytes: int,
    limits: Limits,
    on_progress: Callable[[float], None] | None,
    nothing_decoded: str,
) -> Clip:
    """Finish and run an ffmpeg command (inputs and filters in ``args``) that
    writes ``count`` frames of ``frame_bytes`` each as a lossless 1-fps clip
    in ``workdir``, reporting the fraction of frames written. Returns the
    clip; ``nothing_decoded`` is the message when no frame came out."""
    if count * frame_bytes <= MAX_RAW_CLIP_BYTES:
        out, codec = workdir / "frames.nut", "rawvideo"
    else:
        out, codec = workdir / "frames.mkv", "ffv1"
    args = [*args, "-frames:v", str(count), "-r", "1", "-c:v", codec, "-y", out.name]
    written = 0

    def progress(block: dict[str, str]) -> None:
        nonlocal written
        if block.get("frame", "").isdigit():
            written = int(block["frame"])
            if on_progress:
                on_progress(min(1.0, written / count))

    ffmpeg.run(
        args, timeout_s=limits.task_timeout_s, cwd=out.parent, on_progress=progress,
        memory_bytes=limits.ffmpeg_memory_bytes,
    )
    if not written or not out.exists():
        raise PipelineError("DecodeFailed", nothing_decoded)
    return Clip(out, written)


def read_frames(clip: Clip, has_alpha: bool) -> Iterator[np.ndarray]:
    """Frames of a clip made by ``normalise``, in order, one at a time. The
    count is what ffmpeg wrote, not what a container's duration suggests."""
    with VideoFileClip(str(clip.path), audio=False, has_mask=has_alpha) as video:
        for k in range(clip.frames):
            yield video.reader.get_frame(k / video.fps)
