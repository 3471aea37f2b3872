"""Animated WebP through Pillow's libwebp."""

from __future__ import annotations

import io
from typing import Iterable

import numpy as np
from PIL import Image

from .encoding import EncodeOptions, Encoded, spread_durations

QUALITY_SETTINGS = {"low": (60, 2), "balanced": (75, 4), "best": (90, 5)}


def encode(frames: Iterable[np.ndarray], options: EncodeOptions) -> Encoded:
    images = [Image.fromarray(f) for f in frames]
    if not images:
        raise ValueError("no frames to encode")
    durations = spread_durations(len(images), options.frame_duration_ms, 1)
    quality, method = QUALITY_SETTINGS[options.quality]
    buf = io.BytesIO()
    images[0].save(
        buf,
        "WEBP",
        save_all=True,
        append_images=images[1:],
        duration=durations,
        loop=options.loop,
        quality=quality,
        method=method,
    )
    return Encoded(buf.getvalue(), len(images), durations)
