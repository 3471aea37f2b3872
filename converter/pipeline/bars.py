"""Black bars: the picture inside letterbox and pillarbox borders.

ffmpeg's ``cropdetect`` rule, kept whole and exact: frames spread over the
video are sampled (greyscale, at the size displayed), and a row or column
belongs to the picture when, on some sampled frame, more than a few of its
pixels are brighter than ``LIMIT``. Judging over many frames (not one
frame at a time, as ``cropdetect`` reports) keeps a dark scene from being
taken for a border. The result is the crop the editor's "Remove black bars"
sets (``geometry.Box``), or None where the whole frame is picture.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import ffmpeg, mpegts
from .geometry import Box
from .limits import Limits
from .probe import VideoInfo
from .workdir import private_folder

LIMIT = 24  # cropdetect's default black level, of 255
LIT_SHARE = 0.02  # of a row's or column's pixels above LIMIT on some frame
SAMPLES = 12
# Only the start of a long video is looked at (bars do not come and go).
LOOK_S = 60.0
# A border thinner than this (pixels) is an encoder's edge, not a bar.
MIN_BAR_PX = 2


def picture_box(source: Path, info: VideoInfo, limits: Limits) -> Box | None:
    """The picture inside the black bars of ``source`` (probed as ``info``),
    or None where there are none. Raises ``PipelineError`` when the video
    cannot be decoded."""
    with private_folder("work") as tmp:
        if info.demuxer == "mpegts":
            source = mpegts.without_sdt(source, tmp / "source.ts")
        lit_rows, lit_cols = _lit(source, info, limits)
    return _box(lit_rows, lit_cols)


def _lit(source: Path, info: VideoInfo, limits: Limits) -> tuple[np.ndarray, np.ndarray]:
    """For each row and column, the largest share of its pixels above LIMIT
    on any sampled frame."""
    w, h = info.width, info.height
    span = max(min(info.duration, LOOK_S), 1 / max(info.fps, 1.0))
    every = span / SAMPLES
    args = ffmpeg.safe_input_args(source, info.demuxer, max_pixels=limits.max_source_pixels)
    args += ["-t", f"{span:.6f}", "-i", f"file:{source.resolve()}"]
    args += ["-map", f"0:v:{info.stream_index}", "-an", "-sn", "-dn"]
    args += ["-vf", f"fps=fps=1/{every!r},scale={w}:{h},format=gray"]
    rows, cols = np.zeros(h), np.zeros(w)
    frames = ffmpeg.raw_frames(
        args, SAMPLES, (h, w, 1), limits, "No frame could be decoded from the video.", [source]
    )
    for frame in frames:
        bright = frame[..., 0] > LIMIT
        rows = np.maximum(rows, bright.mean(axis=1))
        cols = np.maximum(cols, bright.mean(axis=0))
    return rows, cols


def _box(lit_rows: np.ndarray, lit_cols: np.ndarray) -> Box | None:
    rows = np.flatnonzero(lit_rows > LIT_SHARE)
    cols = np.flatnonzero(lit_cols > LIT_SHARE)
    if not rows.size or not cols.size:
        return None  # all black: no picture to keep
    top, bottom = int(rows[0]), int(rows[-1]) + 1
    left, right = int(cols[0]), int(cols[-1]) + 1
    h, w = lit_rows.size, lit_cols.size
    if max(top, h - bottom) < MIN_BAR_PX and max(left, w - right) < MIN_BAR_PX:
        return None
    return Box(left, top, right - left, bottom - top)
