"""SSIM as /work/shared/bench/animq.py computes it, without scikit-image.

animq.py calls ``skimage.metrics.structural_similarity(a, b, channel_axis=2,
data_range=255)``: a 7x7 uniform window, sample covariance, K1=0.01, K2=0.03,
the mean over windows that lie wholly inside the image, averaged over the
channels. Only whole windows count, so a "valid" box filter gives the same
number (checked against scikit-image 0.26 to 1e-9).
"""

from __future__ import annotations

import numpy as np

WIN = 7
_C1 = (0.01 * 255) ** 2
_C2 = (0.03 * 255) ** 2


def _box_mean(x: np.ndarray) -> np.ndarray:
    """Mean of every whole WIN x WIN window of a 2-D array."""
    c = np.cumsum(np.cumsum(x, axis=0), axis=1)
    c = np.pad(c, ((1, 0), (1, 0)))
    s = c[WIN:, WIN:] - c[:-WIN, WIN:] - c[WIN:, :-WIN] + c[:-WIN, :-WIN]
    return s / (WIN * WIN)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM of two H x W x C uint8 images (C = 3: RGB)."""
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} != {b.shape}")
    cov_norm = WIN * WIN / (WIN * WIN - 1)
    scores = []
    for ch in range(a.shape[2]):
        x = a[..., ch].astype(np.float64)
        y = b[..., ch].astype(np.float64)
        ux, uy = _box_mean(x), _box_mean(y)
        vx = cov_norm * (_box_mean(x * x) - ux * ux)
        vy = cov_norm * (_box_mean(y * y) - uy * uy)
        vxy = cov_norm * (_box_mean(x * y) - ux * uy)
        s = ((2 * ux * uy + _C1) * (2 * vxy + _C2)) / (
            (ux * ux + uy * uy + _C1) * (vx + vy + _C2)
        )
        scores.append(s.mean())
    return float(np.mean(scores))
