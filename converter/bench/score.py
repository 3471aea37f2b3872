"""Scoring: SSIM as ``../shared/bench/animq.py`` computes it, and every frame
of an output against the source frames at its sampled time."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from converter.bench.paths import ffmpeg_exe
from converter.bench.workloads import Workload


def ssim(a: np.ndarray, b: np.ndarray, win: int = 7) -> float:
    """skimage.metrics.structural_similarity(a, b, channel_axis=2, data_range=255),
    without scikit-image.

    animq.py calls it with those arguments: a 7x7 uniform window, sample
    covariance, K1=0.01, K2=0.03, the mean over windows wholly inside the
    image, averaged over the channels (checked against scikit-image 0.26 to
    1e-9). The benchmark and the tests both score with this one function.
    """
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    norm = win * win / (win * win - 1)

    area = win * win

    def box(x: np.ndarray) -> np.ndarray:
        c = np.pad(np.cumsum(np.cumsum(x, 0), 1), ((1, 0), (1, 0)))
        mean: np.ndarray = (
            c[win:, win:] - c[:-win, win:] - c[win:, :-win] + c[:-win, :-win]
        ) / area
        return mean

    out = []
    for ch in range(a.shape[2]):
        x, y = a[..., ch].astype(np.float64), b[..., ch].astype(np.float64)
        ux, uy = box(x), box(y)
        vx, vy = norm * (box(x * x) - ux * ux), norm * (box(y * y) - uy * uy)
        vxy = norm * (box(x * y) - ux * uy)
        s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
        out.append(s.mean())
    return float(np.mean(out))


class Reference:
    """Source frames of one workload at one size, with their timestamps."""

    def __init__(self, src: Path, wl: Workload, w: int, h: int) -> None:
        cmd = [
            ffmpeg_exe(),
            "-hide_banner",
            "-v",
            "info",
            "-ss",
            str(wl.start),
            "-t",
            str(wl.duration + 0.2),
            "-i",
            str(src),
            "-vf",
            f"scale={w}:{h}:flags=lanczos,showinfo",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ]
        p = subprocess.run(cmd, capture_output=True, check=True)
        raw = np.frombuffer(p.stdout, np.uint8)
        n = raw.size // (w * h * 3)
        self.frames = raw[: n * w * h * 3].reshape(n, h, w, 3)
        times = [
            float(line.split("pts_time:")[1].split()[0])
            for line in p.stderr.decode(errors="replace").splitlines()
            if "pts_time:" in line
        ]
        self.times = np.array(times[:n])
        self.interval = wl.interval

    def score(self, frames: list[np.ndarray]) -> list[float]:
        """Each frame's SSIM against the best of the source frames nearest its
        sampled time (that one and its two neighbours)."""
        scores = []
        for k, frame in enumerate(frames):
            i = int(np.argmin(np.abs(self.times - k * self.interval)))
            cands = range(max(0, i - 1), min(len(self.frames), i + 2))
            scores.append(max(ssim(frame, self.frames[j]) for j in cands))
        return scores
