"""The contract every encoder meets.

An encoder takes frames as they are sampled (an iterable of ``H x W x 3`` RGB or
``H x W x 4`` RGBA ``uint8`` arrays, all the same size, or BGR(A) where the
encoder asks for that order) and the options below,
and returns the encoded file. It must consume the iterable lazily where it can,
so that a long animation is never held in memory twice.

The pipeline hands an ``Encoder`` the frames as consecutive *runs*, as many as
its ``parts`` asks for (each run is sampled by its own ffmpeg, side by side),
so an encoder that can encode runs in parallel uses every core. Every run
after the first begins with the last frame of the run before it (an overlap,
for the encoder to code the next frames against), which is not a frame of
its own.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Quality = Literal["low", "balanced", "best"]
QUALITIES: tuple[Quality, ...] = ("low", "balanced", "best")
DEFAULT_QUALITY: Quality = "balanced"

# The order of the colour channels in a frame (alpha, if any, comes last).
# swscale makes BGR from a YUV video faster than RGB, so an encoder whose
# library takes either asks for BGR (``Encoder.order``). RGB stays the
# default: the GIF encoder's frames are the pixels the benchmark scores
# against, to the level, and BGR's differ by a few. The figures are in
# docs/encoding.md ("Channel order").
Order = Literal["rgb", "bgr"]


@dataclass(frozen=True)
class EncodeOptions:
    frame_duration_ms: float  # display time of every frame: 1000 / FrameRate
    quality: Quality = DEFAULT_QUALITY
    loop: int = 0  # 0 = loop forever; n = play n times
    order: Order = "rgb"  # of the frames' colour channels
    # The most colours in a palette (GIF: each frame's local table); fewer
    # make smaller files (``fit`` lowers it to meet a size cap). 256 is
    # what a GIF can hold, and changes nothing.
    colors: int = 256
    # A point on the encoder's own quality scale (0-100: GIF libimagequant's
    # target, WebP libwebp's quality) in place of ``quality``'s named level:
    # the benchmark's rate-distortion curves (converter/bench/curves.py).
    level: int | None = None


@dataclass(frozen=True)
class Encoded:
    data: bytes
    frames: int
    durations_ms: list[int] = field(default_factory=list)
    # (width, height) where the format made the frames another size than
    # they came (an MP4 pads an odd side to even); None: as they came.
    size: tuple[int, int] | None = None


Frames = Iterable[np.ndarray]


def one_run(frame_count: int, alpha: bool) -> int:
    return 1


@dataclass(frozen=True)
class Encoder:
    # Encode consecutive runs of frames (together, the whole animation).
    encode: Callable[[Sequence[Frames], EncodeOptions], Encoded]
    # How many runs to ask for, given the frame count and whether there is alpha.
    parts: Callable[[int, bool], int] = one_run
    # The channel order the frames are sampled in (``EncodeOptions.order`` says so).
    order: Order = "rgb"
    # The longest side the format can hold, in pixels; a larger output is
    # refused before sampling (``OutputTooLarge``).
    max_side: int = 65535
    # The format's name, for people ("WebP").
    name: str = ""

    @property
    def splits(self) -> bool:
        """Whether it may take more than one run: its plan then wants the
        probe's key frames (``frameplan.split_for_decoding``)."""
        return self.parts is not one_run


def durations_spread(frame_ms: float, unit_ms: int) -> Iterator[int]:
    """Each frame's duration in turn, rounded to the format's unit (GIF: 10 ms)
    so that the running total stays as close as possible to the exact total."""
    total = 0
    for i in itertools.count(1):
        ms = max(unit_ms, round(i * frame_ms / unit_ms) * unit_ms - total)
        total += ms
        yield ms


def spread_durations(count: int, frame_ms: float, unit_ms: int) -> list[int]:
    """The first ``count`` of ``durations_spread``."""
    return list(itertools.islice(durations_spread(frame_ms, unit_ms), count))
