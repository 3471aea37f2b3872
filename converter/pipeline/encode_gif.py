"""Animated GIF: libimagequant palettes per frame, encoded by Pillow."""

from __future__ import annotations

import io
from typing import Iterable

import imagequant
import numpy as np
from PIL import Image

from .encoding import EncodeOptions, Encoded, spread_durations

GIF_UNIT_MS = 10  # GIF delays are hundredths of a second


def _quantize(frame: np.ndarray) -> Image.Image:
    rgba = Image.fromarray(frame).convert("RGBA")
    return imagequant.quantize_pil_image(rgba, dithering_level=1.0, max_colors=256)


def encode(frames: Iterable[np.ndarray], options: EncodeOptions) -> Encoded:
    images = [_quantize(f) for f in frames]
    if not images:
        raise ValueError("no frames to encode")
    durations = spread_durations(len(images), options.frame_duration_ms, GIF_UNIT_MS)
    buf = io.BytesIO()
    images[0].save(
        buf,
        "GIF",
        save_all=True,
        append_images=images[1:],
        duration=durations,
        loop=options.loop,
        optimize=False,
        disposal=1,
    )
    return Encoded(buf.getvalue(), len(images), durations)
