"""The Bjøntegaard delta rate (BD-rate) of two rate-distortion curves: how
many more (or, negative, fewer) bytes one needs than the other for the same
quality, on average over the quality range both cover.

The arithmetic is the ``bjontegaard`` package's (FAU-LMS, BSD-3-Clause),
with the piecewise cubic Hermite interpolation (PCHIP) that the JCT-VC and
JVET common test conditions use. Quality is SSIM, taken in decibels
(``ssim_db``): SSIM crowds towards 1, where a tenth of a percent is a
visible difference, and the decibel scale spreads it out as PSNR is spread.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import bjontegaard

# The standard's interpolation; "cubic" is VCEG-M33's original polynomial.
METHOD = "pchip"


@dataclass(frozen=True)
class Point:
    bytes: int
    ssim: float
    setting: str = ""  # what made it ("q90", "128 colours"), for the table


def ssim_db(ssim: float) -> float:
    """SSIM on a decibel scale: -10 log10(1 - SSIM) (0.99 is 20 dB)."""
    return -10 * math.log10(max(1e-10, 1 - ssim))


def frontier(points: Sequence[Point]) -> list[Point]:
    """The points no other point beats on both bytes and SSIM, by bytes:
    a setting that costs more for less (a curve's kink) is left out, as
    interpolation needs the quality to rise with the bytes."""
    kept: list[Point] = []
    for p in sorted(points, key=lambda p: (p.bytes, -p.ssim)):
        if not kept or p.ssim > kept[-1].ssim:
            kept.append(p)
    return kept


def overlap(anchor: Sequence[Point], test: Sequence[Point]) -> float:
    """The share of the quality range either curve spans that both span (0-1)."""
    a = [ssim_db(p.ssim) for p in anchor]
    t = [ssim_db(p.ssim) for p in test]
    span = max(*a, *t) - min(*a, *t)
    if span <= 0:
        return 0.0
    return max(0.0, min(max(a), max(t)) - max(min(a), min(t))) / span


def bd_rate(anchor: Sequence[Point], test: Sequence[Point], method: str = METHOD) -> float | None:
    """The BD-rate of ``test`` against ``anchor`` in percent (negative: test
    needs fewer bytes), over their frontiers; None when either has fewer
    than two points left or the two do not overlap in quality."""
    a, t = frontier(anchor), frontier(test)
    if len(a) < 2 or len(t) < 2 or overlap(a, t) <= 0:
        return None
    value = bjontegaard.bd_rate(
        [p.bytes for p in a],
        [ssim_db(p.ssim) for p in a],
        [p.bytes for p in t],
        [ssim_db(p.ssim) for p in t],
        method=method,
        require_matching_points=False,
        min_overlap=0,
    )
    return None if math.isnan(value) else float(value)


def bound_when_above(anchor: Sequence[Point], test: Sequence[Point]) -> float | None:
    """When the curves do not overlap because ``test`` is better throughout
    (its poorest point scores higher than ``anchor``'s best, for no more
    bytes), a bound on the BD-rate in percent: at ``anchor``'s best quality
    ``test`` needs at most that point's bytes. None otherwise."""
    a, t = frontier(anchor), frontier(test)
    if not a or not t:
        return None
    best, poorest = a[-1], t[0]
    if poorest.ssim <= best.ssim or poorest.bytes > best.bytes:
        return None
    return 100 * (poorest.bytes / best.bytes - 1)
