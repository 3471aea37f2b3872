"""Video in, animation bytes out. No ORM and no storage here: a local path and
a spec go in, bytes and metadata come out, so every stage runs in a unit test.

``probe`` runs once per source; ``convert`` once per requested animation.
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import encode_gif, encode_webp, waveform
from .encoding import EncodeOptions, Encoder
from .errors import PipelineError
from .geometry import plan_geometry
from .limits import Limits
from .probe import VideoInfo, probe
from .sample import normalise, plan_frames, read_frames

__all__ = ["convert", "probe", "AnimationResult", "PipelineError", "Limits", "VideoInfo", "ENCODERS"]

log = logging.getLogger(__name__)

ENCODERS: dict[str, Encoder] = {"gif": encode_gif.encode, "webp": encode_webp.encode}
EXTENSIONS = {"gif": "gif", "webp": "webp"}
CONTENT_TYPES = {"gif": "image/gif", "webp": "image/webp"}


@dataclass(frozen=True)
class AnimationResult:
    data: bytes
    format: str
    width: int
    height: int
    frames: int
    frame_duration_ms: float
    durations_ms: list[int] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def convert(
    source: Path,
    info: VideoInfo,
    animation,  # converter.spec.AnimationSpec (not imported: the pipeline stays standalone)
    *,
    trim_start: float = 0.0,
    trim_duration: float = 0.0,
    limits: Limits = Limits(),
    on_progress: Callable[[float], None] | None = None,
) -> AnimationResult:
    """Make one animation from a probed local source.

    Progress goes 0 -> 0.5 while ffmpeg picks and scales frames and 0.5 -> 1
    while they are encoded.
    """
    report = on_progress or (lambda fraction: None)
    wave = bool(getattr(animation, "waveform", False))
    if info.audio_only and not wave:
        raise PipelineError(
            "NoVideoStream",
            "This file has no video picture (it looks like audio only), so there is nothing to "
            "animate. Choose the waveform option to animate its sound instead.",
        )
    plan = plan_frames(
        info,
        trim_start=trim_start,
        trim_duration=trim_duration,
        start_time=animation.start_time,
        interval=animation.interval,
        number=animation.number,
        limits=limits,
    )
    canvas = waveform.CANVAS if wave else (info.width, info.height)
    geometry = plan_geometry(
        *canvas, animation.width, animation.height, animation.scale_type,
        limits.max_output_pixels,
    )
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="loopforge-") as tmp:
        t0 = time.monotonic()
        draw = waveform.normalise if wave else normalise
        clip = draw(source, info, plan, geometry, Path(tmp), limits, lambda f: report(0.5 * f))
        timings["sample_s"] = time.monotonic() - t0

        def frames():
            for k, frame in enumerate(read_frames(clip, info.has_alpha and not wave)):
                report(0.5 + 0.5 * k / plan.count)
                yield frame

        t0 = time.monotonic()
        options = EncodeOptions(
            frame_duration_ms=animation.frame_duration_ms,
            quality=animation.quality,
            loop=animation.loop,
        )
        encoded = ENCODERS[animation.format](frames(), options)
        timings["encode_s"] = time.monotonic() - t0
    report(1.0)
    log.info(
        "converted %s: %d frames %dx%d, %d bytes, sample=%.2fs encode=%.2fs",
        animation, encoded.frames, geometry.width, geometry.height, len(encoded.data),
        timings["sample_s"], timings["encode_s"],
    )
    return AnimationResult(
        data=encoded.data,
        format=animation.format,
        width=geometry.width,
        height=geometry.height,
        frames=encoded.frames,
        frame_duration_ms=animation.frame_duration_ms,
        durations_ms=encoded.durations_ms,
        timings=timings,
    )
