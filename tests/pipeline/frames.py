"""Frames made in code for the encoder tests (no files, no ../shared)."""

from __future__ import annotations

import subprocess

import numpy as np


def moving_scene(count: int = 12, width: int = 160, height: int = 96) -> list[np.ndarray]:
    """A soft gradient background with a bright square and a disc that move."""
    yy, xx = np.mgrid[0:height, 0:width]
    base = np.stack([60 + 120 * xx / width, 80 + 100 * yy / height, 160 - 80 * xx / width], axis=2)
    frames = []
    for k in range(count):
        f = base.copy()
        x = 8 + 9 * k
        f[20:44, x : x + 24] = (250, 240, 40)
        cx, cy = width - 30 - 6 * k, 60
        f[(xx - cx) ** 2 + (yy - cy) ** 2 < 12**2] = (200, 30, 30)
        frames.append(f.clip(0, 255).astype(np.uint8))
    return frames


def flashing_squares(count: int = 6, size: int = 64) -> list[np.ndarray]:
    """Hard changes: a white square on black that jumps, then black again, so a
    pixel left over from an earlier frame would show."""
    frames = []
    for k in range(count):
        f = np.zeros((size, size, 3), np.uint8)
        if k % 3 != 2:
            x = (k * 17) % (size - 20)
            f[10:30, x : x + 20] = 255
        frames.append(f)
    return frames


def with_alpha(count: int = 6, size: int = 64) -> list[np.ndarray]:
    """RGBA frames: a transparent background and an opaque square that moves, so
    the area it leaves must turn transparent again."""
    frames = []
    for k in range(count):
        f = np.zeros((size, size, 4), np.uint8)
        x = 4 + 8 * k
        f[16:40, x : x + 16] = (30, 200, 90, 255)
        frames.append(f)
    return frames


def ffmpeg_clip(count: int = 10, width: int = 192, height: int = 108) -> list[np.ndarray]:
    """Frames of ffmpeg's testsrc2 pattern, decoded by the bundled ffmpeg."""
    import imageio_ffmpeg

    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-v",
        "error",
        "-f",
        "lavfi",
        "-i",
        f"testsrc2=size={width}x{height}:rate=10",
        "-frames:v",
        str(count),
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "-",
    ]
    raw = subprocess.run(cmd, capture_output=True, check=True).stdout
    return list(np.frombuffer(raw, np.uint8).reshape(count, height, width, 3))


def noisy(frames: list[np.ndarray], sigma: float, seed: int = 3) -> list[np.ndarray]:
    """``frames`` with fresh Gaussian noise of ``sigma`` levels on each one, the
    same on every channel, as a camera's grain on the picture's brightness."""
    rng = np.random.default_rng(seed)
    out = []
    for f in frames:
        grain = rng.normal(0, sigma, f.shape[:2])[..., None]
        out.append((f.astype(np.float64) + grain).clip(0, 255).astype(np.uint8))
    return out
