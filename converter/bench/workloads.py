"""What the benchmark measures: the workloads, and the clips they run on
(``../shared/media`` when present, otherwise made here with ffmpeg)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from converter.bench import footage
from converter.bench.paths import MEDIA_DIR, ffmpeg_exe


@dataclass(frozen=True)
class Workload:
    name: str
    source: str  # key into SOURCES
    fmt: str  # "gif", "webp", "mp4" or "avif"
    start: float  # seconds into the source
    duration: float  # seconds of source sampled
    interval: float  # seconds between sampled frames
    fps: float  # playback frame rate of the output
    width: int  # output width in pixels; height keeps the aspect ratio
    quick: bool = False  # part of --quick
    tools: tuple[str, ...] = ()  # only these tools (default: all for the format)

    @property
    def frame_count(self) -> int:
        return round(self.duration / self.interval + 0.4999)


# Every workload made by ``_pair`` runs in each format: MP4 is judged
# against our GIF, AVIF against our WebP, on the same frames.
FORMATS = ("gif", "webp", "mp4", "avif")


def _pair(
    name: str,
    *,
    source: str,
    start: float,
    duration: float,
    interval: float,
    fps: float,
    width: int,
    quick: bool = False,
) -> list[Workload]:
    return [
        Workload(
            f"{name}-{fmt}",
            source=source,
            fmt=fmt,
            start=start,
            duration=duration,
            interval=interval,
            fps=fps,
            width=width,
            quick=quick,
        )
        for fmt in FORMATS
    ]


WORKLOADS: list[Workload] = [
    # The two reference requests: 1 frame a second at 15 fps, half size.
    *_pair("ref-whole", source="bbb", start=0, duration=30, interval=1, fps=15, width=640),
    *_pair("ref-5-30", source="bbb", start=5, duration=25, interval=1, fps=15, width=640),
    # A social clip: 5 s of motion at 15 fps, 480 px wide.
    *_pair(
        "social",
        source="bbb",
        start=10,
        duration=5,
        interval=1 / 15,
        fps=15,
        width=480,
        quick=True,
    ),
    # Full-HD source at 10 fps, 640 px.
    *_pair("fullhd", source="smpte", start=0, duration=10, interval=0.1, fps=10, width=640),
    # Screen-recording-like: static background, a little motion.
    *_pair(
        "screen",
        source="screen",
        start=0,
        duration=6,
        interval=0.1,
        fps=10,
        width=640,
        quick=True,
    ),
    # Memory must not grow with the source's length: 30 s of 1080p.
    Workload(
        "long1080-gif",
        source="smpte30",
        fmt="gif",
        start=0,
        duration=30,
        interval=0.1,
        fps=10,
        width=640,
        tools=("ours", "ffmpeg"),
    ),
]


def _social(name: str, *, fps: float, width: int, duration: float = 5) -> list[Workload]:
    """A clip of ``footage`` (its own source) at a social setting, GIF and WebP."""
    return [
        Workload(
            f"{name}-{fmt}",
            source=name,
            fmt=fmt,
            start=0,
            duration=duration,
            interval=1 / fps,
            fps=fps,
            width=width,
        )
        for fmt in ("gif", "webp")
    ]


# Footage the workloads above lack (converter/bench/footage.py), at the
# settings people share at: 10-15 fps, 320-480 px.
WORKLOADS += [
    *_social("film", fps=10, width=480),
    *_social("flat", fps=12, width=480),
    *_social("portrait", fps=12, width=320),
    *_social("lowlight", fps=12, width=480),
    *_social("pan", fps=15, width=480),
    *_social("slideshow", fps=10, width=480, duration=10),
    *_social("talking", fps=12, width=360),
]


def workload_named(name: str) -> Workload:
    return next(w for w in WORKLOADS if w.name == name)


def _make_testsrc(out: Path, size: str, rate: int, seconds: int) -> None:
    subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size={size}:rate={rate}:duration={seconds}",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "20",
            "-pix_fmt",
            "yuv420p",
            str(out),
        ],
        check=True,
    )


def make_screen_clip(
    out: Path, width: int = 1280, height: int = 720, fps: int = 30, seconds: int = 6
) -> None:
    """A screen-recording-like clip: a static desktop with gradients and text
    lines, a moving pointer, a line being typed and a progress bar."""
    rng = np.random.default_rng(7)
    h, w = height, width
    bg = np.full((h, w, 3), 236, np.uint8)
    # Title bar and a picture panel with smooth gradients (where dithering shows).
    ramp = np.linspace(0, 1, w)[None, :, None]
    bg[:40] = (np.array([40, 90, 170]) + ramp * np.array([60, 80, 60])).astype(np.uint8)
    yy, xx = np.mgrid[0:300, 0:420]
    r = np.hypot(yy - 150, xx - 210) / 260
    panel = np.stack([200 - 120 * r, 150 - 60 * r, 90 + 100 * r], axis=2)
    bg[80:380, 820:1240] = np.clip(panel, 0, 255).astype(np.uint8)
    bg[40:, :220] = (225 - 30 * np.linspace(0, 1, h - 40))[:, None, None].astype(np.uint8)
    for i in range(22):  # "text" in the sidebar and the document
        y = 70 + i * 28
        bg[y : y + 9, 24 : 24 + int(rng.integers(60, 170))] = 90
        if y < 680:
            bg[y : y + 9, 260 : 260 + int(rng.integers(200, 520))] = 40
    proc = subprocess.Popen(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-y",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-s",
            f"{w}x{h}",
            "-r",
            str(fps),
            "-i",
            "-",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "18",
            "-pix_fmt",
            "yuv420p",
            str(out),
        ],
        stdin=subprocess.PIPE,
    )
    if proc.stdin is None:  # never: stdin=PIPE; this tells the type checker
        raise RuntimeError("no pipe to ffmpeg")
    n = fps * seconds
    for k in range(n):
        f = bg.copy()
        t = k / n
        px, py = int(300 + 700 * t), int(500 - 300 * np.sin(np.pi * t))  # pointer
        f[py : py + 18, px : px + 3] = 0
        f[py + 2 : py + 14, px + 3 : px + 10] = 255
        typed = int(40 + 480 * t)  # a line being typed
        f[660:672, 260 : 260 + typed] = 30
        f[f.shape[0] - 30 : f.shape[0] - 18, 260 : 260 + int(900 * t)] = (60, 170, 80)
        proc.stdin.write(f.tobytes())
    proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError("ffmpeg failed to make the screen clip")


def make_long_1080(out: Path) -> None:
    """30 s of 1080p: smpte-2997.mp4 played three times (no re-encode), or testsrc2."""
    smpte = MEDIA_DIR / "smpte-2997.mp4"
    if not smpte.exists():
        _make_testsrc(out, "1920x1080", 25, 30)
        return
    subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-y",
            "-stream_loop",
            "2",
            "-i",
            str(smpte),
            "-an",
            "-c",
            "copy",
            str(out),
        ],
        check=True,
    )


SOURCES: dict[str, tuple[str, Callable[[Path], None]]] = {
    "bbb": ("big_buck_bunny_0_30.webm", lambda p: _make_testsrc(p, "1280x720", 24, 30)),
    "smpte": ("smpte-2997.mp4", lambda p: _make_testsrc(p, "1920x1080", 25, 10)),
    "screen": ("", make_screen_clip),
    "smpte30": ("", make_long_1080),
    **{name: ("", make) for name, make in footage.MAKERS.items()},
}


def source_path(key: str, workdir: Path) -> tuple[Path, str]:
    """The clip for a source key, and where it came from."""
    name, make = SOURCES[key]
    if name and (MEDIA_DIR / name).exists():
        return MEDIA_DIR / name, f"../shared/media/{name}"
    out = workdir / f"{key}.mp4"
    if not out.exists():
        make(out)
    return out, "generated"
