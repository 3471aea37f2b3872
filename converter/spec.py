"""What a task asks for, validated once at the edge.

``TaskSpec.parse`` reads the reference service's request body (the IMM
``CreateMediaConvertTask`` shape); the web form builds the same objects through
``AnimationSpec.create``. Everything after this module may trust the values.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from .errors import Code, LoopforgeError
from .pipeline.encoding import DEFAULT_QUALITY, QUALITIES
from .presets import PRESETS, Preset

FORMATS = ("gif", "webp", "mp4", "avif")
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
MIN_SPEED = 0.25
MAX_SPEED = 4.0
MAX_CROP_PX = 65535  # larger than any source the probe lets through
MAX_CAPTIONS = 10
MAX_CAPTION_CHARS = 200
MAX_CAPTION_LINES = 3
MAX_CAPTION_PX = 1024
MAX_OUTLINE_PX = 64
DEFAULT_CAPTION_SIZE = 0.1  # a tenth of the animation's height
CAPTION_POSITIONS = ("top", "middle", "bottom")
# Times and counts far past any source a limit lets through, so that the
# arithmetic on them (frames = span / interval) stays finite.
MAX_TIME_S = 31 * 24 * 3600.0
MAX_NUMBER = 1_000_000
# MaxBytes (our extension): below 1 KB no animation fits; 1 GB is far past
# any output the frame and pixel limits let a task make.
MIN_MAX_BYTES = 1000
MAX_MAX_BYTES = 1_000_000_000


class SpecError(LoopforgeError):
    """An invalid request field: ``InvalidArgument.<Field>``, the reference
    service's style, so clients can match on it."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(Code.INVALID_ARGUMENT, message, field=field_name)


def _optional_number(data: Mapping[str, Any], key: str) -> float | None:
    """A finite number, or None when absent or JSON null."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise SpecError(key, f"{key} must be a number.")
    try:
        number = float(value)
    except (ValueError, OverflowError):  # OverflowError: an int past float's range
        raise SpecError(key, f"{key} must be a number.") from None
    if not math.isfinite(number):
        raise SpecError(key, f"{key} must be a finite number.")
    return number


def _number(data: Mapping[str, Any], key: str, default: float) -> float:
    value = _optional_number(data, key)
    return default if value is None else value


def _whole(data: Mapping[str, Any], key: str, *, high: int | None, message: str) -> int:
    """A whole number from 0 (the default) to ``high``."""
    value = _number(data, key, 0)
    if value < 0 or value != int(value) or (high is not None and value > high):
        raise SpecError(key, message)
    return int(value)


def _timing(data: Mapping[str, Any]) -> tuple[float, float]:
    """(Interval, FrameRate). Either, both or neither may be given: a missing
    FrameRate is the reference's 1 / Interval (normal speed), a missing
    Interval 1 / FrameRate, and neither means DEFAULT_FRAME_RATE."""
    interval = _optional_number(data, "Interval")
    frame_rate = _optional_number(data, "FrameRate")
    if interval is not None and interval <= 0:
        raise SpecError("Interval", "Interval must be greater than 0 seconds.")
    if frame_rate is not None and frame_rate <= 0:
        raise SpecError("FrameRate", "FrameRate must be greater than 0.")
    if interval is None:
        rate = DEFAULT_FRAME_RATE if frame_rate is None else frame_rate
        return 1 / rate, rate
    return interval, 1 / interval if frame_rate is None else frame_rate


def _seconds(data: Mapping[str, Any], key: str, message: str) -> float:
    """A time from 0 (the default) to MAX_TIME_S; ``message`` says what it is."""
    value = _number(data, key, 0)
    if not 0 <= value <= MAX_TIME_S:
        raise SpecError(key, f"{message}, at most {MAX_TIME_S:,.0f}.")
    return value


def _flag(data: Mapping[str, Any], key: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise SpecError(key, f"{key} must be true or false.")
    return value


def _size(data: Mapping[str, Any], key: str) -> float | None:
    """Width/Height: a fraction in (0, 1) of the source, or whole pixels 1..4096."""
    value = _optional_number(data, key)
    if value is None or value == 0:
        return None
    if 0 < value < 1:
        return value
    if value == int(value) and 1 <= value <= MAX_SIDE_PX:
        return float(int(value))
    raise SpecError(
        key, f"{key} must be a fraction between 0 and 1, or whole pixels from 1 to {MAX_SIDE_PX}."
    )


def _choice(
    data: Mapping[str, Any], key: str, choices: tuple[str, ...], default: str | None
) -> str:
    value = data.get(key, default)
    if not isinstance(value, str) or value.lower() not in choices:
        raise SpecError(key, f"{key} must be one of: {', '.join(choices)}.")
    return value.lower()


def _fmt(value: float) -> str:
    return f"{value:g}"


def _scoped(data: Mapping[str, Any], name: str) -> dict[str, Any]:
    """A nested object's fields under their full names (``Crop.X``), so the
    field helpers read them and name them in errors as one."""
    return {f"{name}.{k}": v for k, v in data.items() if isinstance(k, str)}


def _crop_side(data: Mapping[str, Any], key: str, *, edge: bool) -> float:
    """One value of a Crop: a fraction of the source's side in [0, 1) (an
    offset) or (0, 1) (a length), or whole pixels (0 or more for an offset,
    1 or more for a length), as Width and Height are given."""
    value = _optional_number(data, key)
    kind = "an offset" if edge else "a length"
    if value is None:
        if edge:
            return 0.0
        raise SpecError(key, f"{key} is required.")
    low_ok = value >= 0 if edge else value > 0
    if low_ok and (value < 1 or (value == int(value) and value <= MAX_CROP_PX)):
        return value
    raise SpecError(
        key,
        f"{key} must be {kind}: a fraction below 1 of the source, "
        f"or whole pixels up to {MAX_CROP_PX}.",
    )


@dataclass(frozen=True)
class Crop:
    """``Crop``: the part of the source picture to keep, before Width, Height
    and ScaleType. Each value is a fraction (below 1) of the source's width
    or height, or whole pixels, of the picture as displayed (rotation
    applied). The pipeline clamps it to the picture (``geometry.crop_box``)."""

    x: float
    y: float
    width: float
    height: float

    @classmethod
    def parse(cls, value: Any) -> Crop | None:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise SpecError("Crop", "Crop must be an object with X, Y, Width and Height.")
        data = _scoped(value, "Crop")
        return cls.create(
            x=_crop_side(data, "Crop.X", edge=True),
            y=_crop_side(data, "Crop.Y", edge=True),
            width=_crop_side(data, "Crop.Width", edge=False),
            height=_crop_side(data, "Crop.Height", edge=False),
        )

    @classmethod
    def create(cls, **kwargs: float) -> Crop:
        crop = cls(**kwargs)
        for offset, length, name in (
            (crop.x, crop.width, "Width"),
            (crop.y, crop.height, "Height"),
        ):
            if 0 < offset < 1 and length < 1 and offset + length > 1:
                raise SpecError(f"Crop.{name}", f"Crop reaches past the picture's {name.lower()}.")
        return crop

    def __str__(self) -> str:
        return "_".join(_fmt(v) for v in (self.x, self.y, self.width, self.height))


_COLOUR_RE = re.compile(r"#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})")


def _colour(data: Mapping[str, Any], key: str, default: str) -> str:
    """A CSS hex colour, ``#RGB`` or ``#RRGGBB``, kept as ``#rrggbb``."""
    value = data.get(key, default)
    if not isinstance(value, str) or not _COLOUR_RE.fullmatch(value):
        raise SpecError(key, f"{key} must be a colour like #FFFFFF.")
    digits = value[1:].lower()
    return "#" + (digits if len(digits) == 6 else "".join(c * 2 for c in digits))


def _caption_text(data: Mapping[str, Any]) -> str:
    text = data.get("Captions.Text")
    if not isinstance(text, str) or not text.strip():
        raise SpecError("Captions.Text", "Each caption needs a Text.")
    text = text.replace("\r\n", "\n").strip()
    if len(text) > MAX_CAPTION_CHARS or text.count("\n") >= MAX_CAPTION_LINES:
        raise SpecError(
            "Captions.Text",
            f"A caption is at most {MAX_CAPTION_CHARS} characters on {MAX_CAPTION_LINES} lines.",
        )
    if any(unicodedata.category(c) == "Cc" and c != "\n" for c in text):
        raise SpecError("Captions.Text", "A caption's Text must not hold control characters.")
    return text


def _caption_size(data: Mapping[str, Any]) -> float:
    """Size: a fraction (below 1) of the animation's height, or whole pixels."""
    key = "Captions.Size"
    value = _number(data, key, DEFAULT_CAPTION_SIZE)
    if 0.01 <= value < 1 or (value == int(value) and 4 <= value <= MAX_CAPTION_PX):
        return value
    raise SpecError(
        key,
        f"{key} must be a fraction of the height from 0.01 to below 1, "
        f"or whole pixels from 4 to {MAX_CAPTION_PX}.",
    )


def _caption_outline(data: Mapping[str, Any]) -> int | None:
    """Outline: its width in whole pixels, 0 for none; absent: about a
    twelfth of the font size (the pipeline works it out)."""
    if data.get("Captions.Outline") is None:
        return None
    message = f"Captions.Outline must be whole pixels from 0 to {MAX_OUTLINE_PX}."
    return _whole(data, "Captions.Outline", high=MAX_OUTLINE_PX, message=message)


def _caption_place(data: Mapping[str, Any]) -> tuple[str, float | None, float | None]:
    """(Position, X, Y): a band (top, middle, bottom), or where it was dragged
    to: X and Y, fractions of the width and height for the text's centre."""
    position = _choice(data, "Captions.Position", CAPTION_POSITIONS, "bottom")
    x = _optional_number(data, "Captions.X")
    y = _optional_number(data, "Captions.Y")
    if (x is None) != (y is None):
        raise SpecError(
            "Captions.X" if x is None else "Captions.Y", "Give both X and Y, or neither."
        )
    for key, value in (("Captions.X", x), ("Captions.Y", y)):
        if value is not None and not 0 <= value <= 1:
            raise SpecError(key, f"{key} must be a fraction from 0 to 1.")
    return position, x, y


def _caption_times(data: Mapping[str, Any]) -> tuple[float, float | None]:
    """(StartTime, EndTime) on the animation's own clock: 0 is its first
    frame; no EndTime: to the end."""
    start = _seconds(data, "Captions.StartTime", "Captions.StartTime must be 0 or more seconds")
    end = _optional_number(data, "Captions.EndTime")
    if end is not None and not start < end <= MAX_TIME_S:
        raise SpecError("Captions.EndTime", "Captions.EndTime must be after StartTime.")
    return start, end


@dataclass(frozen=True)
class Caption:
    """One of ``Captions[]``: text drawn over the animation's frames."""

    text: str
    size: float = DEFAULT_CAPTION_SIZE  # fraction of the height, or pixels
    color: str = "#ffffff"
    outline: int | None = None  # pixels; None = about size / 12
    outline_color: str = "#000000"
    position: str = "bottom"  # top, middle or bottom; X/Y override it
    x: float | None = None
    y: float | None = None
    start_time: float = 0.0  # seconds of the animation
    end_time: float | None = None

    @classmethod
    def parse(cls, value: Any) -> Caption:
        if not isinstance(value, Mapping):
            raise SpecError("Captions", "Each caption must be an object with a Text.")
        data = _scoped(value, "Captions")
        text = _caption_text(data)
        size = _caption_size(data)
        color = _colour(data, "Captions.Color", "#ffffff")
        outline = _caption_outline(data)
        outline_color = _colour(data, "Captions.OutlineColor", "#000000")
        position, x, y = _caption_place(data)
        start, end = _caption_times(data)
        return cls(text, size, color, outline, outline_color, position, x, y, start, end)

    @classmethod
    def parse_all(cls, value: Any) -> tuple[Caption, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or len(value) > MAX_CAPTIONS:
            raise SpecError("Captions", f"Captions must be a list of at most {MAX_CAPTIONS}.")
        return tuple(cls.parse(item) for item in value)

    def to_api(self) -> dict[str, Any]:
        """The caption as the API writes it (the editor's form sends this)."""
        fields = {
            "Text": self.text, "Size": self.size, "Color": self.color,
            "Outline": self.outline, "OutlineColor": self.outline_color,
            "Position": self.position, "X": self.x, "Y": self.y,
            "StartTime": self.start_time, "EndTime": self.end_time,
        }  # fmt: skip
        return {k: v for k, v in fields.items() if v is not None}


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
    # Editor extensions (issue 13): sampling speed and frame order.
    speed: float = 1.0  # 2 = sample source frames twice as far apart
    reverse: bool = False
    boomerang: bool = False
    # The editor's picture edits: the part kept (before Width/Height) and
    # the text drawn over it.
    crop: Crop | None = None
    captions: tuple[Caption, ...] = ()
    # Where it is going (issue 14): a size cap in bytes the worker fits the
    # animation under (``pipeline.fit``), and the platform preset that set
    # it (with the format, box and duration the platform requires).
    max_bytes: int | None = None
    preset: str | None = None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> AnimationSpec:
        if not isinstance(data, Mapping):
            raise SpecError("Animations", "Each animation must be an object.")
        preset = _preset(data)
        # Fields are checked in this order, so the first wrong one is named.
        if preset is not None and data.get("Format") is None:
            fmt = preset.default_format
        else:
            fmt = _choice(data, "Format", FORMATS, None)
        interval, frame_rate = _timing(data)
        number = _whole(
            data,
            "Number",
            high=MAX_NUMBER,
            message=f"Number must be a whole number from 0 to {MAX_NUMBER:,}.",
        )
        start = _seconds(data, "StartTime", "StartTime must be 0 or more seconds")
        loop_message = f"Loop must be a whole number from 0 (forever) to {MAX_LOOP}."
        loop = _whole(data, "Loop", high=MAX_LOOP, message=loop_message)
        uri = data.get("URI", "")
        if not isinstance(uri, str):
            raise SpecError("URI", "URI must be a string.")
        waveform = _flag(data, "Waveform")
        speed = _number(data, "Speed", 1.0)
        reverse = _flag(data, "Reverse")
        boomerang = _flag(data, "Boomerang")
        crop = Crop.parse(data.get("Crop"))
        captions = Caption.parse_all(data.get("Captions"))
        width, height = _size(data, "Width"), _size(data, "Height")
        scale_type = _choice(data, "ScaleType", SCALE_TYPES, "stretch")
        max_bytes = _max_bytes(data)
        if preset is not None:
            fields = with_preset(
                preset,
                format=fmt,
                width=width,
                height=height,
                scale_type=scale_type,
                number=number,
                frame_rate=frame_rate,
                boomerang=boomerang,
                max_bytes=max_bytes,
            )
            width, height, scale_type = fields["width"], fields["height"], fields["scale_type"]
            number, max_bytes = fields["number"], fields["max_bytes"]
        return cls.create(
            format=fmt,
            interval=interval,
            frame_rate=frame_rate,
            number=number,
            start_time=start,
            width=width,
            height=height,
            scale_type=scale_type,
            uri=uri,
            quality=_choice(data, "Quality", QUALITIES, DEFAULT_QUALITY),
            loop=loop,
            waveform=waveform,
            speed=speed,
            reverse=reverse,
            boomerang=boomerang,
            crop=crop,
            captions=captions,
            max_bytes=max_bytes,
            preset=preset.id if preset else None,
        )

    @classmethod
    def create(cls, **kwargs: Any) -> AnimationSpec:
        spec = cls(**kwargs)
        spec.validate()
        return spec

    def validate(self) -> None:
        if self.format not in FORMATS:
            raise SpecError("Format", f"Format must be one of: {', '.join(FORMATS)}.")
        if not MIN_INTERVAL_S <= self.interval <= MAX_INTERVAL_S:
            raise SpecError(
                "Interval",
                f"Interval must be between {MIN_INTERVAL_S} and {MAX_INTERVAL_S:g} seconds.",
            )
        if not MIN_FRAME_RATE <= self.frame_rate <= MAX_FRAME_RATE:
            raise SpecError(
                "FrameRate", f"FrameRate must be between {MIN_FRAME_RATE} and {MAX_FRAME_RATE:g}."
            )
        if self.scale_type not in SCALE_TYPES:
            raise SpecError("ScaleType", f"ScaleType must be one of: {', '.join(SCALE_TYPES)}.")
        if self.quality not in QUALITIES:
            raise SpecError("Quality", f"Quality must be one of: {', '.join(QUALITIES)}.")
        if not MIN_SPEED <= self.speed <= MAX_SPEED:
            raise SpecError("Speed", f"Speed must be from {MIN_SPEED:g} to {MAX_SPEED:g}.")
        if self.max_bytes is not None:
            _check_max_bytes(self.max_bytes)
        if self.preset is not None:
            preset = _known_preset(self.preset)
            _check_preset_format(preset, self.format)
            if self.max_bytes is None or self.max_bytes > preset.max_bytes:
                raise SpecError(
                    "MaxBytes", f"{preset.name} takes at most {preset.max_bytes:,} bytes."
                )

    @property
    def frame_duration_ms(self) -> float:
        return 1000.0 / self.frame_rate

    def __str__(self) -> str:
        """Canonical form: equal specs give equal strings (used in output keys)."""
        size = f"{_fmt(self.width or 0)}x{_fmt(self.height or 0)}"
        return (
            f"{size}-{self.scale_type}-i{_fmt(self.interval)}-r{_fmt(self.frame_rate)}"
            f"-n{self.number}-s{_fmt(self.start_time)}-{self.quality}-l{self.loop}"
            f"{'-wave' if self.waveform else ''}{self._edits()}.{self.format}"
        )

    def _edits(self) -> str:
        """The editor's fields in the canonical form; empty at their defaults,
        so the keys of specs made before them do not change."""
        speed = "" if self.speed == 1 else f"-x{_fmt(self.speed)}"
        crop = f"-c{self.crop}" if self.crop else ""
        # Caption text is free text: a digest keeps the key short and safe.
        captions = f"-t{_digest(self.captions)}" if self.captions else ""
        order = f"{'-rev' if self.reverse else ''}{'-boom' if self.boomerang else ''}"
        preset = f"-p{self.preset}" if self.preset else ""
        cap = f"-b{self.max_bytes}" if self.max_bytes is not None else ""
        return f"{speed}{order}{crop}{captions}{preset}{cap}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AnimationSpec:
        fields = dict(data)
        if fields.get("crop"):
            fields["crop"] = Crop(**fields["crop"])
        fields["captions"] = tuple(Caption(**c) for c in fields.get("captions", ()))
        return cls.create(**fields)


def _check_max_bytes(value: int) -> None:
    if not MIN_MAX_BYTES <= value <= MAX_MAX_BYTES:
        raise SpecError(
            "MaxBytes",
            f"MaxBytes must be whole bytes from {MIN_MAX_BYTES:,} (1 KB) "
            f"to {MAX_MAX_BYTES:,} (1 GB).",
        )


def _max_bytes(data: Mapping[str, Any]) -> int | None:
    """``MaxBytes`` (our extension): the largest file, in whole bytes."""
    value = _optional_number(data, "MaxBytes")
    if value is None:
        return None
    if value != int(value):
        raise SpecError("MaxBytes", "MaxBytes must be a whole number of bytes.")
    _check_max_bytes(int(value))
    return int(value)


def _known_preset(name: Any) -> Preset:
    if not isinstance(name, str) or name.lower() not in PRESETS:
        raise SpecError("Preset", f"Preset must be one of: {', '.join(PRESETS)}.")
    return PRESETS[name.lower()]


def _preset(data: Mapping[str, Any]) -> Preset | None:
    """``Preset`` (our extension): the platform the animation is for."""
    value = data.get("Preset")
    return None if value in (None, "") else _known_preset(value)


def _check_preset_format(preset: Preset, fmt: str) -> None:
    if not preset.allows(fmt):
        raise SpecError(
            "Preset",
            f"{preset.name} takes {' or '.join(f.upper() for f in preset.formats)}, "
            f"not {fmt.upper()}.",
        )


def with_preset(
    preset: Preset,
    *,
    format: str,
    width: float | None,
    height: float | None,
    scale_type: str,
    number: int,
    frame_rate: float,
    boomerang: bool,
    max_bytes: int | None,
) -> dict[str, Any]:
    """The fields a preset sets, from the ones asked for: its cap (a smaller
    MaxBytes stays), its box (Width/Height become a fit box; sides asked for
    in pixels within it stay) and its longest duration (Number). What the
    platform does not take is refused as ``InvalidArgument.Preset`` (or
    ``.MaxBytes``), never quietly changed."""
    _check_preset_format(preset, format)
    if max_bytes is not None and max_bytes > preset.max_bytes:
        raise SpecError(
            "MaxBytes",
            f"{preset.name} takes at most {preset.max_bytes:,} bytes; MaxBytes is {max_bytes:,}.",
        )
    fields: dict[str, Any] = {
        "width": width,
        "height": height,
        "scale_type": scale_type,
        "number": number,
        "max_bytes": preset.max_bytes if max_bytes is None else max_bytes,
    }
    if preset.box is not None:
        box_w, box_h = preset.box
        for side, value, limit in (("Width", width, box_w), ("Height", height, box_h)):
            if value is not None and (value < 1 or value > limit):
                raise SpecError(
                    "Preset",
                    f"{preset.name} takes at most {box_w}x{box_h}: give {side} in pixels "
                    f"up to {limit}, or leave it out.",
                )
        if width is None and height is None:
            fields.update(width=float(box_w), height=float(box_h), scale_type="fit")
        elif width is None or height is None:
            # One side asked for: the other keeps the aspect, within the box.
            fields.update(
                width=width or float(box_w), height=height or float(box_h), scale_type="fit"
            )
    if preset.max_duration_s is not None:
        frames = math.floor(preset.max_duration_s * frame_rate + 1e-9)
        sampled = max(1, (frames + 2) // 2) if boomerang else max(1, frames)
        if number > sampled:
            raise SpecError(
                "Preset",
                f"{preset.name} plays at most {preset.max_duration_s:g} s: "
                f"at most {sampled} frames at {frame_rate:g} fps"
                f"{' (a boomerang)' if boomerang else ''}; Number is {number}.",
            )
        fields["number"] = number or sampled
    return fields


def _digest(captions: tuple[Caption, ...]) -> str:
    text = json.dumps([asdict(c) for c in captions], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Trim:
    """``Sources[].StartTime`` / ``Duration``: the part of the source to use."""

    start: float = 0.0
    duration: float = 0.0  # 0 = to the end

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Trim:
        if not isinstance(data, Mapping):
            raise SpecError("Sources", "Each source must be an object.")
        start = _seconds(data, "StartTime", "Sources StartTime must be 0 or more seconds")
        duration = _seconds(
            data, "Duration", "Sources Duration must be 0 (to the end) or more seconds"
        )
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
    def from_dict(cls, data: Mapping[str, Any]) -> TaskSpec:
        return cls(
            trim=Trim(**data["trim"]),
            animations=tuple(AnimationSpec.from_dict(a) for a in data["animations"]),
            source_uri=data.get("source_uri", ""),
        )


# --- The reference's CreateMediaConvertTask request ------------------------------

MAX_USER_DATA_BYTES = 2048  # the reference's limit
MAX_TAGS = 20
MAX_TAG_KEY_CHARS = 128
MAX_TAG_VALUE_CHARS = 256
MAX_ANIMATIONS = 20  # each one is a full decode pass over the source
URI_SCHEMES = ("oss", "s3")
TEMPLATE_VARIABLES = ("autoext", "bucket", "dirname", "barename", "basename", "ext", "index")
# Checked with fullmatch: "$" would let a trailing newline through.
_BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_TAG_KEY_RE = re.compile(r"[A-Za-z0-9_.:-]+")
_TOPIC_RE = re.compile(r"[A-Za-z0-9_.:-]{1,256}")
_TEMPLATE_RE = re.compile(r"\{([^{}]*)\}")
# A separator spelled another way: S3 servers (SeaweedFS among them) and
# proxies in front of them may decode these into "/" or "\\".
_ENCODED_SEPARATOR_RE = re.compile(r"%(2f|5c|2e)", re.IGNORECASE)
MAX_KEY_BYTES = 1024  # S3's limit


def key_problem(key: str) -> str | None:
    """Why ``key`` cannot name an object, or None. A key is a path of plain
    segments joined by "/": no empty, "." or ".." segment, no backslash, no
    percent-encoded separator, no control character. SeaweedFS turns "\\"
    into "/" and collapses "//", so any other spelling could reach a key
    that a check on the spelled form never saw (``outputs\\x`` is
    ``outputs/x``)."""
    if not key or len(key.encode()) > MAX_KEY_BYTES:
        return "must be 1 to 1024 bytes long"
    if any(ord(c) < 32 or ord(c) == 127 for c in key):
        return "must not hold control characters"
    if "\\" in key:
        return 'must use "/" between folders, not "\\"'
    if _ENCODED_SEPARATOR_RE.search(key):
        return "must not hold a percent-encoded separator (%2F, %5C, %2E)"
    if any(segment in ("", ".", "..") for segment in key.split("/")):
        return 'must not start or end with "/", nor hold "//", "." or ".." between slashes'
    return None


@dataclass(frozen=True)
class ObjectUri:
    """``oss://bucket/key`` or ``s3://bucket/key``: an object on the S3 server.
    The bucket in the URI is the S3 bucket's name; the scheme is kept so that
    answers echo what the client wrote."""

    scheme: str
    bucket: str
    key: str

    @classmethod
    def parse(cls, value: Any, field_name: str = "URI") -> ObjectUri:
        if not isinstance(value, str) or "://" not in value:
            raise SpecError(
                field_name, f"{field_name} must look like oss://bucket/key or s3://bucket/key."
            )
        scheme, rest = value.split("://", 1)
        bucket, _, key = rest.partition("/")
        if scheme.lower() not in URI_SCHEMES or not _BUCKET_RE.fullmatch(bucket) or not key:
            raise SpecError(
                field_name, f"{field_name} must look like oss://bucket/key or s3://bucket/key."
            )
        problem = key_problem(key)
        if problem:
            raise SpecError(field_name, f"{field_name}: the object key {problem}.")
        return cls(scheme.lower(), bucket, key)

    def __str__(self) -> str:
        return f"{self.scheme}://{self.bucket}/{self.key}"


def expand_uri(
    template: str,
    *,
    source: ObjectUri | None,
    source_name: str,
    fmt: str,
    index: int,
    tags: Mapping[str, str],
) -> str:
    """The animation's ``URI`` with its template variables filled in:
    ``{autoext}`` the output's extension; ``{bucket}`` the source's bucket;
    ``{dirname}`` the source key's folder (no trailing slash); ``{basename}``
    the source file name; ``{barename}`` it without extension; ``{ext}`` the
    source's extension (no dot); ``{index}`` the animation's place in the task
    (0, 1, ...); ``{tags.NAME}`` the task's tag NAME."""
    name = source.key if source else source_name
    dirname, _, basename = name.rpartition("/")
    barename, dot, ext = basename.rpartition(".")
    if not dot:
        barename, ext = basename, ""
    values = {
        "autoext": fmt,
        "bucket": source.bucket if source else "",
        "dirname": dirname,
        "basename": basename,
        "barename": barename,
        "ext": ext,
        "index": str(index),
    }

    def fill(match: re.Match[str]) -> str:
        variable = match.group(1)
        if variable.startswith("tags."):
            tag = variable[5:]
            if tag not in tags:
                raise SpecError("URI", f"URI uses {{{variable}}} but the task has no tag {tag!r}.")
            return tags[tag]
        if variable not in values:
            raise SpecError(
                "URI",
                f"URI has an unknown variable {{{variable}}}; known: "
                + ", ".join(f"{{{v}}}" for v in TEMPLATE_VARIABLES)
                + ", {tags.NAME}.",
            )
        return values[variable]

    return _TEMPLATE_RE.sub(fill, template)


def _tags(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise SpecError("Tags", "Tags must be an object of names to string values.")
    if len(value) > MAX_TAGS:
        raise SpecError("Tags", f"At most {MAX_TAGS} tags.")
    tags = {}
    for key, item in value.items():
        if not _TAG_KEY_RE.fullmatch(key) or len(key) > MAX_TAG_KEY_CHARS:
            raise SpecError(
                "Tags",
                f"Tag name {key!r} must be up to {MAX_TAG_KEY_CHARS} letters, digits, '_.:-'.",
            )
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            raise SpecError("Tags", f"Tag {key!r} must have a string value.")
        item = str(item)
        if len(item) > MAX_TAG_VALUE_CHARS:
            raise SpecError("Tags", f"Tag {key!r} is longer than {MAX_TAG_VALUE_CHARS} characters.")
        tags[key] = item
    return tags


def _notification(value: Any) -> dict[str, Any]:
    """``MNS.TopicName`` (a Redis stream here) and ``Webhook`` {URL, Secret}."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise SpecError("Notification", "Notification must be an object.")
    unknown = set(value) - {"MNS", "Webhook"}
    if unknown:
        raise SpecError(
            "Notification",
            f"Notification supports MNS and Webhook, not {', '.join(sorted(unknown))}.",
        )
    result: dict[str, Any] = {}
    if value.get("MNS") is not None:
        mns = value["MNS"]
        topic = mns.get("TopicName") if isinstance(mns, Mapping) else None
        if not isinstance(topic, str) or not _TOPIC_RE.fullmatch(topic):
            raise SpecError(
                "Notification.MNS.TopicName", "MNS.TopicName must be 1-256 letters, digits, '_.:-'."
            )
        result["MNS"] = {"TopicName": topic}
    if value.get("Webhook") is not None:
        hook = value["Webhook"]
        url = hook.get("URL") if isinstance(hook, Mapping) else None
        if (
            not isinstance(url, str)
            or not re.match(r"https?://[^\s/?#]+", url)
            or len(url) > 2048
            or any(ord(c) < 33 or ord(c) == 127 for c in url)  # no spaces, no control characters
        ):
            raise SpecError(
                "Notification.Webhook.URL", "Webhook.URL must be an http:// or https:// URL."
            )
        secret = hook.get("Secret", "")
        if not isinstance(secret, str) or len(secret) > 256:
            raise SpecError(
                "Notification.Webhook.Secret",
                "Webhook.Secret must be a string of up to 256 characters.",
            )
        result["Webhook"] = {"URL": url, "Secret": secret}
    return result


def _source(sources: Any) -> tuple[ObjectUri, Trim]:
    if not isinstance(sources, list) or not sources:
        raise SpecError("Sources", "Sources must be a list with one source.")
    if len(sources) > 1:
        raise SpecError("Sources", "Only one source per task is supported (no concatenation).")
    source = sources[0]
    if not isinstance(source, Mapping):
        raise SpecError("Sources", "Each source must be an object.")
    return ObjectUri.parse(source.get("URI"), "Sources.URI"), Trim.parse(source)


def _animations(targets: Any) -> tuple[AnimationSpec, ...]:
    if not isinstance(targets, list) or not targets:
        raise SpecError("Targets", "Targets must be a non-empty list.")
    animations = [a for target in targets for a in _target_animations(target)]
    if len(animations) > MAX_ANIMATIONS:
        raise SpecError("Targets", f"At most {MAX_ANIMATIONS} animations per task.")
    return tuple(animations)


def _target_animations(target: Any) -> list[AnimationSpec]:
    """The animations of one ``Targets[]`` entry: an image-only target."""
    if not isinstance(target, Mapping):
        raise SpecError("Targets", "Each target must be an object.")
    # The reference rejects a container or URI on an image-only target:
    # each animation's own URI says where it goes.
    for field_name in ("URI", "Container"):
        if target.get(field_name) not in (None, ""):
            raise SpecError(
                f"Targets.{field_name}",
                f"Targets[].{field_name} must not be set for an animation target; "
                "give each animation its own URI.",
            )
    unsupported = {
        k for k, v in target.items() if k not in ("Image", "URI", "Container") and v is not None
    }
    if unsupported:
        raise SpecError(
            "Targets",
            f"Only Image.Animations targets are supported, not {', '.join(sorted(unsupported))}.",
        )
    image = target.get("Image")
    if (
        not isinstance(image, Mapping)
        or not isinstance(image.get("Animations"), list)
        or not image["Animations"]
    ):
        raise SpecError(
            "Targets.Image.Animations", "Each target needs Image.Animations, a non-empty list."
        )
    # The SDKs send the image kinds they know as empty lists (Snapshots: []).
    others = {k for k, v in image.items() if k != "Animations" and v not in (None, [], {})}
    if others:
        raise SpecError(
            "Targets.Image", f"Only Animations are supported, not {', '.join(sorted(others))}."
        )
    animations = []
    for item in image["Animations"]:
        animation = AnimationSpec.parse(item)
        if not animation.uri:
            raise SpecError("URI", "Each animation needs a URI saying where to write it.")
        ObjectUri.parse(animation.uri, "URI")  # shape only; variables are filled later
        animations.append(animation)
    return animations


@dataclass(frozen=True)
class ImmRequest:
    """A ``CreateMediaConvertTask`` body, validated: the reference's fields,
    verbatim, plus ``Notification.Webhook``."""

    project_name: str
    source: ObjectUri
    spec: TaskSpec
    user_data: str
    tags: dict[str, str]
    notification: dict[str, Any]

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> ImmRequest:
        if not isinstance(data, Mapping):
            raise SpecError("", "The request body must be a JSON object.")
        project = data.get("ProjectName")
        if not isinstance(project, str) or not project:
            raise SpecError("ProjectName", "ProjectName is required.")
        source, trim = _source(data.get("Sources"))
        animations = _animations(data.get("Targets"))
        user_data = data.get("UserData", "")
        if user_data is None:
            user_data = ""
        if not isinstance(user_data, str) or len(user_data.encode()) > MAX_USER_DATA_BYTES:
            raise SpecError(
                "UserData", f"UserData must be a string of at most {MAX_USER_DATA_BYTES} bytes."
            )
        tags = _tags(data.get("Tags"))
        request = cls(
            project_name=project,
            source=source,
            spec=TaskSpec(trim, animations, source_uri=str(source)),
            user_data=user_data,
            tags=tags,
            notification=_notification(data.get("Notification")),
        )
        for target in request.target_uris():  # every template must expand
            ObjectUri.parse(target, "URI")
        return request

    def target_uris(self) -> list[str]:
        return [
            expand_uri(
                a.uri, source=self.source, source_name="", fmt=a.format, index=i, tags=self.tags
            )
            for i, a in enumerate(self.spec.animations)
        ]


# --- What is kept of a request (RequestDefinition) --------------------------------
# Only the fields this spec knows, as the client wrote them: a request may
# carry any other field (IMM ignores unknown ones), and what is stored is
# echoed by GetTask and ListTasks.
_ANIMATION_FIELDS = (
    "Format", "Interval", "FrameRate", "Number", "StartTime", "Width", "Height",
    "ScaleType", "URI", "Quality", "Loop", "Waveform", "Speed", "Reverse", "Boomerang",
    "Crop", "Captions", "MaxBytes", "Preset",
)  # fmt: skip
_SOURCE_FIELDS = ("URI", "StartTime", "Duration")
_REQUEST_FIELDS = ("ProjectName", "UserData", "Tags")
# A kept request is at most this large; with the known fields bounded as they
# are (20 animations, 1 KiB keys) a valid one stays far below it.
MAX_DEFINITION_BYTES = 64 * 1024


def _known(value: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {k: value[k] for k in fields if k in value} if isinstance(value, Mapping) else {}


def request_definition(body: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a ``CreateMediaConvertTask`` body this service knows,
    for RequestDefinition (the body was parsed by ``ImmRequest.parse``)."""
    definition = _known(body, _REQUEST_FIELDS)
    definition["Sources"] = [_known(s, _SOURCE_FIELDS) for s in body.get("Sources") or []]
    definition["Targets"] = [
        {
            "Image": {
                "Animations": [
                    _known(a, _ANIMATION_FIELDS)
                    for a in ((t.get("Image") or {}).get("Animations") or [])
                ]
            }
        }
        for t in body.get("Targets") or []
        if isinstance(t, Mapping)
    ]
    notification = body.get("Notification")
    if isinstance(notification, Mapping):
        kept = {
            "MNS": _known(notification.get("MNS"), ("TopicName",)),
            "Webhook": _known(notification.get("Webhook"), ("URL", "Secret")),
        }
        definition["Notification"] = {k: v for k, v in kept.items() if v}
    if len(json.dumps(definition, ensure_ascii=False).encode()) > MAX_DEFINITION_BYTES:
        raise SpecError("", f"The request is larger than {MAX_DEFINITION_BYTES:,} bytes.")
    return definition


# --- SuggestMoments (our extension) ------------------------------------------------

MOMENT_LENGTH_S = (0.5, 60.0)
MAX_MOMENTS = 10


@dataclass(frozen=True)
class MomentsRequest:
    """A ``SuggestMoments`` body: the source (as CreateMediaConvertTask's
    ``Sources``), the window length (``Duration``, seconds) and how many
    windows (``Number``, default 3)."""

    project_name: str
    source: ObjectUri
    length_s: float
    count: int

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> MomentsRequest:
        if not isinstance(data, Mapping):
            raise SpecError("", "The request body must be a JSON object.")
        project = data.get("ProjectName")
        if not isinstance(project, str) or not project:
            raise SpecError("ProjectName", "ProjectName is required.")
        source, _ = _source(data.get("Sources"))
        low, high = MOMENT_LENGTH_S
        length = _number(data, "Duration", 0)
        if not low <= length <= high:
            raise SpecError("Duration", f"Duration must be from {low:g} to {high:g} seconds.")
        count = _whole(
            data, "Number", high=MAX_MOMENTS, message=f"Number must be from 1 to {MAX_MOMENTS}."
        )
        if data.get("Number") is not None and count < 1:
            raise SpecError("Number", f"Number must be from 1 to {MAX_MOMENTS}.")
        return cls(project, source, length, count or 3)
