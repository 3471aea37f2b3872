"""Bounds on what one task may cost. The defaults are the product's; the
service layer builds ``Limits`` from the ``CONVERTER_*`` settings."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    # 4096 x 2304 covers UHD and DCI 4K; one RGB frame of it is 28 MB, and
    # the decoder refuses anything larger before a frame reaches Python.
    max_source_pixels: int = 4096 * 2304
    # A longer source is almost always a mistake or an attack (sparse
    # timestamps can claim days); probing and seeking stay cheap below it.
    max_source_duration_s: float = 4 * 3600
    # 1000 frames of 640x360 RGB is ~690 MB if held at once; encoders stream,
    # but the output file itself grows with frames x pixels.
    max_output_frames: int = 1000
    # Per output frame; 1920x1080 keeps one GIF frame's LZW work bounded.
    max_output_pixels: int = 1920 * 1080
    # Wall time for all ffmpeg work of one animation; past it ffmpeg is killed.
    task_timeout_s: float = 600.0
    # Address space of one ffmpeg process, and of one probe (RLIMIT_AS). A
    # 4096x2304 decode with its threads and filter graph stays well under
    # 1 GiB; a bomb hits this.
    ffmpeg_memory_bytes: int = 2 * 1024**3
    # Wall time of one probe (its sandboxed child: headers, the first frame).
    # A real file takes well under a second; the upload's request waits.
    probe_timeout_s: float = 60.0


# The product's defaults, for callers that pass no limits of their own.
DEFAULT_LIMITS = Limits()
