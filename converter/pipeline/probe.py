"""What is in a media file, read from the container's structured fields.

Geometry, frame rate and duration come from libavformat's parsed structures
(PyAV), never from ffmpeg's human-readable log, which tags inside the file can
spoof. Only the demuxers and codecs that ``allowlist`` names are ever opened.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from .allowlist import (
    AUDIO_CODECS,
    AUDIO_DEMUXERS,
    CODEC_WHITELIST,
    DEMUXERS,
    FORMAT_WHITELIST,
    PROTOCOL_WHITELIST,
    VIDEO_CODECS,
)
from .errors import PipelineError
from .geometry import WAVEFORM_CANVAS
from .limits import DEFAULT_LIMITS, Limits

# Why a file with sound and no picture cannot be converted (but drawn).
NO_PICTURE = (
    "This file has no video picture (it looks like audio only), so there is nothing to "
    "animate. Choose the waveform option to animate its sound instead."
)
# AVFieldOrder: TT, BB, TB, BT (0 is unknown, 1 progressive).
INTERLACED_FIELD_ORDERS = (2, 3, 4, 5)
PROBE_OPTIONS = {
    "protocol_whitelist": PROTOCOL_WHITELIST,
    "format_whitelist": FORMAT_WHITELIST,
    "codec_whitelist": CODEC_WHITELIST,
    "probesize": str(20 * 1024 * 1024),
    "analyzeduration": str(20 * 1_000_000),
}


@dataclass(frozen=True)
class VideoInfo:
    demuxer: str  # the short name to force with ``-f``
    codec: str
    stream_index: int  # index among the file's video streams (for ``-map 0:v:N``)
    coded_width: int
    coded_height: int
    width: int  # as displayed: square pixels, after rotation
    height: int
    rotation: int  # degrees, as ffmpeg's autorotate will apply it
    fps: float
    duration: float  # seconds
    has_alpha: bool
    pix_fmt: str
    interlaced: bool = False  # fields to weave apart before sampling
    audio_stream: int | None = None  # index among audio streams (``-map 0:a:N``)
    # No picture at all, only sound (probed with ``audio_only_ok``): the size
    # is then the waveform's canvas, and only a waveform animation can be made.
    audio_only: bool = False
    # The video's key frames (seconds on its own timeline, in order), every
    # one before ``key_frames_until`` (0: none read; at least the duration:
    # all of them): where a sampler that seeks starts decoding (``frameplan``).
    key_frames: tuple[float, ...] = ()
    key_frames_until: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def key_frame_before(self, t: float) -> float | None:
        """The last key frame at or before ``t`` s, where the probe read that
        far; None where it did not (``key_frame_before`` can look it up)."""
        if t >= self.key_frames_until:
            return None
        return next((k for k in reversed(self.key_frames) if k <= t), None)


def _pick_stream(container: av.container.InputContainer) -> tuple[int, av.video.stream.VideoStream]:
    candidates = [
        (i, s)
        for i, s in enumerate(container.streams.video)
        if not (s.disposition & av.stream.Disposition.attached_pic)
    ]
    if not candidates:
        raise PipelineError("NoVideoStream", NO_PICTURE)
    for i, s in candidates:
        if s.disposition & av.stream.Disposition.default:
            return i, s
    return candidates[0]


def _duration(container: av.container.InputContainer, stream: av.stream.Stream) -> float:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration and container.duration > 0:
        return container.duration / 1_000_000
    # The container states no duration: read packet timestamps (no decoding).
    end = 0.0
    for packet in container.demux(stream):
        if packet.pts is not None and packet.time_base is not None:
            end = max(end, float((packet.pts + (packet.duration or 0)) * packet.time_base))
    return end


# How far the probe reads on for key frames once the first frame is decoded:
# a few milliseconds for the first minute of a social clip, and it spares
# the planner a sandboxed child of its own (``frameplan``).
KEY_FRAME_SCAN_PACKETS = 2000
KEY_FRAME_SCAN_BYTES = 64 * 1024 * 1024
MAX_KEY_FRAMES = 500


@dataclass(frozen=True)
class _FirstFrame:
    rotation: int
    interlaced: bool
    key_frames: tuple[float, ...]
    key_frames_until: float


def _first_frame(path: Path, stream_pos: int, duration: float | None = None) -> _FirstFrame:
    """Rotation as ffmpeg applies it, read from the first decoded frame's
    display matrix (frame.rotation is counter-clockwise degrees), whether
    that frame is interlaced and, given the stream's ``duration``, the key
    frames of the packets read on from it (``_key_frames``). Read from a
    container of its own: one that was read already cannot always seek back
    (an FLV without an index answers EPERM, which is no storage fault)."""
    packets = 0
    with _open(path) as container:
        stream = container.streams.video[stream_pos]
        demuxed = container.demux(stream)
        keys: list[float] = []
        try:
            for packet in demuxed:
                packets += bool(packet.size)  # the last packet is an empty flush
                _note_key_frame(packet, stream, keys)
                for frame in packet.decode():
                    rotation, interlaced = round(frame.rotation or 0) % 360, frame.interlaced_frame
                    if duration is None:
                        return _FirstFrame(rotation, bool(interlaced), (), 0.0)
                    key_frames, until = _key_frames(demuxed, stream, keys, duration)
                    return _FirstFrame(rotation, bool(interlaced), key_frames, until)
        except av.error.FFmpegError as exc:
            raise PipelineError(
                "DecodeFailed", f"The video's first frame could not be decoded ({exc.strerror})."
            ) from None
    if not packets:
        raise PipelineError("NoVideoStream", "The video track holds no frames: nothing to animate.")
    raise PipelineError("SourceUnreadable", "No frame of the video could be decoded.")


def _key_frames(
    demuxed: Iterator[av.Packet[Any]],
    stream: av.video.stream.VideoStream,
    keys: list[float],
    duration: float,
) -> tuple[tuple[float, ...], float]:
    """The key frames of the packets read on (none decoded), after ``keys``,
    those seen to the first frame, and until when that is all of them: the
    ``duration`` or later where the stream ended, else the decoding time
    where the scan stopped (a packet not read is shown no earlier than it
    is decoded). A packet that cannot be read ends the scan, not the probe:
    the sampler may never need it. Only key frames' times are converted
    to seconds as they come (a timestamp times a ``Fraction`` is most of
    a packet's cost here)."""
    last_dts: int | None = None
    size, ended = 0, False
    try:
        for count, packet in enumerate(demuxed):
            size += packet.size
            if count >= KEY_FRAME_SCAN_PACKETS or size > KEY_FRAME_SCAN_BYTES:
                break
            if len(keys) >= MAX_KEY_FRAMES:  # an all-intra codec: every frame is one
                break
            _note_key_frame(packet, stream, keys)
            last_dts = packet.dts if packet.dts is not None else last_dts
        else:
            ended = True
    except av.error.FFmpegError:
        pass
    until = max(0.0, _seconds(last_dts, stream) or 0.0)
    if ended:
        until = max(until, duration)
    return tuple(sorted(k for k in keys if k < until)), until


def _seconds(timestamp: int | None, stream: av.video.stream.VideoStream) -> float | None:
    """A packet's timestamp in seconds on the stream's own timeline (its start is 0)."""
    if timestamp is None or not stream.time_base:
        return None
    return float((timestamp - (stream.start_time or 0)) * stream.time_base)


def _note_key_frame(
    packet: av.Packet[Any], stream: av.video.stream.VideoStream, keys: list[float]
) -> None:
    if not packet.is_keyframe:
        return
    time = _seconds(packet.pts, stream)
    if time is not None and math.isfinite(time):
        keys.append(time)


def _codec(stream: av.stream.Stream) -> str:
    """The stream's codec, as libavcodec names codecs (not decoders)."""
    ctx = stream.codec_context  # None where PyAV's libavcodec has no decoder
    return ctx.codec.canonical_name if ctx is not None and ctx.codec is not None else ""


def _pick_audio(container: av.container.InputContainer) -> int | None:
    """The default audio stream, else the first, among those in a codec we decode."""
    usable = [(i, s) for i, s in enumerate(container.streams.audio) if _codec(s) in AUDIO_CODECS]
    for i, s in usable:
        if s.disposition & av.stream.Disposition.default:
            return i
    return usable[0][0] if usable else None


def _audio_only(
    container: av.container.InputContainer, demuxer: str, audio: int, limits: Limits
) -> VideoInfo:
    stream = container.streams.audio[audio]
    duration = _checked_duration(container, stream, limits, "sound")
    return VideoInfo(
        demuxer=demuxer,
        codec=stream.codec_context.name,
        stream_index=0,
        coded_width=0,
        coded_height=0,
        width=WAVEFORM_CANVAS[0],
        height=WAVEFORM_CANVAS[1],
        rotation=0,
        fps=0.0,
        duration=duration,
        has_alpha=False,
        pix_fmt="",
        audio_stream=audio,
        audio_only=True,
    )


def probe(
    path: Path,
    limits: Limits = DEFAULT_LIMITS,
    *,
    decode: bool = True,
    audio_only_ok: bool = False,
    key_frames: bool = False,
) -> VideoInfo:
    """Read what is needed to plan a conversion, and refuse what breaks limits.

    With ``decode=False`` only container headers are read (no decoder runs):
    cheap enough for the web request to refuse bad uploads before queueing.
    Rotation is then reported as 0.

    With ``key_frames`` (and ``decode``) the packets after the first frame
    are read on for key frames (``_key_frames``), for a conversion that may
    split an animation into runs (``Encoder.splits``); without it none are
    reported and the planner looks one up where it needs it.

    A file with sound but no picture fails with ``NoVideoStream``, unless
    ``audio_only_ok`` (the task asks for a waveform animation): then it is
    described with ``audio_only=True``.
    """
    with _open(path) as container, _unreadable_as_pipeline_error():
        demuxer = DEMUXERS.get(container.format.name)
        if demuxer is None:
            raise _not_a_video()
        audio = _pick_audio(container)
        try:
            pos, stream = _pick_stream(container)
        except PipelineError as exc:
            if audio_only_ok and audio is not None and exc.code == "NoVideoStream":
                return _audio_only(container, demuxer, audio, limits)
            raise
        if container.format.name in AUDIO_DEMUXERS:
            raise _not_a_video()
        return _video(path, container, demuxer, pos, stream, audio, limits, decode, key_frames)


@contextmanager
def _unreadable_as_pipeline_error() -> Iterator[None]:
    """PyAV's errors (subclasses of OSError and ValueError among them) while
    reading a source are the source's fault: ``SourceUnreadable``, never
    mistaken for a storage fault or a bug."""
    try:
        yield
    except av.error.FFmpegError as exc:
        raise PipelineError(
            "SourceUnreadable", f"The file could not be read ({exc.strerror})."
        ) from None


def _open(path: Path) -> av.container.InputContainer:
    """The file opened by PyAV with the allowlists, or the reason it cannot be."""
    try:
        return _container(path)
    except (av.error.InvalidDataError, av.error.ArgumentError, av.error.PatchWelcomeError):
        raise PipelineError(
            "UnsupportedFormat",
            "This file is not a video format we can read (or it is damaged).",
        ) from None
    except av.error.FFmpegError as exc:
        raise PipelineError(
            "SourceUnreadable", f"The file could not be read ({exc.strerror})."
        ) from None


def _container(path: Path) -> av.container.InputContainer:
    # PyAV decodes every tag of the file as it opens it, and by default raises
    # UnicodeDecodeError on one that is not UTF-8 (an old muxer's Latin-1, a
    # damaged byte). Tags mean nothing to a conversion: such bytes are
    # replaced, never fatal.
    return av.open(str(path), options=PROBE_OPTIONS, timeout=30, metadata_errors="replace")


def _not_a_video() -> PipelineError:
    return PipelineError("UnsupportedFormat", "This file is not a video format we can read.")


def _video(
    path: Path,
    container: av.container.InputContainer,
    demuxer: str,
    pos: int,
    stream: av.video.stream.VideoStream,
    audio: int | None,
    limits: Limits,
    decode: bool,
    key_frames: bool,
) -> VideoInfo:
    """The video stream ``pos`` described, checked against the limits in turn:
    codec, picture size, duration."""
    ctx = stream.codec_context
    _check_codec(stream)
    coded_w, coded_h = _coded_size(ctx, limits)
    fps = _frame_rate(stream)
    duration = _checked_duration(container, stream, limits, "video")
    width, height = _square_pixels(coded_w, coded_h, stream.sample_aspect_ratio)
    scan = duration if key_frames else None
    first = _first_frame(path, pos, scan) if decode else _FirstFrame(0, False, (), 0.0)
    rotation = first.rotation
    if rotation in (90, 270):
        width, height = height, width
    return VideoInfo(
        demuxer=demuxer,
        codec=ctx.name,
        stream_index=pos,
        coded_width=coded_w,
        coded_height=coded_h,
        width=width,
        height=height,
        rotation=rotation,
        fps=fps,
        duration=duration,
        has_alpha=_has_alpha(stream),
        pix_fmt=ctx.pix_fmt or "",
        interlaced=first.interlaced or ctx.field_order in INTERLACED_FIELD_ORDERS,
        audio_stream=audio,
        key_frames=first.key_frames,
        key_frames_until=first.key_frames_until,
    )


def _check_codec(stream: av.video.stream.VideoStream) -> None:
    if _codec(stream) not in VIDEO_CODECS:
        raise PipelineError(
            "UnsupportedFormat",
            f"The video is coded as {_codec(stream) or 'an unknown codec'}, "
            "which we do not decode.",
        )


def _coded_size(ctx: av.video.codeccontext.VideoCodecContext, limits: Limits) -> tuple[int, int]:
    """The stored picture size, refused when absent or over the pixel limit."""
    coded_w, coded_h = ctx.width, ctx.height
    if coded_w <= 0 or coded_h <= 0:
        raise PipelineError("SourceUnreadable", "The video stream has no picture size.")
    if coded_w * coded_h > limits.max_source_pixels:
        raise PipelineError(
            "SourceTooLarge",
            f"The video is {coded_w}x{coded_h}; the limit is "
            f"{limits.max_source_pixels:,} pixels per frame.",
        )
    return coded_w, coded_h


def _frame_rate(stream: av.video.stream.VideoStream) -> float:
    """Frames per second as the container states them; 25 where it states none."""
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    fps = float(rate) if rate else 0.0
    if not fps or not math.isfinite(fps):
        fps = 25.0
    return fps


def _checked_duration(
    container: av.container.InputContainer, stream: av.stream.Stream, limits: Limits, what: str
) -> float:
    """The stream's duration in seconds, refused past the limit; ``what`` is
    "video" or "sound", for the message."""
    duration = _duration(container, stream)
    if duration > limits.max_source_duration_s:
        raise PipelineError(
            "SourceTooLong",
            f"The {what} is {duration:,.0f} s long; "
            f"the limit is {limits.max_source_duration_s:,.0f} s.",
        )
    return duration


def _square_pixels(coded_w: int, coded_h: int, sar: Fraction | None) -> tuple[int, int]:
    """The picture size shown with square pixels (non-square ones widen or
    narrow it)."""
    sar = sar or Fraction(1)
    width = max(1, round(coded_w * sar)) if sar > 0 else coded_w
    return width, coded_h


def key_frame_before(path: Path, info: VideoInfo, t: float) -> float | None:
    """When the key frame at or before ``t`` s (on the file's own timeline)
    starts: where decoding from ``t`` begins. None where the container cannot
    tell (no index, no timestamps)."""
    try:
        with _container(path) as container:
            stream = container.streams.video[info.stream_index]
            time_base = stream.time_base
            if not time_base:  # no timestamps to seek by
                return None
            start = stream.start_time or 0
            container.seek(int(t / time_base) + start, stream=stream, backward=True)
            for packet in container.demux(stream):
                if packet.pts is not None:
                    return _seconds(packet.pts, stream)
    except (av.error.FFmpegError, IndexError, ValueError, ZeroDivisionError):
        pass
    return None


def _has_alpha(stream: av.video.stream.VideoStream) -> bool:
    fmt = stream.codec_context.pix_fmt or ""
    if fmt.startswith(("yuva", "rgba", "bgra", "argb", "abgr", "gbrap", "ya")):
        return True
    # VP8/VP9 carry alpha in a side channel that the container flags.
    return str(stream.metadata.get("alpha_mode", "")) == "1"
