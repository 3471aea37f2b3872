"""Animated AVIF through Pillow 11.3's AVIF plugin (libavif with libaom).

- **Frames are held.** Pillow's AVIF writer turns ``append_images`` into a
  list before it encodes a frame (``AvifImagePlugin._save``: ``list(...)``),
  so an iterator gains nothing: each frame becomes a Pillow image as it is
  sampled (the array is then dropped) and all are saved in one call. The
  frame limits (``limits``) bound what that holds.
- **Alpha** is kept: frames with any transparent pixel are saved RGBA (an
  alpha plane), others RGB (none, which is smaller).
- **Time.** Each frame's duration in whole milliseconds, spread so their
  sum stays on the exact total (``durations_spread``).
- **Loops.** Pillow 11.3 takes no loop count for AVIF; libavif writes the
  animation as repeating forever, whatever ``EncodeOptions.loop`` says.

Quality levels are libavif quality values (0-100) at one speed, chosen with
the benchmark (docs/encoding.md, "MP4 and AVIF"): SSIM against the source at
or above our WebP's in fewer bytes.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from .encoding import Encoded, EncodeOptions, Encoder, Frames, spread_durations


@dataclass(frozen=True)
class AvifSettings:
    quality: int  # libavif's quality, 0 (smallest) to 100 (lossless)
    speed: int  # libaom's speed, 0 (slowest, smallest) to 10


# Chosen with the benchmark (docs/encoding.md, "MP4 and AVIF").
SETTINGS: dict[str, AvifSettings] = {
    "low": AvifSettings(quality=50, speed=6),
    "balanced": AvifSettings(quality=60, speed=6),
    "best": AvifSettings(quality=75, speed=6),
}

# AV1's largest frame side (the level 6 limit libaom enforces: 65536 is
# beyond it, 16384 within).
MAX_SIDE = 16384


def encode(frames: Frames, options: EncodeOptions) -> Encoded:
    """Encode RGB or RGBA frames to an animated AVIF (alpha kept)."""
    return encode_runs([frames], options)


def encode_runs(runs: Sequence[Frames], options: EncodeOptions) -> Encoded:
    """One AVIF from consecutive runs (each later run's first frame repeats
    the one before and is dropped); the pipeline asks for one run."""
    images: list[Image.Image] = []
    shape: tuple[int, ...] | None = None
    alpha = False
    for n, run in enumerate(runs):
        for frame in itertools.islice(run, 1 if n else 0, None):
            if shape is None:
                shape = frame.shape
            elif frame.shape != shape:
                raise ValueError("all frames must have the same size")
            alpha = alpha or (frame.shape[2] == 4 and bool((frame[..., 3] < 255).any()))
            images.append(Image.fromarray(np.ascontiguousarray(frame)))
    if not images:
        raise ValueError("no frames to encode")
    if not alpha and images[0].mode == "RGBA":  # opaque: no alpha plane to code
        images = [image.convert("RGB") for image in images]
    durations = spread_durations(len(images), options.frame_duration_ms, 1)
    settings = SETTINGS[options.quality]
    buf = io.BytesIO()
    images[0].save(
        buf,
        "AVIF",
        save_all=True,
        append_images=images[1:],
        duration=durations,
        quality=settings.quality,
        speed=settings.speed,
        subsampling="4:2:0",
    )
    return Encoded(buf.getvalue(), len(images), durations)


ENCODER = Encoder(encode_runs, max_side=MAX_SIDE, name="AVIF")
