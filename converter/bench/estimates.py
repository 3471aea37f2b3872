"""``python manage.py estimatebench``: how honest the estimate is. For each
workload of the benchmark it runs the estimate (``pipeline.estimate``) and
then the real conversion, and prints the estimate beside the real bytes,
its error, whether the real size fell in the estimate's range, and how
long each took. Goal (issue 14): within 15% on every row, and under 1 s
for a 30 s 720p source."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from converter.bench.workloads import WORKLOADS, Workload, source_path
from converter.pipeline.convert import convert, reads_key_frames
from converter.pipeline.estimate import estimate
from converter.pipeline.limits import DEFAULT_LIMITS
from converter.pipeline.probe import probe
from converter.spec import AnimationSpec

GOAL_ERROR = 0.15


def _spec(w: Workload) -> AnimationSpec:
    return AnimationSpec.create(
        format=w.fmt, interval=w.interval, frame_rate=w.fps, width=float(w.width)
    )


def row(w: Workload, workdir: Path) -> str:
    source, _ = source_path(w.source, workdir)
    spec = _spec(w)
    info = probe(source, key_frames=reads_key_frames([spec.format]))
    guess = estimate(
        source, info, spec, trim_start=w.start, trim_duration=w.duration, limits=DEFAULT_LIMITS
    )
    t0 = time.monotonic()
    real = convert(source, info, spec, trim_start=w.start, trim_duration=w.duration)
    took = time.monotonic() - t0
    made = len(real.data)
    error = (guess.bytes - made) / made
    within = guess.low <= made <= guess.high
    verdict = "met" if abs(error) <= GOAL_ERROR else f"NOT MET by {abs(error) - GOAL_ERROR:.0%}"
    return (
        f"{w.name:16} {guess.bytes:>10,} {made:>10,} {error:>+7.1%} "
        f"{'yes' if within else 'no':>5} {guess.seconds:>7.2f} {took:>7.2f}  {verdict}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="manage.py estimatebench", description=__doc__)
    parser.add_argument("--only", help="comma-separated workload names")
    args = parser.parse_args(argv)
    wanted = set(args.only.split(",")) if args.only else None
    print(
        f"{'workload':16} {'estimated':>10} {'real':>10} {'error':>7} "
        f"{'range':>5} {'est s':>7} {'conv s':>7}  goal (within 15%)"
    )
    with tempfile.TemporaryDirectory(prefix="estimatebench-") as tmp:
        for w in WORKLOADS:
            if wanted is None or w.name in wanted:
                print(row(w, Path(tmp)), flush=True)
    return 0
