"""``manage.py fuzzmedia`` (or ``python -m converter.mediafuzz``): a longer
run of the media fuzzer, printing how many cases ended in each outcome and
every finding with the command that replays it.

    manage.py fuzzmedia --cases 20000 --seed 7
    manage.py fuzzmedia --seed 7 --replay 1234 --write /tmp/case   # one case again

Exits 1 when there is a finding, 0 when there is none.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from . import mutators, runner, seeds
from .runner import Result


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="manage.py fuzzmedia", description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", type=int, default=2000, help="how many cases (default 2000)")
    p.add_argument("--seed", type=int, default=1, help="the run's seed (default 1)")
    p.add_argument("--start", type=int, default=0, help="the first case's index (default 0)")
    p.add_argument(
        "--replay", type=int, nargs="+", metavar="INDEX", help="run only these cases, verbosely"
    )
    p.add_argument(
        "--kinds", help=f"comma-separated seed clips (default all: {','.join(seeds.SEEDS)})"
    )
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="children side by side")
    p.add_argument("--wall", type=float, default=runner.WALL_S, help="seconds before a case hangs")
    p.add_argument("--target", default=runner.DEFAULT_TARGET, help="MODULE:FUNCTION a case runs")
    p.add_argument("--seeds", type=Path, help="folder to make (and keep) the seed clips in")
    p.add_argument(
        "--write", type=Path, help="folder to write each finding's (or replayed) file to"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    kinds = args.kinds.split(",") if args.kinds else None
    with tempfile.TemporaryDirectory(prefix="loopforge-fuzz-") as tmp:
        clips = seeds.make(args.seeds or Path(tmp) / "seeds", kinds)
        indices = args.replay or range(args.start, args.start + args.cases)
        cases = (mutators.make_case(clips, args.seed, i) for i in indices)
        started, done = time.monotonic(), [0]

        def progress(result: Result) -> None:
            done[0] += 1
            if args.replay:
                print(f"{result.case.label()}\n  -> {result.outcome} in {result.seconds:.2f} s")
                print("\n".join(f"  | {line}" for line in result.detail.splitlines()))
            elif done[0] % 500 == 0:
                rate = done[0] / (time.monotonic() - started)
                print(f"{done[0]} cases, {rate:.0f}/s", file=sys.stderr, flush=True)

        report = runner.run(
            cases,
            Path(tmp) / "run",
            seed=args.seed,
            digests=seeds.digests(clips),
            jobs=args.jobs,
            target=args.target,
            wall_s=args.wall,
            progress=progress,
        )
    print(report.table())
    print("seed clips: " + ", ".join(f"{k} {d}" for k, d in sorted(report.digests.items())))
    if args.write:
        args.write.mkdir(parents=True, exist_ok=True)
        for result in report.results if args.replay else report.findings():
            case = result.case
            name = f"seed{case.seed}-case{case.index}-{seeds.SEEDS[case.kind].filename}"
            (args.write / name).write_bytes(case.data)
            print(f"wrote {args.write / name}")
    return 1 if report.findings() else 0
