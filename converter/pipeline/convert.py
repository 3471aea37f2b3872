"""One animation from one probed source: the orchestrator of the pipeline.

``probe.probe`` runs once per source; ``convert`` once per requested
animation, in steps: refuse what cannot be animated, plan the frames, plan
the geometry, choose the encoder and its options, plan the runs, then sample
(the video, or the sound's waveform) and encode, and describe the result.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from . import captions as captions_
from . import encode_avif, encode_gif, encode_mp4, encode_webp, mpegts, ordering, waveform
from .encoding import QUALITIES, Encoded, EncodeOptions, Encoder, Order, Quality
from .errors import PipelineError
from .frameplan import FramePlan, plan_frames, split_for_decoding
from .geometry import WAVEFORM_CANVAS, Geometry, crop_box, plan_geometry
from .limits import DEFAULT_LIMITS, Limits
from .probe import NO_PICTURE, VideoInfo
from .sample import sample, through_clip, until_source_ends
from .timing import first_pull, format_parts
from .workdir import private_folder

log = logging.getLogger(__name__)

ENCODERS: dict[str, Encoder] = {
    "gif": encode_gif.ENCODER,
    "webp": encode_webp.ENCODER,
    "mp4": encode_mp4.ENCODER,
    "avif": encode_avif.ENCODER,
}


def reads_key_frames(formats: Iterable[str]) -> bool:
    """Whether converting to these formats may split an animation into runs:
    the probe then reads the key frames (``probe(..., key_frames=True)``)."""
    return any(ENCODERS[f].splits for f in formats)


# Draws the frames of a plan: the video's pictures (``sample.sample``) or the
# sound's waveform (``waveform.sample``).
Sampler = Callable[[Path, VideoInfo, FramePlan, Geometry, Limits, Order], Iterator[np.ndarray]]


class Animation(Protocol):
    """What ``convert`` reads of a requested animation: ``converter.spec``'s
    ``AnimationSpec`` (not imported: the pipeline stays standalone). An
    animation may also have ``waveform``, true to draw the sound instead."""

    @property
    def format(self) -> str: ...
    @property
    def interval(self) -> float: ...
    @property
    def number(self) -> int: ...
    @property
    def start_time(self) -> float: ...
    @property
    def width(self) -> float | None: ...
    @property
    def height(self) -> float | None: ...
    @property
    def scale_type(self) -> str: ...
    @property
    def quality(self) -> str: ...
    @property
    def loop(self) -> int: ...
    @property
    def frame_duration_ms(self) -> float: ...


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
    animation: Animation,
    *,
    trim_start: float = 0.0,
    trim_duration: float = 0.0,
    limits: Limits = DEFAULT_LIMITS,
    on_progress: Callable[[float], None] | None = None,
) -> AnimationResult:
    """Make one animation from a probed local source.

    The editor's extensions are read when present (``getattr``, as
    ``waveform``): ``speed`` (2 samples the source twice as far apart, so the
    animation lasts half as long at the same frame rate), ``reverse`` and
    ``boomerang`` (the frame order, ``ordering``), ``crop`` (the part of the
    picture kept, before the size: ``geometry.crop_box``) and ``captions``
    (text drawn over the frames, on the animation's clock: ``captions``).

    Progress is the fraction of the frames handed to the encoder; sampling
    and encoding overlap (ffmpeg pipes each frame as the encoder takes it).
    """
    t0 = time.monotonic()
    job = prepare(
        info, animation, trim_start=trim_start, trim_duration=trim_duration, limits=limits
    )
    plan, geometry, encoder, order = job.plan, job.geometry, job.encoder, job.order
    # Splitting into runs asks the sandbox for key frames: a fixed cost.
    runs = _plan_runs(source, info, plan, encoder, job.wave, limits)
    progress = _Progress(on_progress, plan.count + len(runs) - 1)
    laid_out = _captions(animation, geometry, encoder)
    timings: dict[str, float] = {"plan_s": time.monotonic() - t0}
    encoded = _sample_and_encode(
        source, info, runs, job.draw, geometry, limits, encoder, job.options, progress, order,
        laid_out, timings,
    )  # fmt: skip
    timings["convert_s"] = time.monotonic() - t0
    progress.done()
    log.info(
        "converted %s: %d frames %dx%d in %d runs, %d bytes, %.2fs (%s)",
        animation,
        encoded.frames,
        geometry.width,
        geometry.height,
        len(runs),
        len(encoded.data),
        timings["convert_s"],
        format_parts(timings),
    )
    return _result(animation, geometry, encoded, timings)


@dataclass(frozen=True)
class Prepared:
    """What an animation will be, worked out before any frame is sampled:
    the source times, the size, the encoder and its options, the order and
    how frames are drawn (the video's pictures or the sound's waveform)."""

    plan: FramePlan
    geometry: Geometry
    encoder: Encoder
    options: EncodeOptions
    order: _Order
    wave: bool
    draw: Sampler

    @property
    def frames(self) -> int:
        """The frames the animation has (a boomerang plays them back too)."""
        return ordering.output_count(self.plan.count, self.order.boomerang)


def prepare(
    info: VideoInfo,
    animation: Animation,
    *,
    trim_start: float = 0.0,
    trim_duration: float = 0.0,
    limits: Limits = DEFAULT_LIMITS,
) -> Prepared:
    """Refuse what cannot be animated, then plan the frames, the geometry
    and the encoder (``PipelineError`` for a request the source cannot
    serve: a start past its end, too many frames, too large a picture)."""
    wave = bool(getattr(animation, "waveform", False))
    _refuse_audio_only(info, wave)
    order = _Order.of(animation)
    plan = _plan_frames(info, animation, trim_start, trim_duration, limits, order)
    encoder = ENCODERS[animation.format]
    geometry = _plan_geometry(info, animation, wave, limits, encoder)
    options = _encode_options(animation, encoder)
    draw: Sampler = waveform.sample if wave else sample
    return Prepared(plan, geometry, encoder, options, order, wave, draw)


def _refuse_audio_only(info: VideoInfo, wave: bool) -> None:
    """A file with sound and no picture can only be drawn as its waveform."""
    if info.audio_only and not wave:
        raise PipelineError("NoVideoStream", NO_PICTURE)


def _plan_frames(
    info: VideoInfo,
    animation: Animation,
    trim_start: float,
    trim_duration: float,
    limits: Limits,
    order: _Order,
) -> FramePlan:
    return plan_frames(
        info,
        trim_start=trim_start,
        trim_duration=trim_duration,
        start_time=animation.start_time,
        interval=animation.interval * float(getattr(animation, "speed", 1.0)),
        number=animation.number,
        limits=limits,
        boomerang=order.boomerang,
    )


@dataclass(frozen=True)
class _Order:
    """The frame order an animation asks for."""

    reverse: bool = False
    boomerang: bool = False

    @classmethod
    def of(cls, animation: Animation) -> _Order:
        return cls(
            bool(getattr(animation, "reverse", False)), bool(getattr(animation, "boomerang", False))
        )

    @property
    def changed(self) -> bool:
        return self.reverse or self.boomerang


def _plan_geometry(
    info: VideoInfo, animation: Animation, wave: bool, limits: Limits, encoder: Encoder
) -> Geometry:
    """The output size, against the picture as displayed (cropped when the
    animation has a ``crop``) or the waveform's canvas, within the limits
    and what the format can hold."""
    canvas = WAVEFORM_CANVAS if wave else (info.width, info.height)
    crop = getattr(animation, "crop", None)
    return plan_geometry(
        *canvas,
        animation.width,
        animation.height,
        animation.scale_type,
        limits.max_output_pixels,
        encoder.max_side,
        encoder.name,
        crop=crop_box(crop, *canvas) if crop else None,
    )


def _captions(
    animation: Animation, geometry: Geometry, encoder: Encoder
) -> list[captions_.Overlay]:
    """The animation's ``captions`` (an editor extension) laid out on its frames."""
    requested = getattr(animation, "captions", ())
    if not requested:
        return []
    size = (geometry.width, geometry.height)
    return captions_.overlays(requested, *size, animation.frame_duration_ms, encoder.order)


def _encode_options(animation: Animation, encoder: Encoder) -> EncodeOptions:
    return EncodeOptions(
        frame_duration_ms=animation.frame_duration_ms,
        quality=_quality(animation.quality),
        loop=animation.loop,
        order=encoder.order,
        # ``fit``'s palette size for a GIF candidate; others leave the default.
        colors=int(getattr(animation, "colors", 256)),
        # The benchmark's point on a quality curve; others leave the named level.
        level=getattr(animation, "level", None),
    )


def _quality(name: str) -> Quality:
    """The quality level called ``name`` (the spec validated it; an unknown
    one is a KeyError, as the encoders' settings tables give)."""
    for quality in QUALITIES:
        if quality == name:
            return quality
    raise KeyError(name)


def _plan_runs(
    source: Path, info: VideoInfo, plan: FramePlan, encoder: Encoder, wave: bool, limits: Limits
) -> list[FramePlan]:
    """Encoders that take runs get one per CPU, each sampled by its own ffmpeg."""
    alpha = info.has_alpha and not wave
    return split_for_decoding(source, info, plan, encoder.parts(plan.count, alpha), limits)


class _Progress:
    """Reports the fraction of the frames handed to the encoder, over all runs
    (they are sampled side by side, hence the lock). ``total`` counts the
    first frame of each run after the first, which repeats the frame before."""

    def __init__(self, report: Callable[[float], None] | None, total: int) -> None:
        self._report = report or (lambda fraction: None)
        self._total = total
        self._handed = 0
        self._lock = threading.Lock()

    def counted(self, frames: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
        for frame in frames:
            yield frame
            with self._lock:
                self._handed += 1
                self._report(min(1.0, self._handed / self._total))

    def done(self) -> None:
        self._report(1.0)


def _sample_and_encode(
    source: Path,
    info: VideoInfo,
    runs: Sequence[FramePlan],
    draw: Sampler,
    geometry: Geometry,
    limits: Limits,
    encoder: Encoder,
    options: EncodeOptions,
    progress: _Progress,
    order: _Order,
    captions: Sequence[captions_.Overlay] = (),
    timings: dict[str, float] | None = None,
) -> Encoded:
    """Sample every run (lazily: each ffmpeg starts when the encoder asks for
    its first frame) and encode them. ``timings`` gets the fixed costs of
    the first run: the sampler's start, the encoder's, MoviePy's clip."""
    timings = {} if timings is None else timings
    encoding: list[float] = []  # when the encoder was handed the frames
    with private_folder("work") as tmp:
        if info.demuxer == "mpegts":
            source = mpegts.without_sdt(source, tmp / "source.ts")
        frames = []
        for n, run in enumerate(runs):
            if n:  # a later run starts with the last frame of the one before
                run = FramePlan(run.start - run.interval, run.interval, run.count + 1)
            drawn = draw(source, info, run, geometry, limits, encoder.order)
            if n:
                drawn = until_source_ends(drawn)
                frames.append(progress.counted(through_clip(drawn, run.count)))
                continue
            # The first run's fixed costs: ffmpeg's start (spawn, seek, the
            # first decoded frame), then MoviePy's clip around it.
            drawn = first_pull(
                drawn, lambda asked, got: timings.update(sampler_start_s=got - asked)
            )
            clipped = first_pull(
                through_clip(drawn, run.count),
                lambda asked, got: timings.update(
                    # 0 where frames are read before the encoder starts (reordered)
                    encoder_start_s=asked - encoding[0] if encoding else 0.0,
                    moviepy_clip_s=got - asked - timings.get("sampler_start_s", 0.0),
                ),
            )
            frames.append(progress.counted(clipped))
        firsts = _first_indices(runs)
        if order.changed:
            frames, firsts = ordering.reordered(frames, order.reverse, order.boomerang), [0]
        if captions:
            frames = captions_.drawn(frames, firsts, captions)
        encoding.append(time.monotonic())  # until the encoder asks for a frame: its start
        return encoder.encode(frames, options)


def _first_indices(runs: Sequence[FramePlan]) -> list[int]:
    """The animation's index of each run's first frame: a run after the
    first starts with the frame before its own (the overlap)."""
    starts = list(itertools.accumulate((run.count for run in runs), initial=0))
    return [start - 1 if n else 0 for n, start in enumerate(starts[:-1])]


def _result(
    animation: Animation, geometry: Geometry, encoded: Encoded, timings: dict[str, float]
) -> AnimationResult:
    width, height = encoded.size or (geometry.width, geometry.height)
    return AnimationResult(
        data=encoded.data,
        format=animation.format,
        width=width,
        height=height,
        frames=encoded.frames,
        frame_duration_ms=animation.frame_duration_ms,
        durations_ms=encoded.durations_ms,
        timings=timings,
    )
