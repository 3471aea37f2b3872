"""Muted H.264 MP4: what sharing sites play in place of a GIF.

The frames go raw into the bundled ffmpeg's stdin as they are sampled
(``ffmpeg.encode_raw``, in the sandbox) and libx264 codes them; the file is
written into a private folder, since ``-movflags +faststart`` (the index,
``moov``, before the pictures, ``mdat``, so playback starts before the
download ends) needs a file ffmpeg can seek back in.

- **Pixels.** yuv420p, the one layout every browser and phone decodes, High
  profile. 4:2:0 halves the chroma in both directions, so both sides must
  be even: an odd side is **padded** by one pixel on the right or bottom,
  repeating the last column or row (no black line, no resampling of the
  rest). The file is then one pixel wider or taller than the animation's
  planned size; nothing is scaled.
- **Time.** The frame rate is the exact rational ``1000 / frame_duration_ms``
  (``frame_rate``); the muxer's track time base is a multiple of it, so every
  frame lasts the same whole number of ticks and frame count x frame
  duration is the file's duration exactly.
- **No sound.** There is no audio track (``-an``): the source's sound never
  reaches the encoder anyway.
- **Alpha.** MP4 has none: frames with alpha are composited on black.
- **Loops.** MP4 cannot store a loop count; ``EncodeOptions.loop`` is
  ignored. A page loops the video with ``<video autoplay loop muted
  playsinline>``.

Quality levels are libx264 CRF values, chosen with the benchmark
(docs/encoding.md, "MP4 and AVIF"): SSIM against the source at or above our
GIF's in at most a fifth of its bytes.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from . import ffmpeg
from .encoding import Encoded, EncodeOptions, Encoder, Frames, spread_durations
from .limits import DEFAULT_LIMITS
from .workdir import private_folder


@dataclass(frozen=True)
class Mp4Settings:
    crf: int  # libx264's constant rate factor: lower is better and larger
    preset: str  # libx264's speed/size trade-off


# Chosen with the benchmark (docs/encoding.md, "MP4 and AVIF").
SETTINGS: dict[str, Mp4Settings] = {
    "low": Mp4Settings(crf=27, preset="slow"),
    "balanced": Mp4Settings(crf=22, preset="slow"),
    "best": Mp4Settings(crf=18, preset="slow"),
}

# The largest frame rate denominator kept exact: 1000 / frame_duration_ms of
# any FrameRate the spec accepts (0.01 to 50, at most two decimals) comes
# back to it within this.
MAX_RATE_DENOMINATOR = 1000
# H.264 level 5.1 and most hardware decoders (phones, browsers) stop at 4096
# pixels a side; a larger MP4 would not play where MP4 is wanted.
MAX_SIDE = 4096


def frame_rate(frame_duration_ms: float) -> Fraction:
    """The exact frame rate whose frames last ``frame_duration_ms``."""
    return (1000 / Fraction(frame_duration_ms)).limit_denominator(MAX_RATE_DENOMINATOR)


def even_size(width: int, height: int) -> tuple[int, int]:
    """The size of the MP4 made from frames of ``width`` x ``height``."""
    return width + width % 2, height + height % 2


def encode(frames: Frames, options: EncodeOptions, settings: Mp4Settings | None = None) -> Encoded:
    """Encode RGB(A) or BGR(A) frames (``options.order``) to a muted MP4,
    with ``settings`` or, by default, those of ``options.quality``."""
    return encode_runs([frames], options, settings)


def encode_runs(
    runs: Sequence[Frames], options: EncodeOptions, settings: Mp4Settings | None = None
) -> Encoded:
    """One MP4 from consecutive runs (the first frame of each later run
    repeats the one before and is dropped). libx264 uses every core on
    one run, so the pipeline asks for one."""
    frames = iter(_joined(runs))
    first = next(frames, None)
    if first is None:
        raise ValueError("no frames to encode")
    height, width = first.shape[:2]
    settings = settings or SETTINGS[options.quality]
    rate = frame_rate(options.frame_duration_ms)
    pixel_format = "bgr24" if options.order == "bgr" else "rgb24"
    args = ["-an", "-sn", "-dn", "-map_metadata", "-1"]
    args += ["-vf", _filters(width, height)]
    args += ["-c:v", "libx264", "-preset", settings.preset, "-crf", str(settings.crf)]
    args += ["-profile:v", "high", "-pix_fmt", "yuv420p"]
    args += ["-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709"]
    args += ["-color_range", "tv", "-movflags", "+faststart", "-f", "mp4"]
    with private_folder("work") as folder:
        output = folder / "out.mp4"
        count = ffmpeg.encode_raw(
            _opaque(itertools.chain([first], frames), (height, width)),
            size=(width, height),
            pixel_format=pixel_format,
            frame_rate=rate,
            output_args=args,
            output=output,
            timeout_s=DEFAULT_LIMITS.task_timeout_s,
            memory_bytes=DEFAULT_LIMITS.ffmpeg_memory_bytes,
        )
        data = output.read_bytes()
    durations = spread_durations(count, options.frame_duration_ms, 1)
    return Encoded(data, count, durations, size=even_size(width, height))


def _joined(runs: Sequence[Frames]) -> Iterator[np.ndarray]:
    for n, run in enumerate(runs):
        frames = iter(run)
        if n:
            next(frames, None)  # the overlap
        yield from frames


def _filters(width: int, height: int) -> str:
    """Pad to even sides (the new column or row a copy of its neighbour),
    then RGB to limited-range BT.709 YUV, which the file is tagged with:
    swscale's default matrix is BT.601, and players read untagged HD video
    as BT.709, so colours would shift."""
    w, h = even_size(width, height)
    pad = ""
    if (w, h) != (width, height):
        pad = f"pad={w}:{h}:0:0,fillborders=right={w - width}:bottom={h - height}:mode=smear,"
    return f"{pad}scale=out_color_matrix=bt709:out_range=tv,format=yuv420p,setsar=1"


def _opaque(frames: Iterator[np.ndarray], shape: tuple[int, int]) -> Iterator[np.ndarray]:
    """Three-channel frames: alpha composited on black."""
    for frame in frames:
        if frame.shape[:2] != shape:
            raise ValueError("all frames must have the same size")
        if frame.shape[2] == 4:
            alpha = frame[..., 3:].astype(np.uint16)
            frame = ((frame[..., :3] * alpha + 127) // 255).astype(np.uint8)
        yield frame


# ffmpeg makes BGR from a YUV video faster than RGB (``encoding.Order``), and
# takes either.
ENCODER = Encoder(encode_runs, order="bgr", max_side=MAX_SIDE, name="MP4")
