"""Suggested moments: the stretches of a video most worth an animation,
found the way sports-highlight tools do, without machine learning.

The video is read small (64 x 36 grey, 10 frames a second) and its sound
as 8 kHz mono, each by the sandboxed ffmpeg. Every tenth of a second gets
a motion energy (the mean change of the picture since the frame before:
the mean absolute frame difference that ffmpeg's ``scdet`` scores scenes
by) and a sound energy (RMS loudness). Shot cuts are where the picture
changes far more than around it. A window of the chosen length scores the
mean of both energies over it (each scaled to the video's own range), the
best windows that do not overlap are kept, and their edges move to a
shot cut nearby, so a suggestion starts and ends on a cut.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import ffmpeg
from .limits import Limits
from .probe import VideoInfo

RATE = 10.0  # analysis steps a second
SIZE = (64, 36)
AUDIO_HZ = 8000
LOOK_MAX_S = 30 * 60.0  # a longer video is looked at for its first half hour
# A cut: the picture changes this much (of 255, mean over the frame) and
# several times more than in the second around it.
CUT_LEVEL = 12.0
CUT_RATIO = 3.0
# An edge moves to a cut at most this share of the window's length away.
SNAP_SHARE = 0.3


@dataclass(frozen=True)
class Moment:
    start: float  # seconds of the source
    end: float
    score: float  # 0..1: the window's mean energy
    on_cuts: tuple[bool, bool]  # whether the start and the end are on a shot cut


@dataclass(frozen=True)
class Energies:
    motion: np.ndarray  # per step, 0..255
    sound: np.ndarray  # per step, RMS of -1..1 samples; zeros without sound
    cuts: list[float]  # seconds
    has_sound: bool


def suggest(
    source: Path, info: VideoInfo, limits: Limits, length_s: float, count: int = 3
) -> list[Moment]:
    """The ``count`` best windows of ``length_s`` seconds, best first."""
    energies = measure(source, info, limits)
    return best_windows(energies, length_s, count)


def measure(source: Path, info: VideoInfo, limits: Limits) -> Energies:
    span = min(info.duration, LOOK_MAX_S)
    steps = max(1, math.floor(span * RATE))
    motion = _motion(source, info, limits, span, steps)
    has_sound = info.audio_stream is not None
    sound = _sound(source, info, limits, span, steps) if has_sound else np.zeros(steps)
    return Energies(motion, sound, cuts_of(motion), has_sound)


def _motion(source: Path, info: VideoInfo, limits: Limits, span: float, steps: int) -> np.ndarray:
    w, h = SIZE
    args = ffmpeg.safe_input_args(source, info.demuxer, max_pixels=limits.max_source_pixels)
    args += ["-t", f"{span:.6f}", "-i", f"file:{source.resolve()}"]
    args += ["-map", f"0:v:{info.stream_index}", "-an", "-sn", "-dn"]
    args += ["-vf", f"fps={RATE!r},scale={w}:{h}:flags=area,format=gray"]
    frames = ffmpeg.raw_frames(
        args, steps, (h, w, 1), limits, "No frame could be decoded from the video.", [source]
    )
    motion = np.zeros(steps)
    before: np.ndarray | None = None
    for k, frame in enumerate(frames):
        now = frame[..., 0].astype(np.float32)
        if before is not None:
            motion[k] = float(np.abs(now - before).mean())
        before = now
    return motion


def _sound(source: Path, info: VideoInfo, limits: Limits, span: float, steps: int) -> np.ndarray:
    per_step = int(AUDIO_HZ / RATE)
    args = ffmpeg.safe_input_args(source, info.demuxer, max_pixels=limits.max_source_pixels)
    args += ["-t", f"{span:.6f}", "-i", f"file:{source.resolve()}"]
    args += ["-map", f"0:a:{info.audio_stream}", "-vn", "-sn", "-dn"]
    args += ["-ac", "1", "-ar", str(AUDIO_HZ), "-f", "s16le", "pipe:1"]
    sound = np.zeros(steps)
    blocks: Iterator[bytearray] = ffmpeg.stream(
        args,
        per_step * 2,
        timeout_s=limits.task_timeout_s,
        inputs=[source],
        memory_bytes=limits.ffmpeg_memory_bytes,
    )
    for k, block in enumerate(blocks):
        if k >= steps:
            break
        samples = np.frombuffer(block, "<i2").astype(np.float32) / 32768
        sound[k] = float(np.sqrt(np.mean(samples * samples)))
    return sound


def cuts_of(motion: np.ndarray) -> list[float]:
    """Where the picture changes far more than around it: shot cuts."""
    cuts = []
    half = int(RATE)  # a second each side
    for k in range(1, motion.size):
        around = np.concatenate([motion[max(0, k - half) : k], motion[k + 1 : k + 1 + half]])
        typical = float(np.median(around)) if around.size else 0.0
        if motion[k] >= CUT_LEVEL and motion[k] >= CUT_RATIO * max(typical, 1.0):
            cuts.append(k / RATE)
    return cuts


def _scaled(values: np.ndarray) -> np.ndarray:
    """0..1 against the video's own loud or busy parts (its 95th centile)."""
    top = float(np.percentile(values, 95)) if values.size else 0.0
    if top <= 0:
        return np.zeros_like(values)
    return np.clip(values / top, 0, 1)


def best_windows(energies: Energies, length_s: float, count: int) -> list[Moment]:
    # A cut is a change of shot, not motion within one: it does not score.
    motion = energies.motion.copy()
    for cut in energies.cuts:
        motion[round(cut * RATE)] = 0
    score = _scaled(motion)
    if energies.has_sound:
        score = (score + _scaled(energies.sound)) / 2
    steps = score.size
    width = max(1, min(steps, round(length_s * RATE)))
    sums = np.convolve(score, np.ones(width), mode="valid") / width  # window k: steps k..k+width-1
    taken = np.zeros(steps, dtype=bool)
    found: list[Moment] = []
    for k in np.argsort(-sums, kind="stable"):
        if len(found) == count:
            break
        if taken[k : k + width].any():
            continue
        start, end = _snapped(k / RATE, (k + width) / RATE, energies.cuts, length_s, steps / RATE)
        first, last = round(start * RATE), round(end * RATE)
        if taken[first:last].any():
            continue
        taken[first:last] = True
        on_cuts = (start in energies.cuts, end in energies.cuts)
        found.append(
            Moment(round(float(start), 3), round(float(end), 3), round(float(sums[k]), 4), on_cuts)
        )
    return found


def _snapped(
    start: float, end: float, cuts: list[float], length_s: float, total: float
) -> tuple[float, float]:
    """Each edge moved to the nearest cut within SNAP_SHARE of the length."""
    reach = SNAP_SHARE * length_s

    def nearest(t: float) -> float:
        near = [c for c in cuts if abs(c - t) <= reach]
        return min(near, key=lambda c: abs(c - t)) if near else t

    new_start, new_end = nearest(start), nearest(end)
    if new_end - new_start < length_s / 2:  # the two edges met: keep the window
        return start, min(end, total)
    return new_start, min(new_end, total)
