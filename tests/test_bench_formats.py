"""The benchmark's MP4 and AVIF rows: ffmpeg's reference commands make files
the benchmark decodes, and the goals are judged against our GIF and WebP."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from converter.bench.decode import decode
from converter.bench.report import Row, judge
from converter.bench.score import shown_in_slots
from converter.bench.tools import tool_cmds
from converter.bench.workloads import Workload


def row(workload: str, tool: str, bytes_: int, ssim: float, seconds: float = 1.0) -> Row:
    return Row(workload, tool, seconds, bytes_, 10, ssim, ssim, 100, 1000, 0)


@pytest.mark.parametrize(
    ("mp4_bytes", "mp4_ssim", "verdict"),
    [
        (200, 0.96, "MET"),
        (200, 0.94, "NOT MET: ssim"),
        (201, 0.96, "NOT MET: bytes"),  # more than a fifth of the GIF's 1000
    ],
)
def test_mp4_is_judged_against_our_gif(mp4_bytes: int, mp4_ssim: float, verdict: str) -> None:
    rows = [
        row("w-gif", "ours", 1000, 0.95),
        row("w-mp4", "ours", mp4_bytes, mp4_ssim, seconds=2.0),
        row("w-mp4", "ffmpeg", 400, 0.95),
    ]
    judge(rows)
    note = rows[1].note
    assert note.startswith(verdict + " (") or note == verdict, note
    assert "vs our gif" in note and "time 2.00x" in note


def test_avif_needs_fewer_bytes_than_our_webp() -> None:
    rows = [row("w-webp", "ours", 1000, 0.95), row("w-avif", "ours", 1000, 0.96)]
    judge(rows)
    assert rows[1].note.startswith("NOT MET: bytes"), rows[1].note
    rows = [row("w-webp", "ours", 1000, 0.95), row("w-avif", "ours", 999, 0.95)]
    judge(rows)
    assert rows[1].note.startswith("MET"), rows[1].note


def test_without_our_other_format_the_row_says_so() -> None:
    rows = [row("w-mp4", "ours", 100, 0.9)]
    judge(rows)
    assert rows[0].note == "no row of our gif to compare with (run w-gif too)"


@pytest.mark.parametrize(
    ("fmt", "tool", "format_name"),
    [
        ("mp4", "ffmpeg", "MP4"),
        ("avif", "ffmpeg", "AVIF"),
        ("avif", "ffmpeg-svt", "AVIF"),
        ("gif", "ffmpeg", "GIF"),
        ("webp", "ffmpeg", "WEBP"),
    ],
)
@pytest.mark.parametrize(("interval", "frames"), [(0.1, 10), (0.25, 4)])
def test_ffmpeg_reference_makes_every_frame_the_benchmark_scores(
    clips, tmp_path, fmt: str, tool: str, format_name: str, interval: float, frames: int
) -> None:  # type: ignore[no-untyped-def]
    """Sampled 0.25 s apart and played at 10 fps, the frames must all stay:
    a muxer left to the sampling filter's rate drops them."""
    src = clips.moving(duration=2, size="320x240")
    wl = Workload(
        f"t-{fmt}", source="", fmt=fmt, start=0, duration=1, interval=interval, fps=10, width=160
    )
    out = tmp_path / f"out.{fmt}"
    for cmd in tool_cmds(tool, src, wl, out, tmp_path, ""):
        subprocess.run(cmd, check=True, capture_output=True)
    anim = decode(out, "RGB")
    assert anim.format == format_name
    assert anim.size == (160, 120) and len(anim.frames) == frames
    assert abs(sum(anim.durations) - 100 * frames) <= 10


def test_a_frame_shown_for_several_slots_is_scored_in_each() -> None:
    a, b, c = (np.full((2, 2, 3), v, np.uint8) for v in (0, 100, 200))
    # b merged from three identical frames (gifski does so), at 100 ms a slot
    assert [int(f[0, 0, 0]) for f in shown_in_slots([a, b, c], [100, 300, 100], 100, 5)] == [
        0, 100, 100, 100, 200,
    ]  # fmt: skip
    # GIF's hundredths (60, 70, 70 ms for 66.7 ms slots) still give frame k in slot k
    assert shown_in_slots([a, b, c], [60, 70, 70], 200 / 3, 3) == [a, b, c]
    assert shown_in_slots([a, b], [0, 0], 100, 2) == [a, b]  # no durations: one a slot
