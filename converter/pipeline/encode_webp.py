"""Animated WebP through Pillow's libwebp, one frame at a time.

Pillow's public ``save(save_all=True)`` wants every frame in memory first, and
forces a key frame at least every 5 frames (its ``kmax`` default). We feed
libwebp's animation encoder (Pillow's ``_webp.WebPAnimEncoder``, the object
``save`` itself drives) frame by frame instead, so a frame is encoded while
ffmpeg decodes the next (Pillow releases the GIL inside libwebp) and only one
frame is held. Key frames are left to libwebp, as ``gif2webp`` and ffmpeg do:
each frame is coded as the rectangle that changed whenever that is smaller.
If that private encoder is missing, we fall back to the public API.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np
from PIL import Image

from .encoding import Encoded, EncodeOptions, spread_durations

NO_KEYFRAMES = 2**31 - 1  # libwebp's own default: key frames only when smaller


@dataclass(frozen=True)
class WebpSettings:
    quality: float  # libwebp lossy quality 0-100
    method: int  # 0 (fast) to 6 (slow, smaller)
    allow_mixed: bool = False  # let libwebp pick lossless per frame when smaller


# Chosen with the benchmark (docs/encoding.md). Pillow's libwebp (1.5.0)
# makes slightly larger, slightly worse files than the libwebp in the bundled
# ffmpeg for the same settings and frames (checked on single frames too), so
# "balanced" is quality 74, a step under ffmpeg's 75. Method 5 won one clip
# and lost another at a third more time; method 4 it is.
SETTINGS: dict[str, WebpSettings] = {
    "low": WebpSettings(quality=60, method=4),
    "balanced": WebpSettings(quality=74, method=4),
    "best": WebpSettings(quality=88, method=5),
}


def _rgba_image(frame: np.ndarray) -> Image.Image:
    if frame.ndim != 3 or frame.shape[2] not in (3, 4) or frame.dtype != np.uint8:
        raise ValueError("frames must be H x W x 3 or H x W x 4 uint8 arrays")
    # RGB or RGBA from the shape (Pillow 11 deprecates passing the mode). Pillow
    # hands RGB (as RGBX) or RGBA to libwebp as is; no alpha, no ALPH chunk.
    return Image.fromarray(np.ascontiguousarray(frame))


def _encoder(size: tuple[int, int], loop: int, s: WebpSettings) -> Any:
    from PIL import _webp

    return _webp.WebPAnimEncoder(
        size, 0, loop, False, NO_KEYFRAMES - 1, NO_KEYFRAMES, s.allow_mixed, False
    )


def encode(frames: Iterable[np.ndarray], options: EncodeOptions) -> Encoded:
    """Encode RGB or RGBA frames to an animated WebP (alpha kept)."""
    s = SETTINGS[options.quality]
    try:
        from PIL import _webp  # noqa: F401

        streaming = hasattr(_webp, "WebPAnimEncoder")
    except ImportError:
        streaming = False
    if not streaming:
        return _encode_public(frames, options, s)

    enc = None
    shape = None
    has_alpha = False
    timestamp = 0
    durations: list[int] = []
    for frame in frames:
        if shape is None:
            shape = frame.shape
            enc = _encoder((frame.shape[1], frame.shape[0]), options.loop, s)
        elif frame.shape != shape:
            raise ValueError("all frames must have the same size")
        im = _rgba_image(frame)
        has_alpha = has_alpha or (
            frame.shape[2] == 4 and bool((frame[..., 3] < 255).any())
        )
        enc.add(im.getim(), timestamp, False, s.quality, 100, s.method)
        # spread_durations, one frame at a time (its i-th value depends only on i).
        ms = round((len(durations) + 1) * options.frame_duration_ms) - timestamp
        durations.append(max(1, ms))
        timestamp += durations[-1]
    if enc is None:
        raise ValueError("no frames to encode")
    enc.add(None, timestamp, False, s.quality, 100, 0)
    data = enc.assemble("", b"", "")
    if data is None:
        raise RuntimeError("libwebp returned no data")
    return Encoded(
        _mark_alpha(bytes(data)) if has_alpha else bytes(data),
        len(durations),
        durations,
    )


def _mark_alpha(data: bytes) -> bytes:
    """Set the VP8X "has alpha" flag.

    libwebp crops each frame to what it must paint, so when every painted
    rectangle is opaque and the transparency lies only in the (transparent)
    canvas around them, it leaves the flag unset and decoders show the frames
    opaque. The flag only says that transparency is present, which it is.
    """
    if data[12:16] != b"VP8X":
        return data
    out = bytearray(data)
    out[20] |= 0x10
    return bytes(out)


def _encode_public(
    frames: Iterable[np.ndarray], options: EncodeOptions, s: WebpSettings
) -> Encoded:
    images = [_rgba_image(f) for f in frames]
    if not images:
        raise ValueError("no frames to encode")
    durations = spread_durations(len(images), options.frame_duration_ms, 1)
    buf = io.BytesIO()
    images[0].save(
        buf,
        "WEBP",
        save_all=True,
        append_images=images[1:],
        duration=durations,
        loop=options.loop,
        quality=s.quality,
        method=s.method,
        allow_mixed=s.allow_mixed,
        kmin=NO_KEYFRAMES - 1,
        kmax=NO_KEYFRAMES,
    )
    return Encoded(buf.getvalue(), len(images), durations)
