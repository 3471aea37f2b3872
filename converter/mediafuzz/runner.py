"""Runs cases in child processes and classifies how each one ended.

A child (``child.py``) runs the target on one case at a time and answers
with its outcome. The child is what a worker's work horse is: a case that
crashes it (a signal, an exit) or keeps it past the wall-time limit is a
finding, and a fresh child takes the next case. Outcomes:

- ``ok``: the probe and the conversion succeeded;
- a documented code of the source's fault (``converter.errors.SOURCE_CODES``:
  ``DecodeFailed``, ``SourceUnreadable``...): a refusal, as it should be;
- findings, each a bug: ``InternalError``; ``code:<Code>``, a code that does
  not blame the source (one that is retried, like ``StorageUnavailable``);
  ``exception:<type>``, an exception that is no ``LoopforgeError`` (the
  worker would fail the task with ``InternalError``); ``hang``; ``crash:<signal>``.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ..errors import SOURCE_CODES, Code, LoopforgeError
from .mutators import Case

DEFAULT_TARGET = "converter.mediafuzz.target:probe_and_convert"
# A case converts in well under a second; the conversion's own limit is 20 s
# (``target.LIMITS``). Past this the child is taken to hang and is killed.
WALL_S = 60.0
# A child imports the pipeline (NumPy, PyAV, MoviePy) before its first case.
STARTUP_S = 120.0
ROOT = Path(__file__).resolve().parents[2]


def classify(exc: BaseException | None) -> tuple[str, bool, str]:
    """(outcome, whether it is a finding, detail) of a case that raised
    ``exc`` (None: it succeeded)."""
    if exc is None:
        return "ok", False, ""
    if isinstance(exc, LoopforgeError):
        if exc.kind is Code.INTERNAL_ERROR:
            return "InternalError", True, exc.message
        if exc.kind not in SOURCE_CODES:
            return f"code:{exc.code}", True, exc.message
        if not exc.message.strip():
            return f"{exc.code} without a message", True, ""
        return str(exc.kind), False, exc.message
    tail = "".join(traceback.format_exception(exc)[-6:])
    return f"exception:{type(exc).__module__}.{type(exc).__qualname__}", True, tail


@dataclass(frozen=True)
class Result:
    case: Case
    outcome: str
    finding: bool
    detail: str
    seconds: float


@dataclass
class Report:
    seed: int
    digests: dict[str, str]  # of the seed clips the cases were made from
    results: list[Result] = field(default_factory=list)
    seconds: float = 0.0

    def counts(self) -> Counter[str]:
        return Counter(r.outcome for r in self.results)

    def findings(self) -> list[Result]:
        return [r for r in self.results if r.finding]

    def table(self) -> str:
        """Outcome -> count, findings marked, then each finding with the
        command that replays it."""
        counts, found = self.counts(), {r.outcome for r in self.findings()}
        width = max([len(o) for o in counts] + [7])
        lines = [
            f"{len(self.results)} cases, seed {self.seed}, {self.seconds:.0f} s",
            f"{'outcome':<{width}}  count",
        ]
        for outcome, count in sorted(counts.items(), key=lambda oc: (-oc[1], oc[0])):
            lines.append(f"{outcome:<{width}}  {count:>5}{'  FINDING' if outcome in found else ''}")
        by_kind = Counter(r.case.kind for r in self.results if r.outcome == "ok")
        lines.append(
            "converted, by seed: " + ", ".join(f"{k} {n}" for k, n in sorted(by_kind.items()))
        )
        slow = max(self.results, key=lambda r: r.seconds, default=None)
        if slow is not None:
            lines.append(f"slowest case: {slow.case.index} ({slow.seconds:.1f} s, {slow.outcome})")
        findings = self.findings()
        lines.append(f"findings: {len(findings)}")
        for r in findings:
            lines.append(f"- {r.outcome}: {r.case.label()}")
            lines.append(
                f"  replay: manage.py fuzzmedia --seed {self.seed} --replay {r.case.index}"
            )
            lines += [f"  | {line}" for line in r.detail.strip().splitlines()[-6:]]
        return "\n".join(lines)


class _Child:
    """One child process running ``target``, fed one case at a time."""

    def __init__(self, target: str, folder: Path) -> None:
        self.target = target
        self.folder = folder
        self.proc: subprocess.Popen[bytes] | None = None
        self.log: IO[bytes] | None = None

    def start(self) -> None:
        (self.folder / "tmp").mkdir(parents=True, exist_ok=True)
        self.log = open(self.folder / "child.log", "ab")  # noqa: SIM115 - closed in stop
        # Its temporary folders go under ours, so that a killed child leaves none behind.
        env = {**os.environ, "TMPDIR": str(self.folder / "tmp"), "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "converter.mediafuzz.child", self.target],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        answer = self._answer(STARTUP_S)
        if answer is None or not answer.get("ready"):
            self.stop()
            raise RuntimeError(f"the fuzz target did not start: {self.log_tail()}")

    def _answer(self, timeout_s: float) -> dict[str, Any] | None:
        """The child's next line, or None if it said nothing in time (it
        still runs) or it ended (then it has been waited for)."""
        if self.proc is None or self.proc.stdout is None:
            return None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout_s)
        if not ready:
            return None
        line = self.proc.stdout.readline()
        if not line:  # the end of its output: it is ending, if not gone already
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(10)
            return None
        answer: dict[str, Any] = json.loads(line)
        return answer

    def run(self, case: Case, wall_s: float) -> Result:
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        if self.proc is None or self.proc.stdin is None:
            raise RuntimeError("the fuzz target's process did not start")
        path = self.folder / "source.video"  # the neutral name a worker's copy has
        path.write_bytes(case.data)
        t0 = time.monotonic()
        try:
            self.proc.stdin.write(json.dumps({"path": str(path), "format": case.format}).encode())
            self.proc.stdin.write(b"\n")
            self.proc.stdin.flush()
            answer = self._answer(wall_s)
        except (BrokenPipeError, ValueError):
            answer = None
        seconds = time.monotonic() - t0
        if answer is not None:
            return Result(case, answer["outcome"], answer["finding"], answer["detail"], seconds)
        if self.proc.poll() is None:  # still running: it hangs
            self.stop()
            return Result(case, "hang", True, f"no answer in {wall_s:g} s", seconds)
        code = self.proc.returncode
        died = f"crash:{signal.Signals(-code).name}" if code < 0 else f"crash:exit {code}"
        detail = self.log_tail()
        self.stop()
        return Result(case, died, True, detail, seconds)

    def log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return (self.folder / "child.log").read_bytes()[-1500:].decode("utf-8", "replace")
        return ""

    def stop(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            for pipe in (self.proc.stdin, self.proc.stdout):
                if pipe:
                    with contextlib.suppress(OSError):
                        pipe.close()
            self.proc = None
        if self.log is not None:
            self.log.close()
            self.log = None


def run(
    cases: Iterable[Case],
    folder: Path,
    *,
    seed: int,
    digests: dict[str, str],
    jobs: int = 1,
    target: str = DEFAULT_TARGET,
    wall_s: float = WALL_S,
    progress: Callable[[Result], None] | None = None,
) -> Report:
    """Run ``cases`` on ``jobs`` children working side by side (their files
    in ``folder``), and report how each ended, in case order."""
    report = Report(seed, digests)
    pending = iter(cases)
    lock = threading.Lock()
    failures: list[BaseException] = []

    def work(n: int) -> None:
        child = _Child(target, folder / f"child-{n}")
        try:
            while True:
                with lock:
                    case = next(pending, None)
                if case is None:
                    return
                result = child.run(case, wall_s)
                with lock:
                    report.results.append(result)
                    if progress:
                        progress(result)
        except BaseException as exc:  # reported by run, in the caller's thread
            failures.append(exc)
        finally:
            child.stop()

    t0 = time.monotonic()
    threads = [threading.Thread(target=work, args=(n,), daemon=True) for n in range(max(1, jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    report.seconds = time.monotonic() - t0
    report.results.sort(key=lambda r: r.case.index)
    return report
