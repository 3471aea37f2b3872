"""Animated GIF: libimagequant palettes, unchanged pixels left transparent.

How a frame is made (the ideas gifski uses, arranged so frames can be
quantized in parallel):

1. **What changed.** A pixel is repainted only when the source moved more than
   ``threshold`` (largest channel difference) away from the source value it had
   when it was last painted. Comparing with the value at the last paint, not
   with the previous frame, means slow fades cannot creep: a kept pixel is never
   more than ``threshold`` from the source. Unchanged pixels are transparent
   (disposal 1 keeps the previous picture under them), which keeps static
   areas from flickering and makes long runs that LZW packs well.
   The frame is cropped to the rectangle holding the changes.
2. **Palette.** libimagequant builds a palette for the changed pixels of the
   rectangle only (unchanged ones are given as transparent) and remaps them
   (dithering is a setting; the benchmark turned it off). This depends only on
   the source, so frames are quantized on a thread pool (cffi releases the
   GIL while libimagequant runs) while ffmpeg decodes on the other core.
3. **Write**, in order: a changed pixel whose palette colour is exactly what
   is already displayed becomes transparent too; the rectangle shrinks to what
   is left; Pillow's LZW coder packs it with the smallest code size the palette
   allows, behind a local colour table.

Frames with alpha (RGBA) are written whole with disposal 2 (restore to
transparent), since a transparent pixel cannot erase the picture under it.
"""

from __future__ import annotations

import io
import itertools
import os
import struct
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np
from imagequant import ffi, lib
from PIL import Image, ImageFile

from .encoding import Encoded, EncodeOptions, Encoder, durations_spread
from .look import Look, look

GIF_UNIT_MS = 10  # GIF delays are hundredths of a second
ALPHA_CUTOFF = 128  # GIF has 1-bit transparency: alpha below this is transparent


@dataclass(frozen=True)
class GifSettings:
    threshold: int  # largest channel change (0-255) still treated as "unchanged"
    dither: float  # libimagequant Floyd-Steinberg level, 0-1
    speed: int  # libimagequant speed 1 (slow, best) to 10 (fast)
    max_quality: int = 100  # libimagequant target quality; lower may use fewer colours


# Chosen with the benchmark (docs/encoding.md). SSIM against the source falls
# with any dithering on every workload measured (dither noise is structure
# the source lacks) and bytes rise, so all levels leave it off; a kept pixel
# also never flickers. max_quality < 100 lets libimagequant stop adding
# colours once a region looks right, which shrinks the many small palettes.
SETTINGS: dict[str, GifSettings] = {
    "low": GifSettings(threshold=6, dither=0.0, speed=8, max_quality=90),
    "balanced": GifSettings(threshold=3, dither=0.0, speed=6, max_quality=99),
    "best": GifSettings(threshold=1, dither=0.0, speed=3, max_quality=100),
}

# A point on the scale (``EncodeOptions.level``, libimagequant's target
# quality) takes the change threshold of the named level nearest it, and
# coarser below "low": a curve's low end saves bytes on both at once.
LEVEL_THRESHOLDS = ((50, 12), (90, 6), (99, 3), (100, 1))


def settings(options: EncodeOptions) -> GifSettings:
    """The settings of ``options``: its named quality level's, or those of its
    point on the scale (the benchmark's curves)."""
    if options.level is None:
        return SETTINGS[options.quality]
    levels, thresholds = zip(*LEVEL_THRESHOLDS, strict=True)
    threshold = round(float(np.interp(options.level, levels, thresholds)))
    return GifSettings(threshold=threshold, dither=0.0, speed=6, max_quality=options.level)


# The default adapts to the footage (pipeline/look.py; the figures are in
# docs/encoding.md, "Adaptive default"). Grain and sensor noise move every
# pixel a little every frame. On noisy footage (``Look.noisy``), each
# repainted pixel is given its mean over the next ``DENOISE_LOOKAHEAD``
# frames (``_ChangeTracker``), and a pixel counts as changed only when it
# moved more than ``NOISY_THRESHOLD`` levels, or ``NOISE_THRESHOLD`` times
# the noise if that is more (up to ``MOST_THRESHOLD``): a GIF then spends
# its bytes on the picture, not on repainting noise, and scores better for
# it (the painted value is nearer the noise's mean than a fresh sample of
# it would be).
DENOISE_LOOKAHEAD = 4
NOISY_THRESHOLD = 6
NOISE_THRESHOLD = 3.0
# A level's own threshold (``LEVEL_THRESHOLDS``) grows by this share per
# level of noise: a low level, which tolerates changes of 10 levels in
# clean footage, tolerates them on top of the grain (low light at level
# 60: 44% fewer bytes than at the clean threshold, for 0.02 less SSIM, on a
# curve that moves past gifski's; docs/encoding.md). The default's own
# threshold (3) stays below the noise's, which decides it.
LEVEL_NOISE_SCALE = 0.5
# Past this the "noise" is the picture (static, confetti, a test of
# random pixels): a threshold above it would freeze what should move.
MOST_THRESHOLD = 18
# On clean footage (drawn, screen), libimagequant's target this much lower:
# flat regions look right with fewer colours, and the named levels' targets
# were chosen on camera footage.
CLEAN_TARGET_DROP = 1


def lookahead(seen: Look) -> int:
    """How many frames ahead the change tracker denoises, for footage like ``seen``."""
    return DENOISE_LOOKAHEAD if seen.noisy else 0


def adapted(s: GifSettings, seen: Look, options: EncodeOptions) -> GifSettings:
    """``s`` for footage that looks as ``seen`` says."""
    threshold = s.threshold
    if seen.noisy:
        by_noise = round(NOISE_THRESHOLD * seen.noise)
        by_level = round(threshold * (1 + LEVEL_NOISE_SCALE * seen.noise))
        threshold = min(MOST_THRESHOLD, max(NOISY_THRESHOLD, by_noise, by_level))
    max_quality = s.max_quality
    if seen.clean and options.level is None:  # a point on a curve is a target already
        max_quality -= CLEAN_TARGET_DROP
    return replace(s, threshold=threshold, max_quality=max_quality)


@dataclass
class _Quantized:
    left: int
    top: int
    indices: np.ndarray  # h x w uint8
    palette: np.ndarray  # n x 4 uint8 (RGBA)
    transparent: int  # palette index of the transparent entry, -1 if none


def _quantize(rgba: np.ndarray, s: GifSettings, colors: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """libimagequant on an h x w x 4 array: (indices, RGBA palette)."""
    h, w = rgba.shape[:2]
    rgba = np.ascontiguousarray(rgba)
    attr = lib.liq_attr_create()
    img = ffi.NULL
    res = ffi.new("liq_result**")
    try:
        lib.liq_set_speed(attr, s.speed)
        if colors < 256:
            lib.liq_set_max_colors(attr, max(2, colors))
        lib.liq_set_quality(attr, 0, s.max_quality)
        img = lib.liq_image_create_rgba(attr, ffi.from_buffer(rgba), w, h, 0)
        if img == ffi.NULL:
            raise ValueError("libimagequant refused the image")
        err = lib.liq_image_quantize(img, attr, res)
        if err != lib.LIQ_OK:
            raise RuntimeError(f"libimagequant failed: error {err}")
        lib.liq_set_dithering_level(res[0], s.dither)
        out = np.empty((h, w), np.uint8)
        lib.liq_write_remapped_image(res[0], img, ffi.from_buffer(out), h * w)
        pal = lib.liq_get_palette(res[0])
        palette = np.frombuffer(ffi.buffer(pal.entries, 4 * pal.count), np.uint8)
        return out, palette.reshape(-1, 4).copy()
    finally:
        if res[0] != ffi.NULL:
            lib.liq_result_destroy(res[0])
        if img != ffi.NULL:
            lib.liq_image_destroy(img)
        lib.liq_attr_destroy(attr)


def _quantize_region(
    rgba: np.ndarray, left: int, top: int, s: GifSettings, colors: int = 256
) -> _Quantized:
    indices, palette = _quantize(rgba, s, colors)
    clear = np.flatnonzero(palette[:, 3] < ALPHA_CUTOFF)
    transparent = int(clear[0]) if clear.size else -1
    if clear.size > 1:  # one transparent entry is enough
        indices[np.isin(indices, clear)] = transparent
    return _Quantized(left, top, indices, palette, transparent)


def _bbox(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask[rows[0] : rows[-1] + 1].any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def _changed(a: np.ndarray, b: np.ndarray, threshold: int) -> np.ndarray:
    """Where any channel of two H x W x 3 uint8 images differs by more than threshold."""
    d = np.maximum(a, b)
    d -= np.minimum(a, b)  # |a - b| without leaving uint8
    out: np.ndarray = d[..., 0] > threshold
    out |= d[..., 1] > threshold  # channel by channel: a reduce over axis 2 is slow
    out |= d[..., 2] > threshold
    return out


class _ChangeTracker:
    """Decides, from the source alone, which pixels each frame repaints.

    With a ``lookahead``, a repainted pixel is given the mean of its values
    over this frame and the next ``lookahead`` ones, those within the
    threshold of this frame's: on noisy footage the picture is painted
    nearer its true value than one noisy sample of it (gifski's denoiser
    works the same way), so later samples stay within the threshold of it
    longer. Frames come out ``lookahead`` frames after they went in."""

    def __init__(self, threshold: int, lookahead: int = 0) -> None:
        self.threshold = threshold
        self.lookahead = lookahead
        self.painted: np.ndarray | None = None  # value painted at each pixel
        self.ahead: deque[np.ndarray] = deque()  # frames taken, not yet given out

    def feed(self, frame: np.ndarray) -> list[tuple[int, int, np.ndarray]]:
        """The regions (``region``'s) of the frames now ready: none while the
        lookahead fills, then one per frame fed."""
        self.ahead.append(frame)
        return [self.region()] if len(self.ahead) > self.lookahead else []

    def flush(self) -> list[tuple[int, int, np.ndarray]]:
        """The regions of the frames still held, once the last was fed."""
        return [self.region() for _ in range(len(self.ahead))]

    def region(self) -> tuple[int, int, np.ndarray]:
        """(left, top, RGBA region to quantize) of the oldest frame held, which
        it gives out; unchanged pixels have alpha 0."""
        frame = self.ahead.popleft()
        rgb = frame[..., :3]
        h, w = rgb.shape[:2]
        if frame.shape[2] == 4:
            alpha = np.where(frame[..., 3] >= ALPHA_CUTOFF, 255, 0).astype(np.uint8)
            return 0, 0, np.dstack([rgb, alpha])
        if self.painted is None or self.threshold < 0:
            paint = self._denoised(rgb, 0, h, 0, w)
            self.painted = paint.copy()
            return 0, 0, np.dstack([paint, np.full((h, w), 255, np.uint8)])
        changed = _changed(rgb, self.painted, self.threshold)
        box = _bbox(changed)
        if box is None:
            return 0, 0, np.zeros((1, 1, 4), np.uint8)
        y0, y1, x0, x1 = box
        sub = changed[y0:y1, x0:x1]
        paint = self._denoised(rgb, y0, y1, x0, x1)
        region = np.empty((y1 - y0, x1 - x0, 4), np.uint8)
        region[..., :3] = paint
        np.multiply(sub, 255, out=region[..., 3], casting="unsafe")
        np.copyto(self.painted[y0:y1, x0:x1], paint, where=sub[..., None])
        return x0, y0, region

    def _denoised(self, rgb: np.ndarray, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
        """``rgb``'s pixels in the box, each the mean of its value and those
        of the frames still held that are within the threshold of it."""
        now = rgb[y0:y1, x0:x1]
        if not self.ahead:
            return now
        total = now.astype(np.uint16)
        count = np.ones(now.shape[:2], np.uint16)
        for later in self.ahead:
            values = later[y0:y1, x0:x1, :3]
            close = ~_changed(values, now, self.threshold)
            total += values * close[..., None]
            count += close
        mean: np.ndarray = ((total + count[..., None] // 2) // count[..., None]).astype(np.uint8)
        return mean


def _pack(rgb: np.ndarray) -> np.ndarray:
    """RGB triples as one uint32 each, for fast comparisons."""
    rgb = rgb.astype(np.uint32)
    packed: np.ndarray = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    return packed


def _lzw(indices: np.ndarray, bits: int) -> bytes:
    """GIF image data (code size byte, sub-blocks, terminator) by Pillow's coder."""
    h, w = indices.shape
    im = Image.frombuffer("L", (w, h), np.ascontiguousarray(indices), "raw", "L", 0, 1)
    buf = io.BytesIO()
    # Pillow's public writer always uses 8-bit codes; its coder takes the code
    # size as an argument, and small palettes make smaller files with it.
    ImageFile._save(im, buf, [ImageFile._Tile("gif", (0, 0, w, h), 0, ("L", bits, 0))])
    return bytes([bits]) + buf.getvalue() + b"\0"


class _Writer:
    def __init__(self, width: int, height: int, loop: int) -> None:
        self.width, self.height = width, height
        self.out = io.BytesIO()
        self.out.write(b"GIF89a" + struct.pack("<HHBBB", width, height, 0, 0, 0))
        if loop != 1:  # NETSCAPE2.0: loop 0 = forever; n plays = n - 1 repeats
            repeats = 0 if loop == 0 else loop - 1
            self.out.write(b"!\xff\x0bNETSCAPE2.0\x03\x01" + struct.pack("<H", repeats) + b"\0")
        self.shown = np.zeros((height, width), np.uint32)  # what a viewer displays (packed)

    def frame(self, q: _Quantized, delay_cs: int, disposal: int) -> None:
        idx, pal = q.indices, q.palette
        h, w = idx.shape
        left, top = q.left, q.top
        if disposal == 1:
            shown = self.shown[top : top + h, left : left + w]
            colours = _pack(pal[:, :3])[idx]
            if q.transparent >= 0:
                # Lossless: a pixel already showing its palette colour need not be sent.
                opaque = (colours != shown) & (idx != q.transparent)
                np.copyto(shown, colours, where=opaque)
                idx = np.where(opaque, idx, np.uint8(q.transparent))
                box = _bbox(opaque) or (0, 1, 0, 1)
                y0, y1, x0, x1 = box
                idx = idx[y0:y1, x0:x1]
                left, top = left + x0, top + y0
            else:
                shown[...] = colours
        n = len(pal)
        bits = max(2, int(n - 1).bit_length())
        table = np.zeros((1 << bits, 3), np.uint8)
        table[:n] = pal[:, :3]
        flags = 1 if q.transparent >= 0 else 0
        self.out.write(
            b"!\xf9\x04"
            + struct.pack("<BHB", (disposal << 2) | flags, delay_cs, max(q.transparent, 0))
            + b"\0"
        )
        ih, iw = idx.shape
        self.out.write(b"," + struct.pack("<HHHHB", left, top, iw, ih, 0x80 | (bits - 1)))
        self.out.write(table.tobytes())
        self.out.write(_lzw(idx, bits))

    def finish(self) -> bytes:
        self.out.write(b";")
        return self.out.getvalue()


def _workers() -> int:
    return max(
        1,
        min(
            4,
            (
                len(os.sched_getaffinity(0))
                if hasattr(os, "sched_getaffinity")
                else (os.cpu_count() or 1)
            ),
        ),
    )


def _check_frame(frame: np.ndarray, shape: tuple[int, ...]) -> None:
    if frame.ndim != 3 or frame.shape[2] not in (3, 4) or frame.dtype != np.uint8:
        raise ValueError("frames must be H x W x 3 or H x W x 4 uint8 arrays")
    if frame.shape != shape:
        raise ValueError("all frames must have the same size")


def encode(frames: Iterable[np.ndarray], options: EncodeOptions) -> Encoded:
    """Encode RGB or RGBA frames to an animated GIF that loops as ``options.loop`` says.

    Frames are consumed as they come; only a few are in flight at a time."""
    frames = iter(frames)
    first = next(frames, None)
    if first is None:
        raise ValueError("no frames to encode")
    _check_frame(first, first.shape)
    seen = look(first)
    s = adapted(settings(options), seen, options)
    writer = _Writer(first.shape[1], first.shape[0], options.loop)
    tracker = _ChangeTracker(s.threshold, lookahead(seen))
    durations: list[int] = []
    spread = durations_spread(options.frame_duration_ms, GIF_UNIT_MS)
    in_flight: deque[tuple[Future[_Quantized], bool]] = deque()

    def write(keep: int) -> None:
        while len(in_flight) > keep:
            fut, alpha = in_flight.popleft()
            ms = next(spread)
            durations.append(ms)
            writer.frame(fut.result(), ms // GIF_UNIT_MS, 2 if alpha else 1)

    workers = _workers()
    with ThreadPoolExecutor(workers) as pool:
        alpha = first.shape[2] == 4

        def submit(regions: list[tuple[int, int, np.ndarray]]) -> None:
            for x, y, region in regions:
                in_flight.append(
                    (pool.submit(_quantize_region, region, x, y, s, options.colors), alpha)
                )
                write(2 * workers)

        for frame in itertools.chain([first], frames):
            _check_frame(frame, first.shape)
            submit(tracker.feed(frame))
        submit(tracker.flush())
        write(0)
    return Encoded(writer.finish(), len(durations), durations)


# A GIF's logical screen and its frames' sizes are 16-bit fields.
MAX_SIDE = 65535
# One run (the default ``parts``): each frame is coded against the one shown
# before it, and frames are quantized on a thread pool anyway.
ENCODER = Encoder(lambda runs, options: encode(runs[0], options), max_side=MAX_SIDE, name="GIF")
