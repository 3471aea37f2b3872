"""The benchmark's options and the whole run (``python -m converter.bench``,
``python manage.py benchmark``)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import converter.bench
from converter.bench import curves as rd
from converter.bench.bdrate import Point
from converter.bench.paths import OUT_DIR, ffmpeg_exe
from converter.bench.report import HEADER, Row, format_row, judge
from converter.bench.run import bench_workload
from converter.bench.tools import TOOLS, find_gifski, run_moviepy, run_ours
from converter.bench.workloads import WORKLOADS, workload_named


def parser(prog: str | None = None) -> argparse.ArgumentParser:
    doc = converter.bench.__doc__ or ""
    ap = argparse.ArgumentParser(prog=prog, description=doc.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a small subset, one run each")
    ap.add_argument(
        "--runs",
        type=int,
        default=None,
        help="runs per tool (default 3; 1 with --quick)",
    )
    ap.add_argument("--only", default="", help="comma-separated workload names")
    ap.add_argument(
        "--tools", default="", help="comma-separated tools (ours,ffmpeg,ffmpeg-svt,gifski,moviepy)"
    )
    ap.add_argument(
        "--qualities",
        default="balanced",
        help="our quality settings to run, first is the row 'ours' (e.g. balanced,low,best)",
    )
    ap.add_argument(
        "--curves",
        action="store_true",
        help="also run every GIF and WebP workload at several settings per tool and "
        "print our BD-rate against each reference",
    )
    ap.add_argument("--workdir", default=str(OUT_DIR), help="where outputs and made clips go")
    ap.add_argument("--json", default="", help="also write the rows as JSON here")
    # Internal: one tool run inside a child process.
    ap.add_argument("--child", default="", help=argparse.SUPPRESS)
    ap.add_argument("--workload", default="", help=argparse.SUPPRESS)
    ap.add_argument("--src", default="", help=argparse.SUPPRESS)
    ap.add_argument("--out", default="", help=argparse.SUPPRESS)
    ap.add_argument("--quality", default="balanced", help=argparse.SUPPRESS)
    ap.add_argument("--level", type=int, default=None, help=argparse.SUPPRESS)
    return ap


def child(args: argparse.Namespace) -> int:
    """One run of a Python tool; prints the seconds the work itself took."""
    wl = workload_named(args.workload)
    # A worker has its modules loaded before a job arrives; so does this.
    if args.child == "ours":
        import converter.pipeline.convert
        import converter.pipeline.probe
        import converter.spec  # noqa: F401
    else:
        import moviepy  # noqa: F401
    t0 = time.perf_counter()
    parts: dict[str, float] = {}
    if args.child == "ours":
        parts = run_ours(Path(args.src), wl, Path(args.out), args.quality, args.level)
    else:
        run_moviepy(Path(args.src), wl, Path(args.out))
    print(json.dumps({"seconds": time.perf_counter() - t0, "parts": parts}))
    return 0


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    args = parser(prog).parse_args(argv)
    if args.child:
        return child(args)

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
    curves: dict[str, dict[str, list[Point]]] = {}
    t0 = time.perf_counter()
    for wl in selected:
        tools = list(wl.tools) or TOOLS[wl.fmt]
        if args.tools:
            tools = [t for t in tools if t in args.tools.split(",")]
        rows += bench_workload(wl, tools, runs, work, qualities, log)
        if args.curves and wl.fmt in rd.CURVES:
            curves[wl.name] = rd.measure(wl, work, log)
    judge(rows)
    print(
        f"runs per tool: {runs} (median seconds); {os.cpu_count()} CPUs; "
        f"ffmpeg {Path(ffmpeg_exe()).name}; gifski "
        f"{find_gifski() or 'not found: skipped'}; total {time.perf_counter() - t0:.0f} s"
    )
    print(HEADER)
    for r in rows:
        print(format_row(r))
    if curves:
        _print_curves(curves)
    if args.json:
        found = {w: {t: [p.__dict__ for p in ps] for t, ps in c.items()} for w, c in curves.items()}
        Path(args.json).write_text(
            json.dumps({"rows": [r.__dict__ for r in rows], "curves": found}, indent=1)
        )
    return 0


def _print_curves(curves: dict[str, dict[str, list[Point]]]) -> None:
    """The curves' points, then our BD-rate against every reference."""
    print()
    print(rd.CURVE_HEADER)
    for name, by_tool in curves.items():
        for tool, points in by_tool.items():
            print(rd.format_curve(name, tool, points))
    print()
    print(rd.BD_HEADER)
    for name, by_tool in curves.items():
        for summary in rd.summarise(workload_named(name), by_tool):
            print(rd.format_summary(summary))
