"""Rate-distortion curves: each encoder at several settings on a workload,
ours against each reference summarised as BD-rate (``bdrate``).

One setting per tool says little on footage whose best setting is not the
default: one encoder may sit higher on the same curve, spending more bytes
for more quality. The curves compare at equal quality instead. Ours runs at
points of its encoders' own quality scale (``EncodeOptions.level``); the
references at theirs: gifski's ``--quality``, the ffmpeg one-liner's palette
size with its default dithering and with none, and libwebp's ``-quality``.
Each point is one run (bytes and SSIM do not vary between runs; the time
is the single-point rows' business)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from converter.bench.bdrate import Point, bd_rate, bound_when_above, frontier, overlap
from converter.bench.measure import run_measured
from converter.bench.run import scored_row
from converter.bench.score import Reference
from converter.bench.tools import (
    cmds_ffmpeg_gif,
    cmds_ffmpeg_webp,
    cmds_gifski,
    cmds_ours_level,
    find_gifski,
)
from converter.bench.workloads import Workload, source_path

Commands = Callable[[Path, Workload, Path, Path, int], list[list[str]]]


@dataclass(frozen=True)
class Curve:
    tool: str  # the row's name
    setting: str  # what a point sets, for the table
    points: tuple[int, ...]
    cmds: Commands


def _ffmpeg_gif(dither: str) -> Commands:
    def cmds(src: Path, wl: Workload, out: Path, work: Path, colors: int) -> list[list[str]]:
        return cmds_ffmpeg_gif(src, wl, out, work, colors=colors, dither=dither)

    return cmds


# From each tool's smallest useful setting to its largest: below these the
# pictures fall apart (fewer than 32 colours band every gradient), and a
# curve only counts where the other tool's overlaps it.
CURVES: dict[str, list[Curve]] = {
    "gif": [
        Curve("ours", "level", (60, 75, 90, 97, 100), cmds_ours_level),
        Curve("gifski", "--quality", (50, 65, 80, 90, 100), cmds_gifski),
        Curve("ffmpeg", "max_colors", (32, 64, 128, 256), _ffmpeg_gif("sierra2_4a")),
        Curve("ffmpeg-nodither", "max_colors", (32, 64, 128, 256), _ffmpeg_gif("none")),
    ],
    "webp": [
        Curve("ours", "level", (40, 55, 65, 73, 82, 90), cmds_ours_level),
        Curve("ffmpeg", "-quality", (40, 55, 65, 75, 85, 92), cmds_ffmpeg_webp),
    ],
}
# The issue's goal: our BD-rate against each of these at most this (percent).
GOALS: dict[str, dict[str, float]] = {
    "gif": {"gifski": -10.0, "ffmpeg": -10.0},
    "webp": {"ffmpeg": -10.0},
}


@dataclass
class Summary:
    workload: str
    reference: str
    bd_rate: float | None  # percent; None: no overlap to compare on
    overlap: float  # the share of the quality range both curves cover
    goal: float | None  # None: shown for information
    # No overlap because ours is better throughout: the BD-rate is at most this.
    bound: float | None = None

    @property
    def note(self) -> str:
        if self.bd_rate is None and self.bound is not None:
            met = self.goal is None or self.bound <= self.goal
            return (
                f"{'MET' if met else 'NOT MET'}: ours better at every size, "
                f"BD-rate below {self.bound:+.0f}% (our poorest point beats its best)"
            )
        if self.bd_rate is None:
            return "no overlap in quality: not comparable"
        if self.goal is None:
            return "(for information)"
        if self.bd_rate <= self.goal:
            return f"MET (goal <= {self.goal:+.0f}%)"
        return f"NOT MET by {self.bd_rate - self.goal:.1f} points (goal <= {self.goal:+.0f}%)"


def measure(wl: Workload, work: Path, log: Callable[[str], None]) -> dict[str, list[Point]]:
    """Every curve of the workload's format: tool -> its points."""
    src, _ = source_path(wl.source, work)
    refs: dict[tuple[int, int], Reference] = {}
    curves: dict[str, list[Point]] = {}
    for curve in CURVES.get(wl.fmt, []):
        if curve.tool == "gifski" and find_gifski() is None:
            log("  curves: skipping gifski (not found)")
            continue
        points = []
        for value in curve.points:
            out = work / f"{wl.name}.curve-{curve.tool}-{value}.{wl.fmt}"
            try:
                run = run_measured(curve.cmds(src, wl, out, work, value))
            except (RuntimeError, OSError) as exc:
                log(f"  curves: {curve.tool} {curve.setting} {value} failed: {exc}")
                continue
            row = scored_row(wl, curve.tool, [run], out, src, refs)
            points.append(Point(row.bytes, row.ssim_mean, f"{curve.setting} {value}"))
            log(f"  curve {curve.tool:<15} {curve.setting} {value:>3}: {row.bytes:9d} B "
                f"ssim {row.ssim_mean:.4f}")  # fmt: skip
        curves[curve.tool] = points
    return curves


def summarise(wl: Workload, curves: dict[str, list[Point]]) -> list[Summary]:
    """Our BD-rate against every reference curve of the workload."""
    ours = curves.get("ours", [])
    goals = GOALS.get(wl.fmt, {})
    return [
        Summary(
            wl.name,
            tool,
            bd_rate(points, ours),
            overlap(frontier(points), frontier(ours)) if points and ours else 0.0,
            goals.get(tool),
            bound_when_above(points, ours),
        )
        for tool, points in curves.items()
        if tool != "ours"
    ]


CURVE_HEADER = f"{'workload':<16} {'tool':<16} points (bytes @ ssim, by setting)"
BD_HEADER = f"{'workload':<16} {'ours against':<16} {'BD-rate':>8} {'overlap':>7}  goal"


def format_curve(workload: str, tool: str, points: list[Point]) -> str:
    shown = ", ".join(f"{p.bytes} @ {p.ssim:.4f} ({p.setting})" for p in points)
    return f"{workload:<16} {tool:<16} {shown}"


def format_summary(s: Summary) -> str:
    if s.bd_rate is not None:
        rate = f"{s.bd_rate:+.1f}%"
    else:
        rate = "n/a" if s.bound is None else f"<{s.bound:+.0f}%"
    return f"{s.workload:<16} {s.reference:<16} {rate:>8} {100 * s.overlap:6.0f}%  {s.note}"
