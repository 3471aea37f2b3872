"""Frame sampling: frame k is the source frame nearest to ``start + k x interval``.

ffmpeg (with the safe input options) seeks to the start, picks the frames at
the sampled times with the ``fps`` filter, scales them and pipes them out raw,
one at a time as the encoder takes them: nothing is written to disk and no
more than a frame or two waits. A plan can be split into consecutive runs
that separate ffmpeg processes sample side by side (``frameplan.split_for_decoding``).
MoviePy presents the frames as a clip (``through_clip``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from moviepy import VideoClip

from . import ffmpeg
from .encoding import Order
from .errors import PipelineError
from .frameplan import FramePlan
from .geometry import Geometry
from .limits import Limits
from .probe import VideoInfo

# Interlaced sources (broadcast TS, DV, old camcorders) show combing on every
# moving edge. bwdif (motion-adaptive, better than yadif on still detail) makes
# one progressive frame of each frame before sampling, keeping the frame times.
DEINTERLACE = "bwdif=mode=send_frame:parity=auto:deint=all"

# MPEG program and transport streams (and FLV written live) have no index:
# ffmpeg finds a position by bisecting on timestamps and can land up to a GOP
# *after* the target (on the next key frame), losing the frames in between.
# There, seek this much earlier and let the fps filter pick the frames
# (docs/encoding.md, "Seeking").
SEEK_MARGIN_S = {"mpeg": 5.0, "mpegts": 5.0, "flv": 5.0}

# A slot ending this close to the end of the stream counts as ending after it
# (see ``_pick_nearest``).
END_MARGIN_S = 0.001


def _decoder(info: VideoInfo) -> str | None:
    # ffmpeg's native VP8/VP9 decoders drop the alpha side channel; libvpx keeps it.
    if info.has_alpha and info.codec in ("vp8", "vp9"):
        return {"vp8": "libvpx", "vp9": "libvpx-vp9"}[info.codec]
    return None


def sample(
    source: Path,
    info: VideoInfo,
    plan: FramePlan,
    geometry: Geometry,
    limits: Limits,
    order: Order = "rgb",
) -> Iterator[np.ndarray]:
    """The planned frames, scaled, in order, one at a time as ffmpeg makes
    them: ``H x W x 3`` RGB (``x 4`` RGBA when the source has alpha), or BGR(A)."""
    pix_fmt = ffmpeg.PIXEL_FORMATS[order][info.has_alpha]
    # ffmpeg's accurate seek drops every frame before ``-ss``, but the frame
    # nearest the start time may begin a little earlier. Seek two source
    # frames early and let the fps filter pick the frames.
    frame_s = 1.0 / max(info.fps, 1.0)
    lead = min(plan.start, max(2 * frame_s, SEEK_MARGIN_S.get(info.demuxer, 0.0)))
    # Read slightly past the last sampled time so its frame is decoded.
    window = lead + (plan.count - 1) * plan.interval + 2 * frame_s + 0.05
    seek = plan.start - lead
    vf = (
        f"{DEINTERLACE + ',' if info.interlaced else ''}"
        f"{_pick_nearest(plan, info)},{geometry.filters},format={pix_fmt}"
    )
    # After a seek, frame times stay on the file's own timeline (-copyts
    # -start_at_zero: the same zero as without a seek), where the slots are.
    # ffmpeg 7.0.2's default, making the seek point time 0, is wrong twice: it
    # rounds each shifted time to the stream's time base (up to half a frame
    # early), and on timestamp-discontinuous formats (MPEG-PS/TS) it ignores
    # the file's start time (docs/encoding.md, "Seeking").
    args = ["-copyts", "-start_at_zero"] if seek > 0 else []
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
    channels = 4 if info.has_alpha else 3
    return ffmpeg.raw_frames(
        args,
        plan.count,
        (geometry.height, geometry.width, channels),
        limits,
        "No frame could be decoded from the video.",
        [source],
    )


def _pick_nearest(plan: FramePlan, info: VideoInfo) -> str:
    """ffmpeg filters that pass, for every k, the source frame nearest to
    ``plan.start + k x interval`` on the file's own timeline: the last frame to
    start no later than half a source frame after that time.

    The fps filter (``round=up``) keeps, for each slot, the last frame that
    starts at or before the slot's end, and stops at the end of the stream.
    Slot k ends half a frame after frame k's time. Two details of ffmpeg 7's
    fps filter decide the rest:

    - it rounds ``start_time`` up to a whole output interval but not the end
      of the stream, so a slot within that rounding of the end was dropped.
      Shifting the timestamps (``setpts``, in microseconds: ``settb``) so that
      every slot ends on a whole multiple of the interval removes that;
    - a slot that ends after the stream gets no frame. Where the last sampled
      time is within half a frame of the end, the last frame is shown for one
      frame more (``tpad``), so that slot gets it: the nearest frame there.

    ``trim`` ends the graph after the planned frames. Without it the fps
    filter goes on filling slots up to the end of the stream after
    ``-frames:v`` has all it wants (ffmpeg 7.0.2 does not stop the graph): a
    file whose end lies far off (a timestamp jumping hours ahead, a frame
    rate of one frame a day that puts tpad's frame a day later) kept ffmpeg
    busy for minutes, up to the wall-time limit.
    """
    half = 0.5 / max(info.fps, 1.0)
    last = plan.start + (plan.count - 1) * plan.interval
    near_end = last + half >= info.duration - END_MARGIN_S
    slot0 = plan.start + half  # slot 0 ends here
    whole = math.ceil(slot0 / plan.interval)  # ... and is moved to whole x interval
    shift = whole * plan.interval - slot0
    return (
        f"{'tpad=stop_mode=clone:stop=1,' if near_end else ''}"
        f"settb=AVTB,setpts=PTS+{shift:.6f}/TB,"
        f"fps=fps=1/{plan.interval!r}:start_time={whole * plan.interval - 1e-6!r}:round=up,"
        f"trim=end_frame={plan.count}"
    )


def through_clip(frames: Iterator[np.ndarray], count: int) -> Iterator[np.ndarray]:
    """The frames again, through MoviePy: a 1-fps clip whose frame at k s is
    frame k, pulled from ffmpeg when MoviePy first asks for it. Lazy, so
    ffmpeg starts when the encoder asks for the first frame.

    MoviePy's own file reader never opens an upload: it learns size and frame
    rate from ffmpeg's log, which tags in a file can spoof, and it has no
    protocol whitelist. Sampling is ours; MoviePy gets the frames. ``count``
    is the planned number; where ffmpeg makes fewer (the source ends early),
    the clip's frames after the last are None and iteration stops there."""
    index, frame = 0, next(frames, None)
    if frame is None:
        return

    def frame_at(t: float) -> np.ndarray | None:
        nonlocal index, frame
        while index < round(t):
            frame, index = next(frames, None), index + 1
        return frame

    clip = VideoClip(frame_function=frame_at, duration=count).with_fps(1)
    for each in clip.iter_frames(fps=1):
        if each is None:
            return
        yield each


def until_source_ends(frames: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
    """The frames of a run after the first. Where the file ends before the run
    starts (a truncated file whose index claims more), ffmpeg finds nothing
    there: that is the end of the animation, not a failure."""
    try:
        first = next(frames)
    except StopIteration:
        return
    except PipelineError as error:
        if error.code != "DecodeFailed":
            raise
        return
    yield first
    yield from frames
