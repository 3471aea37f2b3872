"""An animation decoded into the frames a viewer sees: one decoder for the
benchmark and the tests alike, so both judge the same pixels."""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageSequence


@dataclass(frozen=True)
class Animation:
    format: str  # as Pillow names it: "GIF", "WEBP", "AVIF"; "MP4" for a video
    size: tuple[int, int]  # width, height
    mode: str  # the first frame's, as Pillow opens it ("RGBA" for a WebP with alpha, "P"...)
    frames: list[np.ndarray]  # every frame as displayed (composited), in order
    durations: list[int]  # each frame's duration in ms (0 when the file gives none)
    info: dict[str, Any]  # the file's information at its first frame ("loop", ...)

    @property
    def loop(self) -> int:
        """The loop count the file carries: 0 = forever; a file without one plays once."""
        return int(self.info.get("loop", 1))


def decode(data: bytes | Path, mode: str | None = None) -> Animation:
    """Every frame of the animation in ``data`` (its bytes, or a path) as an
    array in ``mode`` ("RGB", "RGBA", ...). Without a mode, a frame with
    transparency comes out RGBA and any other RGB. An MP4 (which Pillow
    cannot open) is decoded by PyAV, its frames RGB (or ``mode``)."""
    raw = data if isinstance(data, bytes) else data.read_bytes()
    if _is_video(raw):
        return _decode_video(raw, mode or "RGB")
    with Image.open(io.BytesIO(raw)) as image:
        frames: list[np.ndarray] = []
        durations: list[int] = []
        for frame in ImageSequence.Iterator(image):
            frame.load()  # WebP sets a frame's duration when it is loaded
            durations.append(frame.info.get("duration", 0))
            shown = mode or ("RGBA" if frame.has_transparency_data else "RGB")
            frames.append(np.asarray(frame.convert(shown)))
        image.seek(0)
        return Animation(
            image.format or "", image.size, image.mode, frames, durations, dict(image.info)
        )


# ISO media brands of still and animated images (HEIF, AVIF), which Pillow opens.
IMAGE_BRANDS = (b"avif", b"avis", b"mif1", b"msf1", b"heic", b"heix")


def _is_video(data: bytes) -> bool:
    return data[4:8] == b"ftyp" and data[8:12] not in IMAGE_BRANDS


def _decode_video(data: bytes, mode: str) -> Animation:
    """An MP4's first video stream: every frame, each lasting until the next
    (the last as long as the file says)."""
    import av  # only the benchmark and the tests decode video

    with av.open(io.BytesIO(data), mode="r") as container:
        stream = container.streams.video[0]
        frames: list[np.ndarray] = []
        times: list[float] = []
        for frame in container.decode(stream):
            rgb = frame.to_ndarray(format="rgb24")
            frames.append(rgb if mode == "RGB" else np.asarray(Image.fromarray(rgb).convert(mode)))
            times.append(float(frame.time or 0.0))
        base = stream.time_base
        end = float(stream.duration * base) if stream.duration and base else times[-1]
        size = (stream.codec_context.width, stream.codec_context.height)
    edges = [*times, end]
    durations = [round(1000 * b) - round(1000 * a) for a, b in itertools.pairwise(edges)]
    return Animation("MP4", size, mode, frames, durations, {})
