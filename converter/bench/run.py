"""One workload through every tool: the runs, then each output decoded and
scored into a row."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from pathlib import Path

import numpy as np

from converter.bench.decode import decode
from converter.bench.measure import Run, run_measured
from converter.bench.paths import TOOLS_DIR
from converter.bench.report import Row, format_row
from converter.bench.score import Reference, shown_in_slots
from converter.bench.tools import find_gifski, tool_cmds
from converter.bench.workloads import Workload, source_path
from converter.pipeline.timing import format_parts


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
    expanded = _expand(tools, qualities, log)
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
    rows: list[Row] = []
    refs: dict[tuple[int, int], Reference] = {}
    for tool, _ in expanded:
        if tool not in measured:
            continue
        rows.append(
            scored_row(wl, tool, measured[tool], work / f"{wl.name}.{tool}.{wl.fmt}", src, refs)
        )
        log("  " + format_row(rows[-1]))
        if measured[tool][-1].parts:
            log(f"    {tool}'s parts (last run): {format_parts(measured[tool][-1].parts)}")
    return rows


def _expand(
    tools: list[str], qualities: list[str], log: Callable[[str], None]
) -> list[tuple[str, str]]:
    """(row name, quality) for every tool: ours once per quality (the first is
    the row "ours", the others "ours-<quality>"); gifski left out when missing."""
    expanded = []
    for tool in tools:
        if tool == "ours":
            expanded += [("ours" if q == qualities[0] else f"ours-{q}", q) for q in qualities]
        else:
            expanded.append((tool, ""))
    if "gifski" in [t for t, _ in expanded] and find_gifski() is None:
        log(f"  skipping gifski: not found (npm pack gifski into {TOOLS_DIR})")
        expanded = [(t, q) for t, q in expanded if t != "gifski"]
    return expanded


def scored_row(
    wl: Workload,
    tool: str,
    runs: list[Run],
    out: Path,
    src: Path,
    refs: dict[tuple[int, int], Reference],
) -> Row:
    """A tool's row: its runs, and its output decoded and scored against the
    source frames (decoded once per output size, kept in ``refs``)."""
    animation = decode(out, "RGB")  # the displayed (composited) frames
    h, w = animation.frames[0].shape[:2]
    if (w, h) not in refs:
        refs[(w, h)] = Reference(src, wl, w, h)
    shown = shown_in_slots(animation.frames, animation.durations, 1000 / wl.fps, wl.frame_count)
    scores = refs[(w, h)].score(shown)
    return Row(
        wl.name,
        tool,
        statistics.median(r.seconds for r in runs),
        out.stat().st_size,
        len(animation.frames),
        float(np.mean(scores)),
        float(np.min(scores)),
        max(r.peak_rss_mb for r in runs),
        int(sum(animation.durations)),
        animation.loop,
    )
