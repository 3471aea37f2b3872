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
- **Loops.** Pillow 11.3 takes no loop count for AVIF, and libavif writes
  "repeat forever": an edit list (``elst``) with its repeat flag and the
  track's and movie's durations indefinite. For ``loop`` n > 0 those
  durations are set to n plays of the edit (``_with_plays``), which is how
  AVIF (ISO/IEC 23000-22, 7.2.3) and libavif's own writer say "play n
  times"; decoders read the count back as duration / edit - 1 repeats.

Quality levels are libavif quality values (0-100) at one speed, chosen with
the benchmark (docs/encoding.md, "MP4 and AVIF"): SSIM against the source at
or above our WebP's in fewer bytes.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator, Sequence
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
    data = buf.getvalue()
    if options.loop > 0:
        data = _with_plays(data, options.loop)
    return Encoded(data, len(images), durations)


def _with_plays(data: bytes, plays: int) -> bytes:
    """The AVIF ``data`` with its movie and every track lasting ``plays``
    times the edit (the animation once through): sequences that repeat
    forever say so by an indefinite duration instead."""
    out = bytearray(data)
    moov = _find(out, 0, len(out), [b"moov"])
    mvhd = _find(out, *moov, [b"mvhd"])
    tracks = [(b, e) for kind, b, e in _boxes(out, *moov) if kind == b"trak"]
    if not tracks:
        raise ValueError("an AVIF sequence without a track")
    segment = 0
    for track in tracks:
        elst = _find(out, *track, [b"edts", b"elst"])
        segment = _field(out, elst[0] + 8, 8 if out[elst[0]] == 1 else 4)
        tkhd = _find(out, *track, [b"tkhd"])
        _set(out, tkhd[0], (28, 8) if out[tkhd[0]] == 1 else (20, 4), plays * segment)
    _set(out, mvhd[0], (24, 8) if out[mvhd[0]] == 1 else (16, 4), plays * segment)
    return bytes(out)


def _boxes(buf: bytearray, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, body start, end) of each box between ``start`` and ``end``."""
    at = start
    while at + 8 <= end:
        size, header = int.from_bytes(buf[at : at + 4], "big"), 8
        if size == 1:
            size, header = int.from_bytes(buf[at + 8 : at + 16], "big"), 16
        elif size == 0:
            size = end - at
        if size < header or at + size > end:
            raise ValueError("a malformed box in the AVIF")
        yield bytes(buf[at + 4 : at + 8]), at + header, at + size
        at += size


def _find(buf: bytearray, start: int, end: int, path: list[bytes]) -> tuple[int, int]:
    for kind, body, stop in _boxes(buf, start, end):
        if kind == path[0]:
            return (body, stop) if len(path) == 1 else _find(buf, body, stop, path[1:])
    raise ValueError(f"no {path[0].decode()} box in the AVIF")


def _field(buf: bytearray, at: int, width: int) -> int:
    return int.from_bytes(buf[at : at + width], "big")


def _set(buf: bytearray, body: int, where: tuple[int, int], value: int) -> None:
    """Write a full box's duration: ``where`` is (offset in the body, width)."""
    offset, width = where
    if value >= 1 << (8 * width):
        raise ValueError("the AVIF's duration does not fit its box")
    buf[body + offset : body + offset + width] = value.to_bytes(width, "big")


ENCODER = Encoder(encode_runs, max_side=MAX_SIDE, name="AVIF")
