"""What a task asks for, validated once at the edge.

``TaskSpec.parse`` reads the reference service's request body (the IMM
``CreateMediaConvertTask`` shape); the web form builds the same objects through
``AnimationSpec.create``. Everything after this module may trust the values.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Mapping

from .pipeline.encoding import DEFAULT_QUALITY, QUALITIES

FORMATS = ("gif", "webp")
SCALE_TYPES = ("stretch", "crop", "fill", "fit")
MAX_SIDE_PX = 4096  # the reference's upper bound for Width/Height in pixels
# GIF stores delays in hundredths of a second and browsers clamp delays under
# 20 ms, so 50 fps is the fastest animation that plays as asked.
MAX_FRAME_RATE = 50.0
MIN_FRAME_RATE = 0.01
MIN_INTERVAL_S = 0.001
MAX_INTERVAL_S = 3600.0
DEFAULT_FRAME_RATE = 10.0
MAX_LOOP = 65535  # GIF's NETSCAPE loop field is 16 bits


class SpecError(ValueError):
    """An invalid request field. ``code`` follows the reference service's
    ``InvalidArgument.<Field>`` style so clients can match on it."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.code = f"InvalidArgument.{field_name}" if field_name else "InvalidArgument"
        self.message = message


def _number(data: Mapping[str, Any], key: str, default: float | None) -> float | None:
    value = data.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise SpecError(key, f"{key} must be a number.")
    try:
        number = float(value)
    except ValueError:
        raise SpecError(key, f"{key} must be a number.") from None
    if not math.isfinite(number):
        raise SpecError(key, f"{key} must be a finite number.")
    return number


def _size(data: Mapping[str, Any], key: str) -> float | None:
    """Width/Height: a fraction in (0, 1) of the source, or whole pixels 1..4096."""
    value = _number(data, key, None)
    if value is None or value == 0:
        return None
    if 0 < value < 1:
        return value
    if value == int(value) and 1 <= value <= MAX_SIDE_PX:
        return float(int(value))
    raise SpecError(
        key, f"{key} must be a fraction between 0 and 1, or whole pixels from 1 to {MAX_SIDE_PX}."
    )


def _choice(data: Mapping[str, Any], key: str, choices: tuple[str, ...], default: str | None) -> str:
    value = data.get(key, default)
    if not isinstance(value, str) or value.lower() not in choices:
        raise SpecError(key, f"{key} must be one of: {', '.join(choices)}.")
    return value.lower()


def _fmt(value: float) -> str:
    return f"{value:g}"


@dataclass(frozen=True)
class AnimationSpec:
    """One requested animation (``Targets[].Image.Animations[]``)."""

    format: str
    interval: float  # seconds between sampled source frames
    frame_rate: float  # playback frames per second
    number: int = 0  # frames to sample; 0 = until the end
    start_time: float = 0.0  # within the trimmed source
    width: float | None = None  # fraction (0, 1) or pixels; None = from source
    height: float | None = None
    scale_type: str = "stretch"
    uri: str = ""
    quality: str = DEFAULT_QUALITY
    loop: int = 0  # 0 = forever
    # Beyond the reference: animate the waveform of the source's sound instead
    # of its picture (the only animation an audio-only file can give).
    waveform: bool = False

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> "AnimationSpec":
        if not isinstance(data, Mapping):
            raise SpecError("Animations", "Each animation must be an object.")
        fmt = _choice(data, "Format", FORMATS, None)
        interval = _number(data, "Interval", None)
        frame_rate = _number(data, "FrameRate", None)
        if interval is not None and interval <= 0:
            raise SpecError("Interval", "Interval must be greater than 0 seconds.")
        if frame_rate is not None and frame_rate <= 0:
            raise SpecError("FrameRate", "FrameRate must be greater than 0.")
        if interval is None and frame_rate is None:
            frame_rate = DEFAULT_FRAME_RATE
        if interval is None:
            interval = 1 / frame_rate  # normal speed
        if frame_rate is None:
            frame_rate = 1 / interval  # the reference's default
        number = _number(data, "Number", 0)
        if number < 0 or number != int(number):
            raise SpecError("Number", "Number must be a whole number, 0 or more.")
        start = _number(data, "StartTime", 0)
        if start < 0:
            raise SpecError("StartTime", "StartTime must be 0 or more seconds.")
        loop = _number(data, "Loop", 0)
        if loop < 0 or loop != int(loop) or loop > MAX_LOOP:
            raise SpecError("Loop", f"Loop must be a whole number from 0 (forever) to {MAX_LOOP}.")
        uri = data.get("URI", "")
        if not isinstance(uri, str):
            raise SpecError("URI", "URI must be a string.")
        waveform = data.get("Waveform", False)
        if not isinstance(waveform, bool):
            raise SpecError("Waveform", "Waveform must be true or false.")
        return cls.create(
            format=fmt,
            interval=interval,
            frame_rate=frame_rate,
            number=int(number),
            start_time=start,
            width=_size(data, "Width"),
            height=_size(data, "Height"),
            scale_type=_choice(data, "ScaleType", SCALE_TYPES, "stretch"),
            uri=uri,
            quality=_choice(data, "Quality", QUALITIES, DEFAULT_QUALITY),
            loop=int(loop),
            waveform=waveform,
        )

    @classmethod
    def create(cls, **kwargs: Any) -> "AnimationSpec":
        spec = cls(**kwargs)
        spec.validate()
        return spec

    def validate(self) -> None:
        if self.format not in FORMATS:
            raise SpecError("Format", f"Format must be one of: {', '.join(FORMATS)}.")
        if not MIN_INTERVAL_S <= self.interval <= MAX_INTERVAL_S:
            raise SpecError(
                "Interval", f"Interval must be between {MIN_INTERVAL_S} and {MAX_INTERVAL_S:g} seconds."
            )
        if not MIN_FRAME_RATE <= self.frame_rate <= MAX_FRAME_RATE:
            raise SpecError(
                "FrameRate", f"FrameRate must be between {MIN_FRAME_RATE} and {MAX_FRAME_RATE:g}."
            )
        if self.scale_type not in SCALE_TYPES:
            raise SpecError("ScaleType", f"ScaleType must be one of: {', '.join(SCALE_TYPES)}.")
        if self.quality not in QUALITIES:
            raise SpecError("Quality", f"Quality must be one of: {', '.join(QUALITIES)}.")

    @property
    def frame_duration_ms(self) -> float:
        return 1000.0 / self.frame_rate

    def __str__(self) -> str:
        """Canonical form: equal specs give equal strings (used in output keys)."""
        size = f"{_fmt(self.width or 0)}x{_fmt(self.height or 0)}"
        return (
            f"{size}-{self.scale_type}-i{_fmt(self.interval)}-r{_fmt(self.frame_rate)}"
            f"-n{self.number}-s{_fmt(self.start_time)}-{self.quality}-l{self.loop}"
            f"{'-wave' if self.waveform else ''}.{self.format}"
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "AnimationSpec":
        return cls.create(**data)


@dataclass(frozen=True)
class Trim:
    """``Sources[].StartTime`` / ``Duration``: the part of the source to use."""

    start: float = 0.0
    duration: float = 0.0  # 0 = to the end

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> "Trim":
        start = _number(data, "StartTime", 0)
        duration = _number(data, "Duration", 0)
        if start < 0:
            raise SpecError("StartTime", "Sources StartTime must be 0 or more seconds.")
        if duration < 0:
            raise SpecError("Duration", "Sources Duration must be 0 (to the end) or more seconds.")
        return cls(start, duration)


@dataclass(frozen=True)
class TaskSpec:
    """A whole request: one source (with its trim) and the animations to make."""

    trim: Trim
    animations: tuple[AnimationSpec, ...]
    source_uri: str = ""

    @property
    def wants_waveform(self) -> bool:
        """Whether an audio-only source can serve this task."""
        return any(a.waveform for a in self.animations)

    def to_dict(self) -> dict[str, Any]:
        return {
            "trim": asdict(self.trim),
            "source_uri": self.source_uri,
            "animations": [a.to_dict() for a in self.animations],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "TaskSpec":
        return cls(
            trim=Trim(**data["trim"]),
            animations=tuple(AnimationSpec.from_dict(a) for a in data["animations"]),
            source_uri=data.get("source_uri", ""),
        )
