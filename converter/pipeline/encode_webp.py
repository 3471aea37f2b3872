"""Animated WebP: each frame coded by libwebp (the libwebp Pillow ships) as a
still picture, and the pictures put together as an animation (``webpfile``).

Frames are coded one at a time as they are sampled, so only a frame or two is
held per run. An opaque frame is coded as what it repaints: blocks of the
picture that barely moved since they were last painted are held
(``HOLD_LEVELS``, ``_HeldBlocks``), and the frame is the rectangle around the
repainted blocks, the held ones inside it transparent, blended over the frame
before; a frame that repaints nothing lengthens the one before. Where most of
the picture changes from frame to frame every frame is coded whole (see
``KEY_FRAME_CHANGE``). Frames with alpha go through libwebp's own animation
encoder, which tracks what transparent pixels let through.

Opaque animations are encoded as consecutive runs side by side, one per CPU
(``parts``), each run from its own ffmpeg, and joined into one file
(``webpfile.join``). Each run after the first starts from the last frame of
the run before (sampled twice), so its frames are coded as changes from that
picture, as in one encode, rather than from a whole frame.
Animations with alpha are one run: transparent areas show what the canvas
held before, which a run cannot know.

Settings go through ``libwebp.Config`` (ctypes). Where that binding cannot load,
Pillow's public ``save`` encodes the frames at the same quality and method.
"""

from __future__ import annotations

import io
import itertools
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np
from PIL import Image

from . import libwebp, webpfile
from .encoding import Encoded, EncodeOptions, Encoder, Frames, durations_spread, spread_durations
from .look import Look, look

# Chosen with the benchmark (docs/encoding.md).
SETTINGS: dict[str, libwebp.Config] = {
    "low": libwebp.Config(quality=60, method=4, sns_strength=100),
    "balanced": libwebp.Config(quality=73, method=4, sns_strength=100),
    "best": libwebp.Config(quality=88, method=5, sns_strength=100),
}

# A block of the picture is held as it was last painted until some pixel in
# it has moved more than this many levels (of 255) since: the source's own
# noise (a video codec's flicker on still areas) then costs no bytes and is
# not coded again, lossily, over and over. (libwebp's animation encoder also
# holds pixels that barely moved, but codes the whole rectangle around every
# change; only the repainted 16 x 16 blocks are coded here.) Fewer levels
# keep SSIM, more save bytes: the levels keep a margin over ffmpeg on both,
# as measured with the benchmark (docs/encoding.md, "What a frame codes").
# Frames coded whole are not held.
HOLD_LEVELS: dict[str, int] = {"low": 12, "balanced": 9, "best": 4}

# A point on the scale (``EncodeOptions.level``, libwebp's quality) holds
# blocks as the named levels do at their qualities, in between by line,
# and takes "best"'s slower method from its quality up.
LEVEL_HOLDS = tuple((SETTINGS[q].quality, HOLD_LEVELS[q]) for q in ("low", "balanced", "best"))


def settings(options: EncodeOptions) -> tuple[libwebp.Config, int]:
    """libwebp's settings and the hold level (``HOLD_LEVELS``) of
    ``options``: its named quality level's, or those of its point on the
    scale (the benchmark's curves)."""
    if options.level is None:
        return SETTINGS[options.quality], HOLD_LEVELS[options.quality]
    best = SETTINGS["best"]
    method = best.method if options.level >= best.quality else SETTINGS["balanced"].method
    qualities, holds = zip(*LEVEL_HOLDS, strict=True)
    hold = round(float(np.interp(options.level, qualities, holds)))
    return libwebp.Config(quality=options.level, method=method, sns_strength=100), hold


# Where frames differ a lot from one to the next (film sampled a second
# apart, unlike film at its own rate or a screen recording), most blocks are
# repainted anyway and what is held costs SSIM for no bytes saved. A run
# whose first frames change that much (the median over its first three
# steps, so one scene cut does not decide) is coded whole, frame by frame.
# The figures behind the threshold: docs/encoding.md, "What a frame codes".
KEY_FRAME_CHANGE = 8.0  # mean absolute change a pixel, levels of 255
KEY_FRAME_STEPS = 3
# The default adapts to the footage (``adapted``; docs/encoding.md,
# "Adaptive default"). A run coded whole saves nothing by holding blocks,
# so each frame pays for every block: libwebp's quality this much lower
# gives it the SSIM of libwebp's own animation at the named level's
# quality, for fewer bytes (measured on the fast pan and on film sampled a
# second apart). A point on the scale (``EncodeOptions.level``) keeps its
# quality.
WHOLE_QUALITY_DROP = 7
# On noisy footage (``Look.noisy``, pipeline/look.py), a block is held until some pixel
# moved at least this much: at the named levels' holds the noise alone
# repaints most blocks, each with a fresh noisy sample.
NOISY_HOLD = 12
# On camera footage with almost no noise (smooth, or scaled down a lot), a
# block is repainted once a pixel moved this much, if the named level holds
# longer: there is little flicker for the hold to absorb, and what moves a
# pixel is the picture (the portrait clip: +0.0062 SSIM, +11% bytes).
# Clean footage keeps the named level's hold: its flat areas flicker only
# by the video codec's few levels, which is what the hold is for (the test
# card at a hold of 6: 6.7% more bytes and 0.006 less SSIM).
QUIET = 0.25
QUIET_HOLD = 6
# On camera footage (not ``Look.clean``), libwebp's loop filter at full
# strength (its default is 60): the strength is signalled, not coded, so
# the smoother blocks it decodes score a higher SSIM for the same bytes
# (BD-rate against ffmpeg's libwebp: the fast pan -4.2% to -8.1%, the
# reference clip -8.9% to -9.8%; every camera clip but the talking head
# gained; docs/encoding.md). On clean footage it blurs hard edges a
# little (the screen and the test card lost 0.0004 SSIM), so that keeps
# the default. A first frame that says nothing (``Look()``) is filtered:
# it is most often a film's fade from black (the reference clip, whose
# next frame is a clean title card: judged by that, -9.4%).
CAMERA_FILTER_STRENGTH = 100


def adapted(
    config: libwebp.Config, hold: int, whole: bool, seen: Look, options: EncodeOptions
) -> tuple[libwebp.Config, int]:
    """libwebp's settings and the hold level for a run that is coded whole
    or not and looks as ``seen`` says."""
    if whole and options.level is None:
        config = replace(config, quality=config.quality - WHOLE_QUALITY_DROP)
    if not seen.clean:
        config = replace(config, filter_strength=CAMERA_FILTER_STRENGTH)
    if seen.noisy:
        hold = max(hold, NOISY_HOLD)
    elif seen.noise < QUIET and not seen.clean:
        hold = min(hold, QUIET_HOLD)
    return config, hold


# Fewer frames than this per run and a key frame costs more than time saved.
MIN_RUN_FRAMES = 8
CPUS = os.cpu_count() or 1


def parts(frame_count: int, alpha: bool) -> int:
    """How many runs to encode side by side."""
    if alpha or not libwebp.available():
        return 1
    return max(1, min(CPUS, frame_count // MIN_RUN_FRAMES))


def encode(frames: Iterable[np.ndarray], options: EncodeOptions) -> Encoded:
    """Encode RGB or RGBA frames to an animated WebP (alpha kept)."""
    return encode_runs([frames], options)


def encode_runs(runs: Sequence[Frames], options: EncodeOptions) -> Encoded:
    """Encode consecutive runs of frames, side by side, into one animation.
    Every run after the first starts with an *overlap*, a copy of the last
    frame of the run before it (see ``webpfile.join``), which is not output
    twice."""
    config, _ = settings(options)
    if not libwebp.available():
        return _encode_public(itertools.chain.from_iterable(runs), options, config)
    done = _encode_side_by_side(runs, options, config)
    if done[0] is None:
        raise ValueError("no frames to encode")
    if len(done) == 1:
        data, count, alpha = done[0]
    else:
        if any(d[2] for d in done if d is not None):
            raise ValueError("runs of frames with alpha cannot be joined")
        # A later run that holds only its overlap (the source ended before
        # the run began) adds nothing.
        parts = [(d[0], d[1], n > 0) for n, d in enumerate(done) if d and (n == 0 or d[1] > 1)]
        count = sum(frames - overlap for _, frames, overlap in parts)
        data = parts[0][0] if len(parts) == 1 else webpfile.join(parts, options.frame_duration_ms)
        alpha = False
    durations = spread_durations(count, options.frame_duration_ms, 1)
    return Encoded(webpfile.mark_alpha(data) if alpha else data, count, durations)


class _Stopped(Exception):
    """A run gave up because another run failed."""


def _encode_side_by_side(
    runs: Sequence[Frames], options: EncodeOptions, config: libwebp.Config
) -> list[tuple[bytes, int, bool] | None]:
    """Each run encoded in its own thread (see ``_encode_run``). When one run
    fails the others stop, and the first run's own error is raised, not the
    others' giving up."""
    if len(runs) == 1:
        return [_encode_run(runs[0], options, config)]
    failed = threading.Event()

    def encode_one(run: Frames) -> tuple[bytes, int, bool] | None:
        try:
            return _encode_run(run, options, config, failed)
        except BaseException:
            failed.set()
            raise

    with ThreadPoolExecutor(len(runs), thread_name_prefix="webp-run") as pool:
        futures = [pool.submit(encode_one, run) for run in runs]
    errors = [f.exception() for f in futures]
    for error in errors:
        if error is not None and not isinstance(error, _Stopped):
            raise error
    return [f.result() for f in futures]


def _encode_run(
    frames: Iterable[np.ndarray],
    options: EncodeOptions,
    config: libwebp.Config,
    stop: threading.Event | None = None,
) -> tuple[bytes, int, bool] | None:
    """One run as its own animation, frame j at round(j x frame ms): the file,
    its number of frames and whether any pixel is transparent; None if the run
    has no frames."""
    frames = iter(frames)
    head = list(itertools.islice(frames, KEY_FRAME_STEPS + 1))
    if not head:
        return None
    shape = head[0].shape

    def checked() -> Iterator[np.ndarray]:
        for frame in itertools.chain(head, frames):
            if stop is not None and stop.is_set():
                raise _Stopped()
            if frame.shape != shape:
                raise ValueError("all frames must have the same size")
            yield frame

    whole = _mostly_changed(head)
    config, hold = adapted(config, settings(options)[1], whole, look(head[0]), options)
    if shape[2] == 4 and not whole:
        return _encode_with_alpha(checked(), options, config)
    return _encode_pictures(checked(), -1 if whole else hold, options, config)


def _encode_pictures(
    frames: Iterator[np.ndarray], hold: int, options: EncodeOptions, config: libwebp.Config
) -> tuple[bytes, int, bool]:
    """Frames as still pictures, each coded as what it repaints (see
    ``_HeldBlocks``): the rectangle around the repainted blocks, with the held
    blocks inside it transparent, blended over the frame before; a frame that
    repaints nothing lengthens the one before. With a ``hold`` of -1, every
    frame is coded whole, which is the only way frames with alpha come here
    (a held block would misstate what their transparent pixels let through)."""
    pictures: list[webpfile.Picture] = []
    held = _HeldBlocks(hold)
    alpha = False
    count = 0
    spread = durations_spread(options.frame_duration_ms, 1)
    for frame in frames:
        duration = next(spread)
        count += 1
        alpha = alpha or (frame.shape[2] == 4 and bool((frame[..., 3] < 255).any()))
        painted = held.paint(frame)
        box = held.repainted_box()
        if box is None and pictures[-1].duration + duration < webpfile.MAX_24:
            pictures[-1].duration += duration
            continue
        if box is None:  # a still stretch past the 24-bit duration: a frame that paints nothing
            nothing = libwebp.encode_image(
                np.zeros((1, 1, 4), np.uint8), config
            )  # 1 x 1, transparent
            pictures.append(webpfile.Picture(nothing, 0, 0, 1, 1, duration, blend=True))
            continue
        top, bottom, left, right = box
        region = painted[top:bottom, left:right]
        held_inside = held.held_mask(box)
        if held_inside is not None:  # transparent where held
            region = np.dstack([region, np.where(held_inside, 0, 255).astype(np.uint8)])
        pictures.append(
            webpfile.Picture(
                libwebp.encode_image(region, config, options.order),
                left,
                top,
                right - left,
                bottom - top,
                duration,
                blend=held_inside is not None,
            )
        )
    height, width = painted.shape[:2]
    return webpfile.animation(pictures, (width, height), options.loop), count, alpha


def _encode_with_alpha(
    frames: Iterator[np.ndarray], options: EncodeOptions, config: libwebp.Config
) -> tuple[bytes, int, bool]:
    """RGBA frames coded as changes, through libwebp's animation encoder
    (transparent pixels show the canvas below, which only it tracks)."""
    alpha = False
    count = 0
    encoder: libwebp.AnimEncoder | None = None
    try:
        for frame in frames:
            alpha = alpha or bool((frame[..., 3] < 255).any())
            if encoder is None:
                encoder = libwebp.AnimEncoder(
                    frame.shape[1], frame.shape[0], options.loop, config, options.order
                )
            encoder.add(frame, round(count * options.frame_duration_ms))
            count += 1
        if encoder is None:
            raise ValueError("no frames to encode")
        return encoder.assemble(round(count * options.frame_duration_ms)), count, alpha
    finally:
        if encoder is not None:
            encoder.close()


class _HeldBlocks:
    """The picture as painted so far, in blocks of ``BLOCK`` x ``BLOCK``
    pixels: a block is repainted from the frame when any of its pixels has
    moved more than ``levels`` since the block was last painted (so a slow
    drift is repainted too, once it adds up), and held otherwise. The first
    frame paints every block; ``levels`` -1 repaints every block every time."""

    BLOCK = 16  # libwebp's macroblock

    def __init__(self, levels: int) -> None:
        self.levels = levels
        self.painted: np.ndarray | None = None  # padded to whole blocks
        self.frame: np.ndarray | None = None  # the frame, padded the same
        self.repainted = np.zeros((0, 0), bool)  # by the last frame, per block
        self.size = (0, 0)  # the last frame's height and width

    def paint(self, frame: np.ndarray) -> np.ndarray:
        """The frame as painted: a view of ``painted``, valid until the next call."""
        h, w, c = frame.shape
        b = self.BLOCK
        self.size = (h, w)
        if self.painted is None or self.frame is None or self.levels < 0:
            padded = (-(-h // b) * b, -(-w // b) * b, c)
            if self.painted is None or self.frame is None:
                self.painted, self.frame = np.zeros(padded, np.uint8), np.zeros(padded, np.uint8)
            self.painted[:h, :w] = frame
            self.repainted = np.ones((padded[0] // b, padded[1] // b), bool)
            return self.painted[:h, :w]
        ph, pw = self.painted.shape[:2]
        self.frame[:h, :w] = frame
        moved = np.maximum(self.frame, self.painted)
        moved -= np.minimum(self.frame, self.painted)  # |a - b| in uint8
        # Rows of blocks, then blocks (a row of a block is b x c bytes).
        rows = moved.reshape(ph // b, b, pw * c).max(axis=1)
        repaint = rows.reshape(ph // b, pw // b, b * c).max(axis=2) > self.levels
        if repaint.all():
            self.painted[...] = self.frame
        elif repaint.any():
            where = np.repeat(np.repeat(repaint, b, axis=0), b * c, axis=1)
            np.copyto(self.painted.reshape(ph, pw * c), self.frame.reshape(ph, pw * c), where=where)
        self.repainted = repaint
        return self.painted[:h, :w]

    def repainted_box(self) -> tuple[int, int, int, int] | None:
        """(top, bottom, left, right) in pixels around the blocks the last
        frame repainted, within the picture; None if it repainted none."""
        rows = np.flatnonzero(self.repainted.any(axis=1))
        if rows.size == 0:
            return None
        cols = np.flatnonzero(self.repainted[rows[0] : rows[-1] + 1].any(axis=0))
        b, (h, w) = self.BLOCK, self.size
        return (
            int(rows[0]) * b,
            min(h, int(rows[-1] + 1) * b),
            int(cols[0]) * b,
            min(w, int(cols[-1] + 1) * b),
        )

    def held_mask(self, box: tuple[int, int, int, int]) -> np.ndarray | None:
        """Per pixel of ``box``, whether the last frame held it; None if it
        repainted the whole box."""
        top, bottom, left, right = box
        b = self.BLOCK
        blocks = self.repainted[top // b : -(-bottom // b), left // b : -(-right // b)]
        if blocks.all():
            return None
        pixels = np.repeat(np.repeat(~blocks, b, axis=0), b, axis=1)
        return pixels[: bottom - top, : right - left]


def _mostly_changed(frames: list[np.ndarray]) -> bool:
    """Whether the frames change a lot from one to the next (every other
    pixel and row is enough to tell)."""
    steps = [
        np.abs(a[::2, ::2].astype(np.int16) - b[::2, ::2]).mean()
        for a, b in itertools.pairwise(frames)
        if a.shape == b.shape
    ]
    return bool(steps) and float(np.median(steps)) > KEY_FRAME_CHANGE


def _as_rgb(frame: np.ndarray, order: str) -> np.ndarray:
    return frame if order == "rgb" else frame[..., [2, 1, 0, 3][: frame.shape[2]]]


def _encode_public(
    frames: Iterable[np.ndarray], options: EncodeOptions, config: libwebp.Config
) -> Encoded:
    images = [Image.fromarray(np.ascontiguousarray(_as_rgb(f, options.order))) for f in frames]
    if not images:
        raise ValueError("no frames to encode")
    durations = spread_durations(len(images), options.frame_duration_ms, 1)
    buf = io.BytesIO()
    images[0].save(
        buf,
        "WEBP",
        save_all=True,
        append_images=images[1:],
        duration=durations,
        loop=options.loop,
        quality=config.quality,
        method=config.method,
        kmin=libwebp.NO_KEYFRAMES - 1,
        kmax=libwebp.NO_KEYFRAMES,
    )
    return Encoded(buf.getvalue(), len(images), durations)


# libwebp takes BGR as readily as RGB, and ffmpeg makes BGR faster (see
# ``encoding.Order``; docs/encoding.md, "Channel order").
# WEBP_MAX_DIMENSION: libwebp refuses to encode a larger picture.
MAX_SIDE = 16383
ENCODER = Encoder(encode_runs, parts, order="bgr", max_side=MAX_SIDE, name="WebP")
