"""Decoding animations and scoring their frames (``converter.bench.score``, the
benchmark's SSIM, which is animq.py's method)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageSequence

from converter.bench.score import ssim  # noqa: F401  (re-exported for the tests)


def animation_frames(data: bytes) -> tuple[Image.Image, list[np.ndarray], list[int]]:
    """The image, its frames as RGB(A) arrays, and each frame's duration in ms."""
    image = Image.open(io.BytesIO(data))
    frames, durations = [], []
    for frame in ImageSequence.Iterator(image):
        frame.load()
        durations.append(frame.info.get("duration", 0))
        frames.append(np.asarray(frame.convert("RGBA" if frame.has_transparency_data else "RGB")))
    image.seek(0)
    return image, frames, durations


def decoded(
    data: bytes, mode: str = "RGB", *, fmt: str
) -> tuple[list[np.ndarray], list[int], dict]:
    """Every frame of an animation of format ``fmt`` in ``mode``, each frame's
    duration (ms) and the file's info (``loop``...)."""
    im = Image.open(io.BytesIO(data))
    assert im.format == fmt
    frames, durations = [], []
    for i in range(im.n_frames):
        im.seek(i)
        im.load()
        durations.append(im.info["duration"])
        frames.append(np.asarray(im.convert(mode)))
    im.seek(0)
    return frames, durations, dict(im.info)
