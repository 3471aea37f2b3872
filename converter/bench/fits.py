"""``python manage.py fitbench``: how well "fit under N bytes" does. For
every platform preset, and for each cap given on the benchmark's clips, it
runs ``pipeline.fit`` and then the strategy people use by hand (keep the
frame rate, shrink the width by a tenth until the file fits), scores both
against the same source frames (``quality.held_ssim``, what fit itself
scores with) and prints, per row: the cap, each one's final bytes, SSIM,
passes (tries) and seconds, and whether fit stayed under the cap and lost
no more picture than the hand strategy. Goals (issue 14): never above the
cap; SSIM at least the hand strategy's; few passes."""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from converter.bench.workloads import source_path
from converter.pipeline import fit as fitting
from converter.pipeline.convert import convert, reads_key_frames
from converter.pipeline.errors import PipelineError
from converter.pipeline.limits import DEFAULT_LIMITS
from converter.pipeline.probe import VideoInfo, probe
from converter.pipeline.quality import held_ssim, shown_frames
from converter.presets import PRESETS
from converter.spec import AnimationSpec

HAND_STEP = 0.9  # the hand strategy's width step
HAND_SMALLEST = 0.05  # and where it gives up


@dataclass(frozen=True)
class Case:
    name: str
    source: str  # a key of workloads.SOURCES
    start: float
    duration: float
    request: Mapping[str, object]  # the animation asked for, as the API takes it


@dataclass(frozen=True)
class Outcome:
    bytes: int | None  # None: could not fit
    ssim: float
    tries: int
    seconds: float
    note: str = ""


def cases(caps: list[int], clip: str) -> list[Case]:
    """A row per preset (its own format and box, 5 s at 10 fps, 480 px
    asked unless the preset has a box), and per cap a GIF and a WebP row of the same stretch."""
    base = {"Interval": 0.1, "FrameRate": 10, "Width": 480}
    rows = []
    for p in PRESETS.values():  # a preset with a box sets the size itself
        asked = {k: v for k, v in base.items() if p.box is None or k != "Width"}
        rows.append(Case(f"preset {p.id}", clip, 10.0, 5.0, {**asked, "Preset": p.id}))
    for cap in caps:
        for fmt in ("gif", "webp"):
            request = {**base, "Format": fmt, "MaxBytes": cap}
            rows.append(Case(f"cap {cap // 1000} KB {fmt}", clip, 10.0, 5.0, request))
    return rows


def by_fit(source: Path, info: VideoInfo, spec: AnimationSpec, case: Case, cap: int) -> Outcome:
    t0 = time.monotonic()
    try:
        done = fitting.fit(
            source, info, spec, cap,
            trim_start=case.start, trim_duration=case.duration,
        )  # fmt: skip
    except PipelineError as exc:
        return Outcome(None, 0.0, fitting.MAX_PASSES, time.monotonic() - t0, exc.code)
    return Outcome(
        len(done.result.data),
        done.chosen.ssim or 0.0,
        len(done.passes),
        time.monotonic() - t0,
        "; ".join(done.changes) or "as asked",
    )


def by_hand(source: Path, info: VideoInfo, spec: AnimationSpec, case: Case, cap: int) -> Outcome:
    """Keep the frame rate and quality; 90% of the width each try."""
    t0 = time.monotonic()
    reference = fitting._reference(
        source, info, spec, case.start, case.duration, DEFAULT_LIMITS
    )  # fmt: skip
    tries = 0
    scale = 1.0
    while scale >= HAND_SMALLEST:
        tries += 1
        setting = fitting.Setting(spec.frame_rate, scale, fitting._quality(spec.quality))
        size = fitting._size(setting, reference.width, reference.height)
        result = convert(
            source, info, fitting._Candidate(spec, setting, size),
            trim_start=case.start, trim_duration=case.duration,
        )  # fmt: skip
        if len(result.data) <= cap:
            score = held_ssim(
                reference.frames, reference.times_ms, shown_frames(result.data, result.format)
            )
            took = time.monotonic() - t0
            return Outcome(len(result.data), score, tries, took, f"{result.width} px")
        scale *= HAND_STEP
    return Outcome(None, 0.0, tries, time.monotonic() - t0, "no width fits")


def verdict(cap: int, ours: Outcome, hand: Outcome) -> str:
    if ours.bytes is None:
        return "CannotFit" + (" (hand too)" if hand.bytes is None else " NOT MET: hand fits")
    if ours.bytes > cap:
        return "NOT MET: over the cap"
    if hand.bytes is None:
        return "met (hand cannot fit)"
    if ours.ssim >= hand.ssim:
        return f"met (ssim {ours.ssim - hand.ssim:+.4f})"
    return f"NOT MET: ssim {ours.ssim - hand.ssim:+.4f}"


def _cell(o: Outcome) -> str:
    size = "-" if o.bytes is None else f"{o.bytes:,}"
    return f"{size:>11} {o.ssim:6.4f} {o.tries:>3} {o.seconds:6.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="manage.py fitbench", description=__doc__)
    parser.add_argument(
        "--caps", default="100000,250000", help="comma-separated caps in bytes (0: none)"
    )
    parser.add_argument("--clip", default="bbb", help="the benchmark's source key")
    parser.add_argument("--only", default="", help="rows whose name contains this")
    args = parser.parse_args(argv)
    caps = [int(c) for c in args.caps.split(",") if c and int(c) > 0]
    print(
        f"{'row':26} {'cap':>11} | {'fit bytes':>11} {'ssim':>6} {'n':>3} {'s':>6} | "
        f"{'hand bytes':>11} {'ssim':>6} {'n':>3} {'s':>6} | goal; what fit changed"
    )
    with tempfile.TemporaryDirectory(prefix="fitbench-") as tmp:
        for case in cases(caps, args.clip):
            if args.only and args.only not in case.name:
                continue
            source, _ = source_path(case.source, Path(tmp))
            spec = AnimationSpec.parse(case.request)
            info = probe(source, key_frames=reads_key_frames([spec.format]))
            cap = spec.max_bytes or 0  # every case has a cap, its own or its preset's
            ours = by_fit(source, info, spec, case, cap)
            hand = by_hand(source, info, spec, case, cap)
            print(
                f"{case.name:26} {cap:>11,} | {_cell(ours)} | {_cell(hand)} | "
                f"{verdict(cap, ours, hand)}; {ours.note}",
                flush=True,
            )
    return 0
