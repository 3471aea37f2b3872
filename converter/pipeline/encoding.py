"""The contract every encoder meets, and the registry that picks one by format.

An encoder takes frames as they are sampled (an iterable of ``H x W x 3`` RGB or
``H x W x 4`` RGBA ``uint8`` arrays, all the same size) and the options below,
and returns the encoded file. It must consume the iterable lazily where it can,
so that a long animation is never held in memory twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Literal

import numpy as np

Quality = Literal["low", "balanced", "best"]
QUALITIES: tuple[Quality, ...] = ("low", "balanced", "best")
DEFAULT_QUALITY: Quality = "balanced"


@dataclass(frozen=True)
class EncodeOptions:
    frame_duration_ms: float  # display time of every frame: 1000 / FrameRate
    quality: Quality = DEFAULT_QUALITY
    loop: int = 0  # 0 = loop forever; n = play n times


@dataclass(frozen=True)
class Encoded:
    data: bytes
    frames: int
    durations_ms: list[int] = field(default_factory=list)


Encoder = Callable[[Iterable[np.ndarray], EncodeOptions], Encoded]


def spread_durations(count: int, frame_ms: float, unit_ms: int) -> list[int]:
    """Round each frame's duration to the format's unit (GIF: 10 ms) so that the
    running total stays as close as possible to the exact total."""
    out: list[int] = []
    total = 0
    for i in range(1, count + 1):
        target = round(i * frame_ms / unit_ms) * unit_ms
        out.append(max(unit_ms, target - total))
        total += out[-1]
    return out
