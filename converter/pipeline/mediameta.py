"""The facts of a media file that DetectMediaMeta reports: container, size,
duration, bit rate and every stream (codecs, picture size, frame rate,
rotation, sample rate, channels, language), read from PyAV's structured
fields with the same allowlists as ``probe`` (nothing else is opened)."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av

from .allowlist import DEMUXERS, VIDEO_CODECS
from .errors import PipelineError
from .probe import _codec, _first_frame, _open, _unreadable_as_pipeline_error


@dataclass(frozen=True)
class VideoStreamMeta:
    index: int
    codec_name: str
    codec_long_name: str
    codec_tag_string: str
    profile: str
    width: int
    height: int
    pixel_format: str
    frame_rate: str  # "30/1", as the container states it
    average_frame_rate: str
    time_base: str
    sample_aspect_ratio: str  # "1:1"
    display_aspect_ratio: str
    rotate: str  # degrees clockwise as a string, as the reference has it ("90")
    duration: float  # seconds
    start_time: float
    frame_count: int
    bitrate: int
    bit_depth: int
    language: str
    has_bframes: int


@dataclass(frozen=True)
class AudioStreamMeta:
    index: int
    codec_name: str
    codec_long_name: str
    codec_tag_string: str
    sample_rate: int
    channels: int
    channel_layout: str
    sample_format: str
    time_base: str
    duration: float
    start_time: float
    frame_count: int
    bitrate: int
    language: str


@dataclass(frozen=True)
class SubtitleStreamMeta:
    index: int
    codec_name: str
    codec_long_name: str
    language: str
    duration: float
    start_time: float
    width: int
    height: int


@dataclass(frozen=True)
class MediaMeta:
    format_name: str
    format_long_name: str
    size: int  # bytes
    duration: float  # seconds
    start_time: float
    bitrate: int  # bits per second
    stream_count: int
    program_count: int
    title: str
    artist: str
    album: str
    album_artist: str
    composer: str
    performer: str
    language: str
    produce_time: str
    video_streams: list[VideoStreamMeta] = field(default_factory=list)
    audio_streams: list[AudioStreamMeta] = field(default_factory=list)
    subtitles: list[SubtitleStreamMeta] = field(default_factory=list)

    @property
    def video_width(self) -> int:
        return self.video_streams[0].width if self.video_streams else 0

    @property
    def video_height(self) -> int:
        return self.video_streams[0].height if self.video_streams else 0


def _ratio(value: Fraction | None, sep: str = "/") -> str:
    return f"{value.numerator}{sep}{value.denominator}" if value else ""


def _seconds(value: int | None, time_base: Fraction | None) -> float:
    return round(float(value * time_base), 6) if value and time_base else 0.0


def _name(stream: av.stream.Stream) -> tuple[str, str, str]:
    """The codec's short and long name and its tag."""
    ctx = stream.codec_context
    if ctx is None or ctx.codec is None:
        return "", "", ""
    tag = ctx.codec_tag or ""
    return _codec(stream), ctx.codec.long_name or "", tag if tag.isprintable() else ""


def _language(stream: av.stream.Stream) -> str:
    return str(stream.metadata.get("language", ""))


def _bit_depth(pix_fmt: str | None) -> int:
    """Bits per component of the picture (8 for yuv420p, 10 for yuv420p10le)."""
    try:
        return int(av.VideoFormat(pix_fmt).components[0].bits) if pix_fmt else 0
    except (ValueError, IndexError):
        return 0


def _video(path: Path, n: int, stream: av.video.stream.VideoStream) -> VideoStreamMeta:
    ctx = stream.codec_context
    name, long_name, tag = _name(stream)
    sar = stream.sample_aspect_ratio or Fraction(1)
    dar = Fraction(ctx.width * sar.numerator, ctx.height * sar.denominator) if ctx.height else None
    # Rotation comes from the first frame's display matrix: decode one, only
    # with a decoder the allowlist names.
    rotation = _first_frame(path, n).rotation if name in VIDEO_CODECS else 0
    return VideoStreamMeta(
        index=stream.index,
        codec_name=name,
        codec_long_name=long_name,
        codec_tag_string=tag,
        profile=ctx.profile or "",
        width=ctx.width,
        height=ctx.height,
        pixel_format=ctx.pix_fmt or "",
        frame_rate=_ratio(stream.base_rate or stream.guessed_rate),
        average_frame_rate=_ratio(stream.average_rate),
        time_base=_ratio(stream.time_base),
        sample_aspect_ratio=_ratio(sar, ":"),
        display_aspect_ratio=_ratio(dar, ":"),
        rotate=str((360 - rotation) % 360),  # frame.rotation is counter-clockwise
        duration=_seconds(stream.duration, stream.time_base),
        start_time=_seconds(stream.start_time, stream.time_base),
        frame_count=stream.frames,
        bitrate=ctx.bit_rate or 0,
        bit_depth=_bit_depth(ctx.pix_fmt),
        language=_language(stream),
        has_bframes=int(ctx.has_b_frames),
    )


def _audio(stream: av.audio.stream.AudioStream) -> AudioStreamMeta:
    ctx = stream.codec_context
    name, long_name, tag = _name(stream)
    return AudioStreamMeta(
        index=stream.index,
        codec_name=name,
        codec_long_name=long_name,
        codec_tag_string=tag,
        sample_rate=ctx.sample_rate or 0,
        channels=ctx.channels or 0,
        channel_layout=ctx.layout.name if ctx.layout else "",
        sample_format=ctx.format.name if ctx.format else "",
        time_base=_ratio(stream.time_base),
        duration=_seconds(stream.duration, stream.time_base),
        start_time=_seconds(stream.start_time, stream.time_base),
        frame_count=stream.frames,
        bitrate=ctx.bit_rate or 0,
        language=_language(stream),
    )


def _subtitle(stream: av.stream.Stream) -> SubtitleStreamMeta:
    name, long_name, _ = _name(stream)
    ctx = stream.codec_context
    return SubtitleStreamMeta(
        index=stream.index,
        codec_name=name,
        codec_long_name=long_name,
        language=_language(stream),
        duration=_seconds(stream.duration, stream.time_base),
        start_time=_seconds(stream.start_time, stream.time_base),
        width=int(getattr(ctx, "width", 0) or 0),
        height=int(getattr(ctx, "height", 0) or 0),
    )


def describe(path: Path) -> MediaMeta:
    """The media facts of the file at ``path``; ``UnsupportedFormat`` when it
    is not in a container the allowlist names."""
    with _open(path) as container, _unreadable_as_pipeline_error():
        if DEMUXERS.get(container.format.name) is None:
            raise PipelineError("UnsupportedFormat", "This file is not a media format we read.")
        tags = {str(k).lower(): str(v) for k, v in container.metadata.items()}
        pictures = [
            s
            for s in container.streams.video
            if not (s.disposition & av.stream.Disposition.attached_pic)
        ]
        video_position = {s.index: n for n, s in enumerate(container.streams.video)}
        return MediaMeta(
            format_name=container.format.name,
            format_long_name=container.format.long_name or "",
            size=path.stat().st_size,
            duration=round(container.duration / 1_000_000, 6) if container.duration else 0.0,
            start_time=round(container.start_time / 1_000_000, 6) if container.start_time else 0.0,
            bitrate=container.bit_rate or 0,
            stream_count=len(container.streams),
            program_count=0,
            title=tags.get("title", ""),
            artist=tags.get("artist", ""),
            album=tags.get("album", ""),
            album_artist=tags.get("album_artist", ""),
            composer=tags.get("composer", ""),
            performer=tags.get("performer", ""),
            language=tags.get("language", ""),
            produce_time=tags.get("creation_time", ""),
            video_streams=[_video(path, video_position[s.index], s) for s in pictures],
            audio_streams=[_audio(s) for s in container.streams.audio],
            subtitles=[_subtitle(s) for s in container.streams.subtitles],
        )
