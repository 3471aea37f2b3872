"""The tools compared: ours (the worker's pipeline) and the reference tools
(the ffmpeg one-liners, gifski, MoviePy). Each gives the commands to run, in
order; a Python tool re-enters the benchmark in a child process
(``--child``) so that its memory is measured on its own."""

from __future__ import annotations

import functools
import os
import shutil
import sys
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import cast

from converter.bench.paths import TOOLS_DIR, ffmpeg_exe
from converter.bench.workloads import Workload

TOOLS_GIF = ["ours", "ffmpeg", "gifski", "moviepy"]
TOOLS_WEBP = ["ours", "ffmpeg"]
TOOLS_MP4 = ["ours", "ffmpeg"]  # ffmpeg: libx264 at its defaults
TOOLS_AVIF = ["ours", "ffmpeg", "ffmpeg-svt"]  # libaom-av1 and libsvtav1
TOOLS: dict[str, list[str]] = {
    "gif": TOOLS_GIF,
    "webp": TOOLS_WEBP,
    "mp4": TOOLS_MP4,
    "avif": TOOLS_AVIF,
}


@functools.lru_cache(maxsize=16)
def probe(path: Path) -> tuple[int, int, float]:
    """Width, height and frame rate of the first video stream."""
    import av

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        rate = float(s.average_rate or s.guessed_rate or 30)
        return s.codec_context.width, s.codec_context.height, rate


def _fps_expr(interval: float) -> str:
    f = 1 / Fraction(interval).limit_denominator(1000)
    return f"{f.numerator}/{f.denominator}"


def sample_filter(path: Path, interval: float) -> str:
    """ffmpeg filters that pick, for every k, the source frame nearest to
    k * interval (after the seek).

    The plain ``fps`` filter keeps the *last* frame of each output slot, so
    ``fps=1`` picks the frame nearest k + 0.5 s, not k s. Shifting the
    timestamps by one interval less half a source frame and rounding down makes
    slot k end half a source frame after k * interval, so its last frame is
    the nearest one. Every ffmpeg-based tool in the benchmark gets the same
    frames, so the comparison is about encoding alone.
    """
    half = 0.5 / probe(path)[2]
    return f"setpts=PTS+{interval - half:.6f}/TB,fps={_fps_expr(interval)}:round=down"


# --------------------------------------------------------------------------
# The Python tools, run inside the child process


def run_ours(
    src: Path, wl: Workload, out: Path, quality: str, level: int | None = None
) -> dict[str, float]:
    """The worker's own pipeline, storage aside: probe, sample, encode; at a
    named ``quality`` or at a ``level`` on the encoder's scale (curves). The
    seconds of each part, as the worker logs them."""
    from converter.pipeline.convert import Animation, convert, reads_key_frames
    from converter.pipeline.probe import probe as probe_video
    from converter.spec import AnimationSpec

    animation = AnimationSpec.create(
        format=wl.fmt,
        interval=wl.interval,
        frame_rate=wl.fps,
        width=float(wl.width),
        quality=quality,
    )
    probe_started = time.perf_counter()
    info = probe_video(src, key_frames=reads_key_frames([wl.fmt]))
    probe_s = time.perf_counter() - probe_started
    result = convert(
        src,
        info,
        animation if level is None else cast("Animation", _AtLevel(animation, level)),
        trim_start=wl.start,
        trim_duration=wl.duration,
    )
    out.write_bytes(result.data)
    return {"probe_s": probe_s, **result.timings}


class _AtLevel:
    """An animation at a point of the encoder's quality scale
    (``EncodeOptions.level``), the rest as asked."""

    def __init__(self, animation: object, level: int) -> None:
        self._animation, self.level = animation, level

    def __getattr__(self, name: str) -> object:
        return getattr(self._animation, name)


def run_moviepy(src: Path, wl: Workload, out: Path) -> None:
    from moviepy import VideoFileClip, vfx

    with VideoFileClip(str(src), audio=False, target_resolution=(wl.width, None)) as clip:
        end = min(wl.start + wl.duration, clip.duration)
        sub = clip.subclipped(wl.start, end).with_effects([vfx.MultiplySpeed(wl.interval * wl.fps)])
        sub.write_gif(str(out), fps=wl.fps, loop=0, logger=None)


# --------------------------------------------------------------------------
# Commands


def _child(
    tool: str, src: Path, wl: Workload, out: Path, quality: str = "", level: int | None = None
) -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        "converter.bench",
        "--child",
        tool,
        "--workload",
        wl.name,
        "--src",
        str(src),
        "--out",
        str(out),
    ]
    cmd += ["--quality", quality] if quality else []
    return cmd + (["--level", str(level)] if level is not None else [])


def cmds_ours_level(src: Path, wl: Workload, out: Path, work: Path, level: int) -> list[list[str]]:
    """Ours at a point of the encoder's quality scale (the curves)."""
    return [_child("ours", src, wl, out, level=level)]


def _ff_input(src: Path, wl: Workload) -> list[str]:
    return [
        ffmpeg_exe(),
        "-v",
        "error",
        "-y",
        "-nostdin",
        "-ss",
        f"{wl.start}",
        "-t",
        f"{wl.duration}",
        "-i",
        str(src),
    ]


def _ff_filters(src: Path, wl: Workload) -> str:
    # The playback rate: frame k shown at k / fps (settb keeps pts precise).
    # The last fps states that rate, which changes no frame: without it the
    # encoders and muxers take the sampling's rate (1 fps for a 1 s interval)
    # and merge or drop the frames set 1/fps apart.
    fps = Fraction(wl.fps).limit_denominator(1000)
    rate = f"{fps.numerator}/{fps.denominator}"
    return (
        f"{sample_filter(src, wl.interval)},scale={wl.width}:-2:flags=lanczos,"
        f"settb=AVTB,setpts=N*{fps.denominator}/{fps.numerator}/TB,fps={rate}"
    )


def _ff_count(wl: Workload) -> list[str]:
    """The workload's frame count: the sampling's shift lets a frame or two
    past its end through, which ours does not take."""
    return ["-frames:v", str(wl.frame_count)]


def cmds_ffmpeg_gif(
    src: Path,
    wl: Workload,
    out: Path,
    work: Path,
    colors: int = 256,
    dither: str = "sierra2_4a",
) -> list[list[str]]:
    """The ffmpeg one-liner: one palette for the clip (``colors`` of it),
    each frame mapped to it with ``dither``, only changed rectangles coded."""
    vf = (
        _ff_filters(src, wl) + f",split[a][b];[a]palettegen=stats_mode=diff:max_colors={colors}[p];"
        f"[b][p]paletteuse=dither={dither}:diff_mode=rectangle"
    )
    return [[*_ff_input(src, wl), "-vf", vf, *_ff_count(wl), "-loop", "0", str(out)]]


def cmds_ffmpeg_webp(
    src: Path, wl: Workload, out: Path, work: Path, quality: int = 75
) -> list[list[str]]:
    return [
        [
            *_ff_input(src, wl),
            "-vf",
            _ff_filters(src, wl),
            *_ff_count(wl),
            "-c:v",
            "libwebp_anim",
            "-quality",
            str(quality),
            "-loop",
            "0",
            str(out),
        ]
    ]


def cmds_ffmpeg_mp4(src: Path, wl: Workload, out: Path, work: Path) -> list[list[str]]:
    """libx264 as most people run it: its defaults (CRF 23, preset medium),
    yuv420p, faststart, no audio."""
    return [
        [
            *_ff_input(src, wl),
            "-vf",
            _ff_filters(src, wl),
            *_ff_count(wl),
            "-an",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-movflags",
            "+faststart",
            str(out),
        ]
    ]


def cmds_ffmpeg_avif(src: Path, wl: Workload, out: Path, work: Path) -> list[list[str]]:
    """libaom-av1 at CRF 30 and cpu-used 6 (ffmpeg's libaom has no quality
    default of its own: without -crf it aims at a bitrate), animated AVIF."""
    return [
        [
            *_ff_input(src, wl),
            "-vf",
            _ff_filters(src, wl),
            *_ff_count(wl),
            "-c:v",
            "libaom-av1",
            "-crf",
            "30",
            "-b:v",
            "0",
            "-cpu-used",
            "6",
            "-row-mt",
            "1",
            "-pix_fmt",
            "yuv420p",
            "-loop",
            "0",
            "-f",
            "avif",
            str(out),
        ]
    ]


def cmds_ffmpeg_svt_avif(src: Path, wl: Workload, out: Path, work: Path) -> list[list[str]]:
    """libsvtav1 at its defaults (CRF 35; preset 8), animated AVIF."""
    return [
        [
            *_ff_input(src, wl),
            "-vf",
            _ff_filters(src, wl),
            *_ff_count(wl),
            "-c:v",
            "libsvtav1",
            "-preset",
            "8",
            "-pix_fmt",
            "yuv420p",
            "-loop",
            "0",
            "-f",
            "avif",
            str(out),
        ]
    ]


FFMPEG_CMDS: dict[str, Callable[[Path, Workload, Path, Path], list[list[str]]]] = {
    "gif": cmds_ffmpeg_gif,
    "webp": cmds_ffmpeg_webp,
    "mp4": cmds_ffmpeg_mp4,
    "avif": cmds_ffmpeg_avif,
}


def find_gifski() -> Path | None:
    """gifski from the npm package (``npm pack gifski`` unpacked in .bench-tools),
    or on PATH."""
    for p in sorted(TOOLS_DIR.glob("**/bin/debian/gifski")):
        if os.access(p, os.X_OK):
            return p
    found = shutil.which("gifski")
    return Path(found) if found else None


def cmds_gifski(
    src: Path, wl: Workload, out: Path, work: Path, quality: int = 90
) -> list[list[str]]:
    """gifski at ``quality`` (its own default, 90, for the single point)."""
    gifski = find_gifski()
    if gifski is None:  # bench_workload leaves gifski out when it is missing
        raise RuntimeError("gifski not found")
    pngs = work / "gifski-png"
    shutil.rmtree(pngs, ignore_errors=True)
    pngs.mkdir(parents=True)
    extract = [
        *_ff_input(src, wl),
        "-vf",
        f"{sample_filter(src, wl.interval)},scale={wl.width}:-2:flags=lanczos",
        str(pngs / "f%05d.png"),
    ]
    # gifski takes the sorted file list; a shell glob would need a shell, so
    # the list is expanded by a tiny sh wrapper at run time.
    encode = [
        "sh",
        "-c",
        f'exec "$0" -q --quality {quality} --repeat 0 -r {wl.fps:g} -W {wl.width} '
        '-o "$1" "$2"/f*.png',
        str(gifski),
        str(out),
        str(pngs),
    ]
    return [extract, encode]


def cmds_moviepy(src: Path, wl: Workload, out: Path, work: Path) -> list[list[str]]:
    return [_child("moviepy", src, wl, out)]


def tool_cmds(
    tool: str, src: Path, wl: Workload, out: Path, work: Path, quality: str
) -> list[list[str]]:
    if tool.startswith("ours"):
        return [_child("ours", src, wl, out, quality)]
    if tool == "ffmpeg":
        return FFMPEG_CMDS[wl.fmt](src, wl, out, work)
    if tool == "ffmpeg-svt":
        return cmds_ffmpeg_svt_avif(src, wl, out, work)
    if tool == "gifski":
        return cmds_gifski(src, wl, out, work)
    if tool == "moviepy":
        return cmds_moviepy(src, wl, out, work)
    raise ValueError(tool)
