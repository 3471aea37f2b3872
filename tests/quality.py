"""Decoding animations and scoring their frames (SSIM, as ../shared/bench/animq.py
does it: RGB, 7x7 uniform window, the scikit-image defaults)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageSequence


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


def _mean7(x: np.ndarray) -> np.ndarray:
    """Mean over every 7x7 window (valid region), by summed-area tables."""
    c = np.cumsum(np.cumsum(np.pad(x, ((1, 0), (1, 0))), 0), 1)
    return (c[7:, 7:] - c[:-7, 7:] - c[7:, :-7] + c[:-7, :-7]) / 49.0


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM over RGB channels with a 7x7 window, data range 255."""
    assert a.shape == b.shape, (a.shape, b.shape)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    scores = []
    for ch in range(3):
        x, y = a[..., ch].astype(np.float64), b[..., ch].astype(np.float64)
        mx, my = _mean7(x), _mean7(y)
        # sample covariance (n-1), as scikit-image does by default
        k = 49 / 48
        vx = (_mean7(x * x) - mx * mx) * k
        vy = (_mean7(y * y) - my * my) * k
        cxy = (_mean7(x * y) - mx * my) * k
        s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
        scores.append(s.mean())
    return float(np.mean(scores))
