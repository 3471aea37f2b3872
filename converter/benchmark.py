"""Benchmark: our encoders against the reference tools, on the same workloads.

Run it as ``python manage.py benchmark`` or ``python -m converter.benchmark``
(no database, Redis or storage needed). For every (workload, tool) it prints
wall seconds (median of the runs), bytes, frames, mean and minimum SSIM
against the source frames at the sampled times, and the peak RSS of the
processes that did the work.

Every run of every tool happens in a child process, so the peak RSS is that
child's own (``os.wait4``; for a tool that spawns ffmpeg, the larger of the two).
Time is the child's wall time; for the Python tools (ours, MoviePy) it is the
time of the work itself, measured inside the child after its imports, as a
long-lived worker would see it.

SSIM is computed the way ``../shared/bench/animq.py`` does it: every output
frame against the source frames decoded by ffmpeg at the nominal sample time
(start + k * interval) plus or minus one source frame, scaled with lanczos to
the animation's size, best candidate counts; scikit-image's
``structural_similarity(channel_axis=2, data_range=255)``, reimplemented with
numpy (same numbers to 1e-9) so the benchmark needs no scikit-image.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image, ImageSequence

from converter.ssim import ssim

ROOT = Path(__file__).resolve().parent.parent
MEDIA_DIR = ROOT.parent / "shared" / "media"  # ../shared/media beside the checkout
TOOLS_DIR = ROOT / ".bench-tools"  # gifski from npm (see find_gifski)
OUT_DIR = ROOT / "bench-out"


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


# --------------------------------------------------------------------------
# Workloads


@dataclass(frozen=True)
class Workload:
    name: str
    source: str  # key into SOURCES
    fmt: str  # "gif" or "webp"
    start: float  # seconds into the source
    duration: float  # seconds of source sampled
    interval: float  # seconds between sampled frames
    fps: float  # playback frame rate of the output
    width: int  # output width in pixels; height keeps the aspect ratio
    quick: bool = False  # part of --quick
    tools: tuple[str, ...] = ()  # only these tools (default: all for the format)

    @property
    def frame_count(self) -> int:
        return int(round(self.duration / self.interval + 0.4999))


def _pair(name: str, **kw: object) -> list[Workload]:
    return [Workload(f"{name}-{fmt}", fmt=fmt, **kw) for fmt in ("gif", "webp")]


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
    assert proc.stdin is not None
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


# --------------------------------------------------------------------------
# Our pipeline


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


def run_ours(src: Path, wl: Workload, out: Path, quality: str) -> None:
    """The worker's own pipeline, storage aside: probe, sample, encode."""
    from converter.pipeline.convert import convert
    from converter.pipeline.probe import probe as probe_video
    from converter.spec import AnimationSpec

    animation = AnimationSpec.create(
        format=wl.fmt,
        interval=wl.interval,
        frame_rate=wl.fps,
        width=float(wl.width),
        quality=quality,
    )
    result = convert(
        src,
        probe_video(src),
        animation,
        trim_start=wl.start,
        trim_duration=wl.duration,
    )
    out.write_bytes(result.data)


def run_moviepy(src: Path, wl: Workload, out: Path) -> None:
    from moviepy import VideoFileClip, vfx

    with VideoFileClip(str(src), audio=False, target_resolution=(wl.width, None)) as clip:
        end = min(wl.start + wl.duration, clip.duration)
        sub = clip.subclipped(wl.start, end).with_effects([vfx.MultiplySpeed(wl.interval * wl.fps)])
        sub.write_gif(str(out), fps=wl.fps, loop=0, logger=None)


# --------------------------------------------------------------------------
# Tools: each returns the commands to run, in order; a Python tool re-enters
# this module in a child (--child) so its memory is measured on its own.


def _child(tool: str, src: Path, wl: Workload, out: Path, quality: str = "") -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        "converter.benchmark",
        "--child",
        tool,
        "--workload",
        wl.name,
        "--src",
        str(src),
        "--out",
        str(out),
    ]
    return cmd + (["--quality", quality] if quality else [])


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
    fps = Fraction(wl.fps).limit_denominator(1000)
    return (
        f"{sample_filter(src, wl.interval)},scale={wl.width}:-2:flags=lanczos,"
        f"settb=AVTB,setpts=N*{fps.denominator}/{fps.numerator}/TB"
    )


def cmds_ffmpeg_gif(src: Path, wl: Workload, out: Path, work: Path) -> list[list[str]]:
    vf = (
        _ff_filters(src, wl) + ",split[a][b];[a]palettegen=stats_mode=diff[p];"
        "[b][p]paletteuse=dither=sierra2_4a:diff_mode=rectangle"
    )
    return [_ff_input(src, wl) + ["-vf", vf, "-loop", "0", str(out)]]


def cmds_ffmpeg_webp(src: Path, wl: Workload, out: Path, work: Path) -> list[list[str]]:
    return [
        _ff_input(src, wl)
        + [
            "-vf",
            _ff_filters(src, wl),
            "-c:v",
            "libwebp_anim",
            "-quality",
            "75",
            "-loop",
            "0",
            str(out),
        ]
    ]


def find_gifski() -> Path | None:
    """gifski from the npm package (``npm pack gifski`` unpacked in .bench-tools),
    or on PATH."""
    for p in sorted(TOOLS_DIR.glob("**/bin/debian/gifski")):
        if os.access(p, os.X_OK):
            return p
    found = shutil.which("gifski")
    return Path(found) if found else None


def cmds_gifski(src: Path, wl: Workload, out: Path, work: Path) -> list[list[str]]:
    gifski = find_gifski()
    assert gifski is not None
    pngs = work / "gifski-png"
    shutil.rmtree(pngs, ignore_errors=True)
    pngs.mkdir(parents=True)
    extract = _ff_input(src, wl) + [
        "-vf",
        f"{sample_filter(src, wl.interval)},scale={wl.width}:-2:flags=lanczos",
        str(pngs / "f%05d.png"),
    ]
    # gifski takes the sorted file list; a shell glob would need a shell, so
    # the list is expanded by a tiny sh wrapper at run time.
    encode = [
        "sh",
        "-c",
        f'exec "$0" -q --repeat 0 -r {wl.fps:g} -W {wl.width} -o "$1" "$2"/f*.png',
        str(gifski),
        str(out),
        str(pngs),
    ]
    return [extract, encode]


def cmds_moviepy(src: Path, wl: Workload, out: Path, work: Path) -> list[list[str]]:
    return [_child("moviepy", src, wl, out)]


# --------------------------------------------------------------------------
# Measuring


@dataclass
class Run:
    seconds: float
    peak_rss_mb: float


# A fork of this (large) process would start with its peak RSS, so every
# command is started by this small launcher, which reports the command's own
# wall time and peak RSS (os.wait4 also counts the command's children).
_LAUNCHER = """
import json, os, subprocess, sys, time
t0 = time.perf_counter()
proc = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(proc.pid, 0)
with open(sys.argv[1], "w") as f:
    json.dump({"rc": os.waitstatus_to_exitcode(status), "maxrss_kb": usage.ru_maxrss,
               "wall": time.perf_counter() - t0}, f)
"""


def run_measured(cmds: list[list[str]]) -> Run:
    """Run the commands one after another; total wall time and the largest peak
    RSS of any of them (and of their children)."""
    total = 0.0
    peak_kb = 0
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        for cmd in cmds:
            proc = subprocess.run(
                [sys.executable, "-S", "-c", _LAUNCHER, str(report), *cmd],
                stdout=subprocess.PIPE,
                cwd=ROOT,
            )
            measured = json.loads(report.read_text())
            if proc.returncode != 0 or measured["rc"] != 0:
                raise RuntimeError(f"{cmd[0]} failed with {measured['rc']}")
            peak_kb = max(peak_kb, measured["maxrss_kb"])
            reported = _reported_seconds(proc.stdout)
            total += reported if reported is not None else measured["wall"]
    return Run(total, peak_kb / 1024)


def _reported_seconds(stdout: bytes) -> float | None:
    for line in stdout.decode(errors="replace").splitlines()[::-1]:
        if line.startswith("{"):
            return float(json.loads(line)["seconds"])
    return None


# --------------------------------------------------------------------------
# Scoring (the method of ../shared/bench/animq.py)


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
        scores = []
        for k, frame in enumerate(frames):
            i = int(np.argmin(np.abs(self.times - k * self.interval)))
            cands = range(max(0, i - 1), min(len(self.frames), i + 2))
            scores.append(max(ssim(frame, self.frames[j]) for j in cands))
        return scores


def animation_frames(path: Path) -> tuple[list[np.ndarray], list[int], int]:
    """Displayed frames (composited), per-frame durations and the loop count."""
    im = Image.open(path)
    frames, durations = [], []
    for fr in ImageSequence.Iterator(im):
        frames.append(np.asarray(fr.convert("RGB")))
        durations.append(fr.info.get("duration", 0))
    return frames, durations, im.info.get("loop", 1)


# --------------------------------------------------------------------------
# The run


@dataclass
class Row:
    workload: str
    tool: str
    seconds: float
    bytes: int
    frames: int
    ssim_mean: float
    ssim_min: float
    peak_rss_mb: float
    total_ms: int
    loop: int
    note: str = ""


TOOLS_GIF = ["ours", "ffmpeg", "gifski", "moviepy"]
TOOLS_WEBP = ["ours", "ffmpeg"]


def tool_cmds(
    tool: str, src: Path, wl: Workload, out: Path, work: Path, quality: str
) -> list[list[str]]:
    if tool.startswith("ours"):
        return [_child("ours", src, wl, out, quality)]
    if tool == "ffmpeg":
        return (cmds_ffmpeg_gif if wl.fmt == "gif" else cmds_ffmpeg_webp)(src, wl, out, work)
    if tool == "gifski":
        return cmds_gifski(src, wl, out, work)
    if tool == "moviepy":
        return cmds_moviepy(src, wl, out, work)
    raise ValueError(tool)


def bench_workload(
    wl: Workload,
    tools: list[str],
    runs: int,
    work: Path,
    qualities: list[str],
    log: Callable[[str], None],
) -> list[Row]:
    src, origin = source_path(wl.source, work)
    log(
        f"# {wl.name}: {origin} start={wl.start} duration={wl.duration} "
        f"interval={wl.interval:.4g} fps={wl.fps:g} width={wl.width}"
    )
    rows: list[Row] = []
    refs: dict[tuple[int, int], Reference] = {}
    expanded = []
    for tool in tools:
        if tool == "ours":
            expanded += [("ours" if q == qualities[0] else f"ours-{q}", q) for q in qualities]
        else:
            expanded.append((tool, ""))
    if "gifski" in [t for t, _ in expanded] and find_gifski() is None:
        log(f"  skipping gifski: not found (npm pack gifski into {TOOLS_DIR})")
        expanded = [(t, q) for t, q in expanded if t != "gifski"]
    # Runs are interleaved (every tool once, then again) so that a burst of
    # load on the machine falls on all tools alike rather than on one.
    measured: dict[str, list[Run]] = {tool: [] for tool, _ in expanded}
    for _ in range(runs):
        for tool, quality in expanded:
            if tool not in measured:
                continue
            out = work / f"{wl.name}.{tool}.{wl.fmt}"
            try:
                measured[tool].append(run_measured(tool_cmds(tool, src, wl, out, work, quality)))
            except (RuntimeError, OSError) as exc:
                log(f"  {tool} failed: {exc}")
                del measured[tool]
    for tool, _ in expanded:
        if tool not in measured:
            continue
        out = work / f"{wl.name}.{tool}.{wl.fmt}"
        frames, durations, loop = animation_frames(out)
        h, w = frames[0].shape[:2]
        if (w, h) not in refs:
            refs[(w, h)] = Reference(src, wl, w, h)
        scores = refs[(w, h)].score(frames)
        rows.append(
            Row(
                wl.name,
                tool,
                statistics.median(r.seconds for r in measured[tool]),
                out.stat().st_size,
                len(frames),
                float(np.mean(scores)),
                float(np.min(scores)),
                max(r.peak_rss_mb for r in measured[tool]),
                int(sum(durations)),
                int(loop),
            )
        )
        log("  " + format_row(rows[-1]))
    return rows


HEADER = (
    f"{'workload':<14} {'tool':<13} {'seconds':>7} {'bytes':>9} {'frames':>6} "
    f"{'ssim':>6} {'min':>6} {'rss MB':>6} {'total ms':>8} {'loop':>4}  goal"
)


def format_row(r: Row) -> str:
    return (
        f"{r.workload:<14} {r.tool:<13} {r.seconds:7.2f} {r.bytes:9d} {r.frames:6d} "
        f"{r.ssim_mean:6.4f} {r.ssim_min:6.4f} {r.peak_rss_mb:6.0f} {r.total_ms:8d} "
        f"{r.loop:4d}  {r.note}"
    )


def judge(rows: list[Row]) -> None:
    """Mark each of our rows against the issue's goals for its format:
    GIF: SSIM >= gifski, bytes <= gifski, time <= 1.5 x the ffmpeg one-liner;
    WebP: SSIM >= ffmpeg libwebp, bytes <= it, time <= 1.2 x it."""
    by = {(r.workload, r.tool): r for r in rows}
    for r in rows:
        if not r.tool.startswith("ours"):
            continue
        ff = by.get((r.workload, "ffmpeg"))
        gif = r.workload.endswith("-gif")
        ref = by.get((r.workload, "gifski")) if gif else ff
        limit = 1.5 if gif else 1.2
        if ff is None:
            r.note = "no ffmpeg row to compare with"
            continue
        checks = [(f"time<={limit}x", r.seconds <= limit * ff.seconds)]
        if ref is not None:
            checks += [
                ("ssim", r.ssim_mean >= ref.ssim_mean),
                ("bytes", r.bytes <= ref.bytes),
            ]
        failed = [name for name, ok in checks if not ok]
        r.note = "MET" if not failed else "NOT MET: " + ", ".join(failed)
        if ref is None:
            r.note += f" (time only: no gifski row; time {r.seconds / ff.seconds:.2f}x ffmpeg)"
            continue
        r.note += (
            f" (vs {'gifski' if gif else 'ffmpeg'}: ssim {r.ssim_mean - ref.ssim_mean:+.4f}, "
            f"bytes {100 * (r.bytes / ref.bytes - 1):+.1f}%, "
            f"time {r.seconds / ff.seconds:.2f}x ffmpeg)"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a small subset, one run each")
    ap.add_argument(
        "--runs",
        type=int,
        default=None,
        help="runs per tool (default 3; 1 with --quick)",
    )
    ap.add_argument("--only", default="", help="comma-separated workload names")
    ap.add_argument(
        "--tools", default="", help="comma-separated tools (ours,ffmpeg,gifski,moviepy)"
    )
    ap.add_argument(
        "--qualities",
        default="balanced",
        help="our quality settings to run, first is the row 'ours' (e.g. balanced,low,best)",
    )
    ap.add_argument("--workdir", default=str(OUT_DIR), help="where outputs and made clips go")
    ap.add_argument("--json", default="", help="also write the rows as JSON here")
    # Internal: one tool run inside a child process.
    ap.add_argument("--child", default="", help=argparse.SUPPRESS)
    ap.add_argument("--workload", default="", help=argparse.SUPPRESS)
    ap.add_argument("--src", default="", help=argparse.SUPPRESS)
    ap.add_argument("--out", default="", help=argparse.SUPPRESS)
    ap.add_argument("--quality", default="balanced", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.child:
        wl = next(w for w in WORKLOADS if w.name == args.workload)
        # A worker has its modules loaded before a job arrives; so does this.
        if args.child == "ours":
            import converter.pipeline.convert
            import converter.pipeline.probe
            import converter.spec  # noqa: F401
        else:
            import moviepy  # noqa: F401
        t0 = time.perf_counter()
        if args.child == "ours":
            run_ours(Path(args.src), wl, Path(args.out), args.quality)
        else:
            run_moviepy(Path(args.src), wl, Path(args.out))
        print(json.dumps({"seconds": time.perf_counter() - t0}))
        return 0

    runs = args.runs or (1 if args.quick else 3)
    selected = [w for w in WORKLOADS if (not args.quick or w.quick)]
    if args.only:
        names = set(args.only.split(","))
        selected = [w for w in WORKLOADS if w.name in names]
    qualities = args.qualities.split(",")
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    rows: list[Row] = []
    t0 = time.perf_counter()
    for wl in selected:
        tools = list(wl.tools) or (TOOLS_GIF if wl.fmt == "gif" else TOOLS_WEBP)
        if args.tools:
            tools = [t for t in tools if t in args.tools.split(",")]
        rows += bench_workload(wl, tools, runs, work, qualities, log)
    judge(rows)
    print(
        f"runs per tool: {runs} (median seconds); {os.cpu_count()} CPUs; "
        f"ffmpeg {Path(ffmpeg_exe()).name}; gifski "
        f"{find_gifski() or 'not found: skipped'}; total {time.perf_counter() - t0:.0f} s"
    )
    print(HEADER)
    for r in rows:
        print(format_row(r))
    if args.json:
        Path(args.json).write_text(json.dumps([r.__dict__ for r in rows], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
