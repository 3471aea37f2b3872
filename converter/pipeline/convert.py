"""One animation from one probed source: the orchestrator of the pipeline.

``probe.probe`` runs once per source; ``convert`` once per requested
animation: it plans the frames and the geometry, picks the encoder, samples
the frames (video, or the sound's waveform) in one or more runs and hands
them to the encoder.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from . import encode_gif, encode_webp, mpegts, waveform
from .encoding import EncodeOptions, Encoder
from .errors import PipelineError
from .frameplan import FramePlan, plan_frames, split_for_decoding
from .geometry import WAVEFORM_CANVAS, plan_geometry
from .limits import Limits
from .probe import VideoInfo
from .sample import sample, through_clip, until_source_ends

log = logging.getLogger(__name__)

ENCODERS: dict[str, Encoder] = {"gif": encode_gif.ENCODER, "webp": encode_webp.ENCODER}


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

    Progress is the fraction of the frames handed to the encoder; sampling
    and encoding overlap (ffmpeg pipes each frame as the encoder takes it).
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
    draw = waveform.sample if wave else sample
    canvas = WAVEFORM_CANVAS if wave else (info.width, info.height)
    geometry = plan_geometry(
        *canvas,
        animation.width,
        animation.height,
        animation.scale_type,
        limits.max_output_pixels,
    )
    encoder = ENCODERS[animation.format]
    options = EncodeOptions(
        frame_duration_ms=animation.frame_duration_ms,
        quality=animation.quality,
        loop=animation.loop,
        order=encoder.order,
    )
    alpha = info.has_alpha and not wave
    # Encoders that take runs get one per CPU, each sampled by its own ffmpeg.
    runs_planned = split_for_decoding(source, info, plan, encoder.parts(plan.count, alpha))
    parts = len(runs_planned)
    handed = 0  # frames handed to the encoder, over all runs
    lock = threading.Lock()

    def counted(frames: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
        nonlocal handed
        for frame in frames:
            yield frame
            with lock:
                handed += 1
                report(min(1.0, handed / (plan.count + parts - 1)))

    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="loopforge-") as tmp:
        if info.demuxer == "mpegts":
            source = mpegts.without_sdt(source, Path(tmp) / "source.ts")
        runs = []
        for n, run in enumerate(runs_planned):
            if n:  # a later run starts with the last frame of the one before
                run = FramePlan(run.start - run.interval, run.interval, run.count + 1)
            frames = draw(source, info, run, geometry, limits, encoder.order)
            if n:
                frames = until_source_ends(frames)
            runs.append(counted(through_clip(frames, run.count)))
        encoded = encoder.encode(runs, options)
    timings = {"convert_s": time.monotonic() - t0}
    report(1.0)
    log.info(
        "converted %s: %d frames %dx%d in %d runs, %d bytes, %.2fs",
        animation,
        encoded.frames,
        geometry.width,
        geometry.height,
        parts,
        len(encoded.data),
        timings["convert_s"],
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
