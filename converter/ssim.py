"""SSIM as ``shared/bench/animq.py`` computes it, without scikit-image.

animq.py calls ``skimage.metrics.structural_similarity(a, b, channel_axis=2,
data_range=255)``: a 7x7 uniform window, sample covariance, K1=0.01, K2=0.03,
the mean over windows wholly inside the image, averaged over the channels
(checked against scikit-image 0.26 to 1e-9). The benchmark and the tests
both score with this one function.
"""

from __future__ import annotations

import numpy as np


def ssim(a: np.ndarray, b: np.ndarray, win: int = 7) -> float:
    """skimage.metrics.structural_similarity(a, b, channel_axis=2, data_range=255)."""
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    norm = win * win / (win * win - 1)

    def box(x: np.ndarray) -> np.ndarray:
        c = np.pad(np.cumsum(np.cumsum(x, 0), 1), ((1, 0), (1, 0)))
        return (c[win:, win:] - c[:-win, win:] - c[win:, :-win] + c[:-win, :-win]) / (win * win)

    out = []
    for ch in range(a.shape[2]):
        x, y = a[..., ch].astype(np.float64), b[..., ch].astype(np.float64)
        ux, uy = box(x), box(y)
        vx, vy = norm * (box(x * x) - ux * ux), norm * (box(y * y) - uy * uy)
        vxy = norm * (box(x * y) - ux * uy)
        s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
        out.append(s.mean())
    return float(np.mean(out))
