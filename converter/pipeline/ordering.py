"""Frame order: Reverse and Boomerang (the editor's extensions).

Both need every frame before the first is encoded, so the frames are held
in memory; the frame and pixel limits (``limits.Limits``) already bound
them (a plan is at most ``max_output_frames`` frames of at most
``max_output_pixels`` each).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence

import numpy as np


def output_count(sampled: int, boomerang: bool) -> int:
    """How many frames ``sampled`` frames become: a boomerang plays them
    forward then backward without repeating the two turning frames, so n
    frames give 2n - 2 (one frame stays one)."""
    return max(sampled, 2 * sampled - 2) if boomerang else sampled


def reordered(
    runs: Sequence[Iterable[np.ndarray]], reverse: bool, boomerang: bool
) -> list[Iterator[np.ndarray]]:
    """The frames of ``runs`` (consecutive, in source order) as one run in
    the requested order. Every run after the first begins with the last
    frame of the run before (``encoding``'s overlap), left out here. Reverse
    plays them backwards; Boomerang plays them forth and back (reversed
    first when both are asked: back, then forth)."""
    frames: list[np.ndarray] = []
    for n, run in enumerate(runs):
        frames.extend(itertools.islice(run, 1 if n else 0, None))
    if reverse:
        frames.reverse()
    if boomerang:  # n frames, then n-2 back (none for two frames or one)
        frames += frames[-2:0:-1]
    return [iter(frames)]
