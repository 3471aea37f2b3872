"""Animated WebP through libwebp's animation encoder (the libwebp Pillow ships).

Frames go into the encoder one at a time as they are sampled, so only one frame
is held per encoder. Key frames are left to libwebp, as ``gif2webp`` and ffmpeg
do: each frame is coded as the rectangle that changed whenever that is smaller
(Pillow's own ``save`` forces a key frame every 5 frames: 57% more bytes on the
screen clip), except where most of the picture changes from frame to frame:
there every frame is a key frame (see ``KEY_FRAME_CHANGE``). Blocks that
barely move are held as painted before the encoder sees them (``HOLD_LEVELS``).

Opaque animations are encoded as consecutive runs side by side, one per CPU
(``parts``), each run by its own encoder from its own ffmpeg, and joined into
one file (``webpfile.join``). Each run after the first starts from the last
frame of the run before (sampled twice), so its frames are coded as changes
from that picture, as in one encode, rather than from a key frame.
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
from concurrent.futures import ThreadPoolExecutor
from typing import Iterable, Sequence

import numpy as np
from PIL import Image

from . import libwebp, webpfile
from .encoding import Encoded, EncodeOptions, Encoder, Frames, spread_durations

# Chosen with the benchmark (docs/encoding.md).
SETTINGS: dict[str, libwebp.Config] = {
    "low": libwebp.Config(quality=60, method=4, sns_strength=100),
    "balanced": libwebp.Config(quality=73, method=4, sns_strength=100),
    "best": libwebp.Config(quality=88, method=5, sns_strength=100),
}

# A block of the picture is held as it was last painted until some pixel in
# it has moved more than this many levels (of 255) since: the source's own
# noise (a video codec's flicker on still areas) then costs no bytes and is
# not coded again, lossily, over and over. libwebp holds only what is within
# about 5 levels at quality 73 (8 at 60, 3 at 88), and only at the edges of
# the changed rectangle and in 8x8 blocks inside it. Measured with the
# benchmark (docs/encoding.md), balanced: full HD (still bars, moving
# counters) -3.2% bytes at SSIM +0.003, the social clip (film at 15 fps)
# -2.7% bytes at SSIM +0.0006, the screen clip -1.3%; low: film SSIM +0.012
# at -3% bytes. Frames coded whole (see below) are not held.
HOLD_LEVELS: dict[str, int] = {"low": 12, "balanced": 7, "best": 4}

# libwebp codes each frame as the rectangle that changed, and inside it leaves
# transparent the pixels within a tolerance of the frame before (about 5
# levels at quality 73), so that frame shows through. Where frames differ a
# lot from one to the next (film sampled a second apart: a mean change of
# 10-50 levels a pixel; film at 15 fps: 1-5, scene cuts aside; the screen
# clip: under 1), what shows through costs SSIM and saves little: at equal
# bytes the reference requests score 0.958 coded whole and 0.953 coded as
# changes. A run whose first frames change that much (the median over its
# first three steps, so one scene cut does not decide) is key frames only.
KEY_FRAME_CHANGE = 8.0  # mean absolute change a pixel, levels of 255
KEY_FRAME_STEPS = 3

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
    config = SETTINGS[options.quality]
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
    key_frames_only = _mostly_changed(head)
    stills: list[bytes] = []
    encoder = None if key_frames_only else libwebp.AnimEncoder(shape[1], shape[0], options.loop, config)
    held = _HeldBlocks(HOLD_LEVELS[options.quality])
    alpha = False
    count = 0
    try:
        for frame in itertools.chain(head, frames):
            if stop is not None and stop.is_set():
                raise _Stopped()
            if frame.shape != shape:
                raise ValueError("all frames must have the same size")
            alpha = alpha or (frame.shape[2] == 4 and bool((frame[..., 3] < 255).any()))
            if encoder is None:
                stills.append(libwebp.encode_image(frame, config))
            else:
                # Transparent pixels show the canvas below, which a held
                # block would misstate: frames with alpha go in as they are.
                painted = frame if frame.shape[2] == 4 else held.paint(frame)
                encoder.add(painted, round(count * options.frame_duration_ms))
            count += 1
        if encoder is None:
            durations = spread_durations(count, options.frame_duration_ms, 1)
            return webpfile.animation(stills, (shape[1], shape[0]), durations, options.loop), count, alpha
        return encoder.assemble(round(count * options.frame_duration_ms)), count, alpha
    finally:
        if encoder is not None:
            encoder.close()


class _HeldBlocks:
    """The picture as painted so far, in blocks of ``BLOCK`` x ``BLOCK``
    pixels: a block is repainted from the frame when any of its pixels has
    moved more than ``levels`` since the block was last painted (so a slow
    drift is repainted too, once it adds up), and held otherwise."""

    BLOCK = 16  # libwebp's macroblock

    def __init__(self, levels: int) -> None:
        self.levels = levels
        self.painted: np.ndarray | None = None  # padded to whole blocks
        self.frame: np.ndarray | None = None  # the frame, padded the same

    def paint(self, frame: np.ndarray) -> np.ndarray:
        """The frame as painted: a view of ``painted``, valid until the next call."""
        h, w, c = frame.shape
        b = self.BLOCK
        if self.painted is None:
            padded = (-(-h // b) * b, -(-w // b) * b, c)
            self.painted, self.frame = np.zeros(padded, np.uint8), np.zeros(padded, np.uint8)
            self.painted[:h, :w] = frame
            return self.painted[:h, :w]
        assert self.frame is not None
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
        return self.painted[:h, :w]


def _mostly_changed(frames: list[np.ndarray]) -> bool:
    """Whether the frames change a lot from one to the next (every other
    pixel and row is enough to tell)."""
    steps = [
        np.abs(a[::2, ::2].astype(np.int16) - b[::2, ::2]).mean()
        for a, b in zip(frames, frames[1:])
        if a.shape == b.shape
    ]
    return bool(steps) and float(np.median(steps)) > KEY_FRAME_CHANGE


def _encode_public(
    frames: Iterable[np.ndarray], options: EncodeOptions, config: libwebp.Config
) -> Encoded:
    images = [Image.fromarray(np.ascontiguousarray(f)) for f in frames]
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


ENCODER = Encoder(encode_runs, parts)
