"""A quick look at the footage, for encoders whose default adapts to it.

One fixed setting cannot sit on the right point of the size/quality curve
for grainy film and for flat, noiseless content alike (docs/encoding.md,
"Adaptive default"): a GIF that repaints every pixel whose grain moved
spends its bytes on noise, and a setting loose enough for grain blurs clean
footage. So an encoder looks at the first frame before it starts:

- **noise**: how far a pixel's value wanders with no picture behind it (the
  sensor's noise, film grain), in 0-255 levels;
- **clean**: whether the frame has no noise at all (drawn animation, screen
  recordings, test cards): most of it is exactly smooth.

The estimate is Immerkaer's (1996, "Fast noise variance estimation"): a
3x3 filter that cancels every plane and every linear ramp, so what is left
in a smooth part of the picture is noise. Picture detail leaves a residue
too; taking a low percentile over small blocks keeps only the smoothest
parts of the frame, where what is left is noise alone (the idea of
block-based estimators, such as Shin et al. 2005). Saturated blocks (black
bars, blown-out sky) are left out: clipping removes their noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

BLOCK = 8  # pixels on a side of the blocks the frame is judged in
PERCENTILE = 10  # of the blocks' estimates: the smoothest tenth of the frame
# The 10th percentile of 8 x 8 blocks' estimates, as a share of the noise's
# deviation, for Gaussian noise from 1 to 10 levels (measured: 0.80-0.82).
LOW_TENTH = 0.80
SATURATED = 4  # a block with a value this close to 0 or 255 is left out
# Clean: the median block's estimate is below this. Compressed camera
# footage has a few exactly smooth blocks (sky), never half the frame.
CLEAN_BELOW = 0.05
DARK = 16  # a frame darker than this on average (a fade from black) says nothing
MAX_SIDE = 720  # a larger frame is judged from its centre, to bound the cost
# Noisy: grain or sensor noise the encoders should not repaint (camera
# footage scaled down measures 0.14-0.33; a talking head from a webcam 0.9,
# low light and film grain about 2; docs/encoding.md, "Adaptive default").
NOISY = 0.6


@dataclass(frozen=True)
class Look:
    # The standard deviation, in 0-255 levels, of the mean of the colour
    # channels where the picture is smooth.
    noise: float = 0.0
    clean: bool = False  # no noise at all

    @property
    def noisy(self) -> bool:
        """Noise an encoder should not spend its bytes repainting."""
        return self.noise > NOISY


def look(frame: np.ndarray) -> Look:
    """A look at an ``H x W x C`` ``uint8`` frame (RGB or BGR, alpha ignored).
    A frame with nothing to judge (too small, or black or nearly: the fade
    a film opens with) says nothing: ``Look()``."""
    h, w = frame.shape[:2]
    top, left = max(0, (h - MAX_SIDE) // 2), max(0, (w - MAX_SIDE) // 2)
    crop = frame[top : top + MAX_SIDE, left : left + MAX_SIDE, :3]
    g = crop.astype(np.float32).mean(axis=2)
    if g.mean() < DARK:
        return Look()
    residual = np.abs(
        g[:-2, :-2]
        - 2 * g[:-2, 1:-1]
        + g[:-2, 2:]
        - 2 * g[1:-1, :-2]
        + 4 * g[1:-1, 1:-1]
        - 2 * g[1:-1, 2:]
        + g[2:, :-2]
        - 2 * g[2:, 1:-1]
        + g[2:, 2:]
    )
    centre = g[1:-1, 1:-1]
    rows, cols = (n - n % BLOCK for n in residual.shape)
    if rows == 0 or cols == 0:
        return Look()

    def blocks(a: np.ndarray) -> np.ndarray:
        return a[:rows, :cols].reshape(rows // BLOCK, BLOCK, cols // BLOCK, BLOCK)

    values = blocks(centre)
    unsaturated = (values.min(axis=(1, 3)) > SATURATED) & (
        values.max(axis=(1, 3)) < 255 - SATURATED
    )
    estimates = blocks(residual).mean(axis=(1, 3))[unsaturated]
    if estimates.size == 0:
        return Look()
    # For Gaussian noise of deviation s, the filter's output has mean
    # absolute value 6 s sqrt(2 / pi) (the filter's weights' norm is 6);
    # the smoothest tenth of the blocks sit ``LOW_TENTH`` of that.
    scale = math.sqrt(math.pi / 2) / 6
    smoothest, median = np.percentile(estimates, [PERCENTILE, 50]) * scale
    smoothest /= LOW_TENTH
    return Look(noise=float(smoothest), clean=bool(median < CLEAN_BELOW))
