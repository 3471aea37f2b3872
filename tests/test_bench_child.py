"""Our row of the benchmark: the worker's pipeline in a child process, which
reports where its time went (converter/bench/tools.py, measure.py)."""

from __future__ import annotations

from converter.bench.decode import decode
from converter.bench.measure import run_measured
from converter.bench.tools import cmds_ours_level, tool_cmds
from converter.bench.workloads import workload_named
from tests.media import ffmpeg, pattern


def test_ours_reports_its_fixed_costs_and_runs_at_a_point_of_the_scale(tmp_path) -> None:
    clip = tmp_path / "clip.mp4"
    ffmpeg(*pattern("320x240", 24, 6), "-c:v", "libx264", "-pix_fmt", "yuv420p", str(clip))
    wl = workload_named("flat-gif")  # 5 s from the start at 12 fps, 480 px
    named, low = tmp_path / "named.gif", tmp_path / "low.gif"
    run = run_measured(tool_cmds("ours", clip, wl, named, tmp_path, "balanced"))
    assert list(run.parts) == [
        "probe_s", "plan_s", "sampler_start_s", "encoder_start_s", "moviepy_clip_s", "convert_s",
    ]  # fmt: skip
    assert 0 < run.parts["convert_s"] <= run.seconds
    assert all(0 <= s <= run.parts["convert_s"] for k, s in run.parts.items() if k != "probe_s")
    run_measured(cmds_ours_level(clip, wl, low, tmp_path, 60))
    frames = [len(decode(p.read_bytes(), "RGB").frames) for p in (named, low)]
    assert frames == [wl.frame_count] * 2 and low.stat().st_size < named.stat().st_size
