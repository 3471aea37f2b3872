"""What sharing needs beside an animation: a muted H.264 MP4 of it (what
chat apps and sharing sites play: 10 to 30 times smaller than a GIF) and a
JPEG poster of its first frame (the link preview's picture).

Both are made from the finished animation itself, so they show exactly
its frames: each frame is repeated for as long as the animation shows it
(a still stretch of a WebP is one long frame), at the animation's own frame
rate, so the MP4 has the animation's frame count and duration.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass

import av
import numpy as np
from PIL import Image, ImageSequence

from . import encode_mp4
from .encoding import EncodeOptions, Order, Quality

POSTER_QUALITY = 85
# The MP4 of an animation is coded a little finer than a conversion's
# "balanced": it stands in for a GIF whose pixels people have seen.
VIDEO_QUALITY: Quality = "best"
# With libx264's "medium" rather than the conversions' "slow": on a GIF's
# frames (10 s at 10 fps, 480 px) it made the same bytes (-0.8%) and SSIM
# (-0.0003) in 56% of the time, 0.9 s less on every task (issue 19).
VIDEO_SETTINGS = encode_mp4.Mp4Settings(crf=encode_mp4.SETTINGS[VIDEO_QUALITY].crf, preset="medium")


@dataclass(frozen=True)
class Renditions:
    video: bytes  # H.264 MP4, muted; empty for an MP4 animation (it is its own)
    poster: bytes  # JPEG of the first frame
    width: int  # the MP4's size (even sides)
    height: int


def make(data: bytes, fmt: str, frame_duration_ms: float) -> Renditions:
    """The renditions of an animation (``data`` in ``fmt``) whose frames are
    ``frame_duration_ms`` each. An MP4 animation is its own video."""
    if fmt == "mp4":
        return Renditions(b"", _mp4_poster(data), *_mp4_size(data))
    with Image.open(io.BytesIO(data)) as image:
        poster = _jpeg(image.convert("RGB"))
        frames = _steady(image, frame_duration_ms, encode_mp4.ENCODER.order)
        options = EncodeOptions(
            frame_duration_ms=frame_duration_ms,
            quality=VIDEO_QUALITY,
            order=encode_mp4.ENCODER.order,
        )
        encoded = encode_mp4.encode(frames, options, VIDEO_SETTINGS)
    width, height = encoded.size or image.size
    return Renditions(encoded.data, poster, width, height)


def _steady(image: Image.Image, frame_ms: float, order: Order) -> Iterator[np.ndarray]:
    """The animation's frames at a steady ``frame_ms`` each: a frame shown
    for longer is repeated, one shown for less (GIF's 10 ms rounding) is
    taken when a frame's time falls in it. Transparent pixels show black,
    as the MP4 has no alpha."""
    shown_until = 0.0  # ms: where the frames read so far end
    slot = 0  # the next output frame, at slot x frame_ms
    for frame in ImageSequence.Iterator(image):
        shown_until += float(frame.info.get("duration") or frame_ms)
        pixels = _opaque(frame)
        if order == "bgr":
            pixels = np.ascontiguousarray(pixels[..., ::-1])
        # every slot whose time falls before this frame ends shows it
        while slot * frame_ms < shown_until - 1e-6:
            yield pixels
            slot += 1


def _opaque(frame: Image.Image) -> np.ndarray:
    rgba = frame.convert("RGBA")
    black = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
    return np.asarray(Image.alpha_composite(black, rgba).convert("RGB"))


def _jpeg(picture: Image.Image) -> bytes:
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=POSTER_QUALITY, optimize=True, progressive=True)
    return out.getvalue()


def _mp4_poster(data: bytes) -> bytes:
    with av.open(io.BytesIO(data), mode="r") as video:
        first = next(video.decode(video=0))
        return _jpeg(Image.fromarray(first.to_ndarray(format="rgb24")))


def _mp4_size(data: bytes) -> tuple[int, int]:
    with av.open(io.BytesIO(data), mode="r") as video:
        stream = video.streams.video[0]
        return stream.width, stream.height
