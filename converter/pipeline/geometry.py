"""Output size and the ffmpeg filters that make it, for each ScaleType, and
the size of the picture a sound is drawn on."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from .errors import PipelineError

# The canvas a sound's waveform is drawn on (``waveform``), standing in for a
# video's picture: Width/Height fractions and ScaleType apply to it as they
# apply to a picture, and the probe reports it as an audio file's size.
# 8:3 suits a voice clip in a chat.
WAVEFORM_CANVAS = (640, 240)


@dataclass(frozen=True)
class Geometry:
    width: int  # final output size
    height: int
    filters: str  # ffmpeg filter chain from the (rotated) source to that size


class CropRequest(Protocol):
    """A requested crop (``converter.spec.Crop``): each value a fraction
    (below 1) of the picture's side, or pixels."""

    @property
    def x(self) -> float: ...
    @property
    def y(self) -> float: ...
    @property
    def width(self) -> float: ...
    @property
    def height(self) -> float: ...


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    width: int
    height: int

    @property
    def filter(self) -> str:
        """ffmpeg's crop to this box (``exact``: odd offsets are kept, not
        rounded to the chroma grid)."""
        return f"crop={self.width}:{self.height}:{self.x}:{self.y}:exact=1"


def crop_box(crop: CropRequest, src_w: int, src_h: int) -> Box:
    """The requested crop in pixels of the picture, clamped to it. A crop
    that starts outside the picture is refused (``CropOutOfRange``)."""

    def pixels(value: float, side: int) -> int:
        return round(value * side) if value < 1 else int(value)

    x, y = pixels(crop.x, src_w), pixels(crop.y, src_h)
    if x >= src_w or y >= src_h:
        raise PipelineError(
            "CropOutOfRange",
            f"The crop starts at {x},{y}, outside the {src_w}x{src_h} picture.",
        )
    width = min(max(1, pixels(crop.width, src_w)), src_w - x)
    height = min(max(1, pixels(crop.height, src_h)), src_h - y)
    return Box(x, y, width, height)


def _side(value: float | None, source: int) -> int | None:
    if value is None:
        return None
    return max(1, round(source * value)) if value < 1 else int(value)


def plan_geometry(
    src_w: int,
    src_h: int,
    width: float | None,
    height: float | None,
    scale_type: str,
    max_pixels: int,
    max_side: int | None = None,
    format_name: str = "",
    crop: Box | None = None,
) -> Geometry:
    """Resolve Width/Height (fraction, pixels or absent) against the displayed
    source size and apply ScaleType:

    - ``stretch``: exactly the box, distorting if the aspect differs;
    - ``crop``: cover the box, cut the overflow around the centre;
    - ``fill``: fit inside the box, pad with black to exactly the box;
    - ``fit``: fit inside the box, no padding (may be smaller than the box).

    With one side absent the other keeps the source's aspect ratio. The
    output is refused past ``max_pixels``, and past ``max_side`` pixels on a
    side (what the output format, ``format_name``, can hold).

    A ``crop`` comes first: the box's fractions and ScaleType then apply to
    the cropped picture as they would to a source of that size.
    """
    if crop is not None:
        src_w, src_h = crop.width, crop.height
    bw, bh = _box(src_w, src_h, width, height)
    out_w, out_h, chain = _scale(src_w, src_h, bw, bh, scale_type)
    if crop is not None:
        chain = f"{crop.filter},{chain}"
    if out_w * out_h > max_pixels:
        raise PipelineError(
            "OutputTooLarge",
            f"The animation would be {out_w}x{out_h}; "
            f"the limit is {max_pixels:,} pixels per frame.",
        )
    if max_side is not None and max(out_w, out_h) > max_side:
        raise PipelineError(
            "OutputTooLarge",
            f"The animation would be {out_w}x{out_h}; "
            f"a {format_name or 'frame'} can be at most {max_side:,} pixels on a side.",
        )
    return Geometry(out_w, out_h, chain + ",setsar=1")


def _box(src_w: int, src_h: int, width: float | None, height: float | None) -> tuple[int, int]:
    """The box the request names, in pixels; a side left out keeps the aspect."""
    bw, bh = _side(width, src_w), _side(height, src_h)
    if bw is None:
        if bh is None:
            return src_w, src_h
        return max(1, round(src_w * bh / src_h)), bh
    if bh is None:
        return bw, max(1, round(src_h * bw / src_w))
    return bw, bh


def _scale(src_w: int, src_h: int, bw: int, bh: int, scale_type: str) -> tuple[int, int, str]:
    """(output width, height, ffmpeg filters) that bring the source to the box."""
    lanczos = ":flags=lanczos"
    if scale_type == "stretch":
        return bw, bh, f"scale={bw}:{bh}{lanczos}"
    if scale_type == "crop":
        s = max(bw / src_w, bh / src_h)
        sw, sh = max(bw, math.ceil(src_w * s - 1e-9)), max(bh, math.ceil(src_h * s - 1e-9))
        return bw, bh, f"scale={sw}:{sh}{lanczos},crop={bw}:{bh}"
    if scale_type in ("fill", "fit"):
        s = min(bw / src_w, bh / src_h)
        sw, sh = min(bw, max(1, round(src_w * s))), min(bh, max(1, round(src_h * s)))
        chain = f"scale={sw}:{sh}{lanczos}"
        if scale_type == "fill":
            return bw, bh, chain + f",pad={bw}:{bh}:({bw}-iw)/2:({bh}-ih)/2:color=black"
        return sw, sh, chain
    # The spec validated it; this guards a programming error.
    raise ValueError(f"unknown scale type {scale_type!r}")
