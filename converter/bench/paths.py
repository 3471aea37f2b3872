"""Where the benchmark finds what it needs and puts what it makes."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the checkout
MEDIA_DIR = ROOT.parent / "shared" / "media"  # ../shared/media beside the checkout
TOOLS_DIR = ROOT / ".bench-tools"  # gifski from npm (see tools.find_gifski)
OUT_DIR = ROOT / "bench-out"


def ffmpeg_exe() -> str:
    """The bundled ffmpeg (imageio-ffmpeg's), the one the pipeline runs by default."""
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())
