"""Animated WebP through libwebp's animation encoder (the libwebp Pillow ships).

Frames go into the encoder one at a time as they are sampled, so only one frame
is held per encoder. Key frames are left to libwebp, as ``gif2webp`` and ffmpeg
do: each frame is coded as the rectangle that changed whenever that is smaller
(Pillow's own ``save`` forces a key frame every 5 frames: 57% more bytes on the
screen clip).

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
    encoder = None
    shape = None
    alpha = False
    count = 0
    try:
        for frame in frames:
            if stop is not None and stop.is_set():
                raise _Stopped()
            if encoder is None:
                shape = frame.shape
                encoder = libwebp.AnimEncoder(frame.shape[1], frame.shape[0], options.loop, config)
            elif frame.shape != shape:
                raise ValueError("all frames must have the same size")
            alpha = alpha or (frame.shape[2] == 4 and bool((frame[..., 3] < 255).any()))
            encoder.add(frame, round(count * options.frame_duration_ms))
            count += 1
        if encoder is None:
            return None
        return encoder.assemble(round(count * options.frame_duration_ms)), count, alpha
    finally:
        if encoder is not None:
            encoder.close()


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
