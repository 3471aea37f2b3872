"""Running a tool's commands for their wall time and peak RSS."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from converter.bench.paths import ROOT


@dataclass
class Run:
    seconds: float
    peak_rss_mb: float
    # Where a Python child's time went, as it measured it (ours: probe, the
    # sampler's start, the encoder's...; converter/pipeline/timing.py).
    parts: dict[str, float] = field(default_factory=dict)


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
    parts: dict[str, float] = {}
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
            reported = _reported(proc.stdout)
            total += reported["seconds"] if reported else measured["wall"]
            parts.update(reported.get("parts", {}) if reported else {})
    return Run(total, peak_kb / 1024, parts)


def _reported(stdout: bytes) -> dict[str, Any] | None:
    """What a Python child measured itself (its last JSON line: ``seconds``,
    and ``parts``), if anything."""
    for line in stdout.decode(errors="replace").splitlines()[::-1]:
        if line.startswith("{"):
            return dict(json.loads(line))
    return None
