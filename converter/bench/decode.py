"""An animation decoded into the frames a viewer sees: one decoder for the
benchmark and the tests alike, so both judge the same pixels."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageSequence


@dataclass(frozen=True)
class Animation:
    format: str  # as Pillow names it: "GIF", "WEBP"
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
    transparency comes out RGBA and any other RGB."""
    with Image.open(io.BytesIO(data) if isinstance(data, bytes) else data) as image:
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
