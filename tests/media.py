"""Test clips made with the bundled ffmpeg, once per session (a clone of the
project has no sample media). Every clip is small and takes well under a second."""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


def ffmpeg(*args: str) -> None:
    subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-y", *args], check=True)


class Clips:
    """Makes clips on first use and caches them in ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _make(self, name: str, *args: str) -> Path:
        path = self.root / name
        if not path.exists():
            ffmpeg(*args, str(path))
        return path

    def indexed(self, duration: int = 10, fps: int = 24) -> Path:
        """Grey frames whose brightness is the frame number (mod 250), lossless:
        each decoded frame says exactly which source frame it is."""
        return self._make(
            f"indexed-{duration}s-{fps}.mkv",
            "-f", "lavfi", "-i", f"nullsrc=s=64x48:r={fps}:d={duration},format=gray,geq=lum='mod(N,250)'",
            "-c:v", "ffv1", "-pix_fmt", "gray",
        )

    def moving(self, duration: float = 3, size: str = "320x240", fps: int = 25, name: str = "moving.mp4") -> Path:
        """Colour test pattern with motion, H.264 in MP4 (the common upload)."""
        return self._make(
            name, "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}:duration={duration}",
            "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
        )

    def reference(self) -> Path:
        """The reference examples' source: 30 s long (so frame counts are the
        real ones) but only 160x90 pixels, H.264 in a QuickTime .mov."""
        return self._make(
            "reference-30s.mov", "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=10:duration=30",
            "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
        )

    def portrait(self) -> Path:
        """A landscape-coded 320x180 clip with 90-degree display rotation, as
        phones record portrait video: shown upright it is 180x320."""
        coded = self.moving(2, "320x180", 25, "landscape-coded.mp4")
        return self._make("portrait.mp4", "-display_rotation", "90", "-i", str(coded), "-c", "copy")

    def audio_only(self) -> Path:
        return self._make(
            "tone.mp3", "-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-c:a", "libmp3lame"
        )


def decode_frame(path: Path, t: float, width: int, height: int, fps: float | None = None) -> np.ndarray:
    """The source frame shown at ``t`` (for a constant ``fps`` source: the last
    frame starting at or before ``t``), scaled like the pipeline scales."""
    if fps:
        t = math.floor(t * fps + 1e-6) / fps
    out = subprocess.run(
        [FFMPEG, "-nostdin", "-v", "error", "-ss", f"{t:.6f}", "-i", str(path), "-frames:v", "1",
         "-vf", f"scale={width}:{height}:flags=lanczos", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        check=True, capture_output=True,
    ).stdout
    return np.frombuffer(out, np.uint8).reshape(height, width, 3)
