"""What the sandbox costs: ``python -m converter.bench.sandbox [--runs N]``.

Times, as the median of N runs, each way a source is read: the upload's
header probe and the worker's probe in-process (``probe.probe``, what ran
before) and in their sandboxed child (``isolated.probe``, bwrap and
``none``), and one ffmpeg start (``ffmpeg -version``) with and without
bubblewrap. The figures are in docs/security.md.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from converter.bench.workloads import source_path
from converter.pipeline import ffmpeg, isolated, sandbox
from converter.pipeline.probe import probe


def _median_ms(action: Callable[[], object], runs: int) -> float:
    action()  # warm the page cache and the imports
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def measure(source: Path, runs: int) -> list[tuple[str, float]]:
    """(what, median milliseconds) for each way of reading ``source``."""
    rows: list[tuple[str, float]] = []
    for decode, what in ((False, "upload check (headers)"), (True, "worker probe (first frame)")):
        in_process = functools.partial(probe, source, decode=decode)
        child = functools.partial(isolated.probe, source, decode=decode)
        rows.append((f"{what}, in-process", _median_ms(in_process, runs)))
        for mode in sandbox.MODES:
            sandbox.use(mode)
            rows.append((f"{what}, child, sandbox {mode}", _median_ms(child, runs)))
    for mode in sandbox.MODES:
        sandbox.use(mode)
        rows.append((f"ffmpeg -version, sandbox {mode}", _median_ms(ffmpeg.version, runs)))
    sandbox.use("bwrap")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m converter.bench.sandbox")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        source, origin = source_path("smpte", Path(work))  # 1080p H.264 MP4
        print(f"source: {source.name} ({origin}), {args.runs} runs each")
        for what, ms in measure(source, args.runs):
            print(f"{what:<50} {ms:8.1f} ms")


if __name__ == "__main__":
    main()
