"""Scoring: SSIM as ``../shared/bench/animq.py`` computes it (the pipeline's
``quality.ssim``, which ``fit`` scores with too), and every frame of an
output against the source frames at its sampled time."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from converter.bench.paths import ffmpeg_exe
from converter.bench.workloads import Workload
from converter.pipeline.quality import ssim

__all__ = ["Reference", "shown_in_slots", "ssim"]


def shown_in_slots(
    frames: list[np.ndarray], durations_ms: list[int], slot_ms: float, count: int
) -> list[np.ndarray]:
    """The frame on screen in each of ``count`` slots of ``slot_ms`` (the
    workload's playback), judged at each slot's middle. A tool that merges
    identical frames into one longer frame (gifski, a WebP's still stretch)
    then shows its frame for every slot it covers, rather than being scored
    as if its frames came one per slot. Without durations (a file that gives
    none), frame k is slot k, as before."""
    if not frames or not all(durations_ms):
        return frames
    starts = np.cumsum([0, *durations_ms[:-1]], dtype=float)
    shown = []
    for slot in range(count):
        k = int(np.searchsorted(starts, (slot + 0.5) * slot_ms, side="right")) - 1
        shown.append(frames[min(k, len(frames) - 1)])
    return shown


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
