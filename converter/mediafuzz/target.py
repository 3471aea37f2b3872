"""What a case runs: the worker's own steps on a source file, the probe and
then (when the probe accepts it) one small animation.

A target is any function ``(path, format) -> str`` that returns a line
describing its success and raises on failure; the runner names it by
``module:function`` (``--target``), so the isolated probe can be put in its
place without touching the rest.
"""

from __future__ import annotations

from pathlib import Path

from ..pipeline.convert import convert, reads_key_frames
from ..pipeline.limits import Limits
from ..pipeline.probe import probe
from ..spec import AnimationSpec

# The product's limits, but a wall time that suits a clip of 10 frames: a
# conversion that would need more is stopped (Timeout) rather than waited for.
LIMITS = Limits(task_timeout_s=20.0)
MAGIC = {"gif": (b"GIF8",), "webp": (b"RIFF",)}


def probe_and_convert(path: Path, fmt: str) -> str:
    """Probe ``path`` as the worker does, then make a 32-pixel-wide
    animation of its first four tenths of a second."""
    info = probe(path, LIMITS, key_frames=reads_key_frames([fmt]))
    spec = AnimationSpec.create(format=fmt, interval=0.1, frame_rate=10.0, width=32.0, number=4)
    result = convert(path, info, spec, limits=LIMITS)
    if not result.data.startswith(MAGIC[fmt]) or result.frames < 1:
        raise AssertionError(f"a {fmt} was made, but it is not one: {result.data[:16]!r}")
    made = f"{result.frames} frames {result.width}x{result.height}"
    return f"{made} from {info.codec} {info.width}x{info.height}"
