"""How close an animation is to its source: SSIM, and the frames of an
encoded animation as a viewer sees them (what ``fit`` scores its candidates
on). The benchmark and the tests score with this same ``ssim``."""

from __future__ import annotations

import bisect
import io
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageSequence


def ssim(a: np.ndarray, b: np.ndarray, win: int = 7) -> float:
    """skimage.metrics.structural_similarity(a, b, channel_axis=2, data_range=255),
    without scikit-image.

    ``../shared/bench/animq.py`` calls it with those arguments: a 7x7 uniform
    window, sample covariance, K1=0.01, K2=0.03, the mean over windows wholly
    inside the image, averaged over the channels (checked against
    scikit-image 0.26 to 1e-9).
    """
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    norm = win * win / (win * win - 1)

    area = win * win

    def box(x: np.ndarray) -> np.ndarray:
        c = np.pad(np.cumsum(np.cumsum(x, 0), 1), ((1, 0), (1, 0)))
        mean: np.ndarray = (
            c[win:, win:] - c[:-win, win:] - c[win:, :-win] + c[:-win, :-win]
        ) / area
        return mean

    out = []
    for ch in range(a.shape[2]):
        x, y = a[..., ch].astype(np.float64), b[..., ch].astype(np.float64)
        ux, uy = box(x), box(y)
        vx, vy = norm * (box(x * x) - ux * ux), norm * (box(y * y) - uy * uy)
        vxy = norm * (box(x * y) - ux * uy)
        s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
        out.append(s.mean())
    return float(np.mean(out))


def shown_frames(data: bytes, fmt: str) -> list[tuple[float, np.ndarray]]:
    """Every frame of an encoded animation as displayed (composited on
    black), RGB, with the time it starts (ms): Pillow for GIF, WebP and
    AVIF, PyAV for an MP4. A WebP keeps a still stretch as one longer
    frame, so the times are not always evenly spaced."""
    if fmt == "mp4":
        import av  # the MP4 decoder; only an MP4 candidate needs it

        with av.open(io.BytesIO(data), mode="r") as video:
            return [
                (1000.0 * float(f.time or 0.0), f.to_ndarray(format="rgb24"))
                for f in video.decode(video=0)
            ]
    shown = []
    at = 0.0
    with Image.open(io.BytesIO(data)) as image:
        for frame in ImageSequence.Iterator(image):
            frame.load()  # WebP sets a frame's duration when it is loaded
            rgba = frame.convert("RGBA")
            black = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
            shown.append((at, np.asarray(Image.alpha_composite(black, rgba).convert("RGB"))))
            at += float(frame.info.get("duration") or 0)
    return shown


def held_ssim(
    reference: Sequence[np.ndarray],
    times_ms: Sequence[float],
    shown: Sequence[tuple[float, np.ndarray]],
) -> float:
    """The mean SSIM, over the reference's frames (the source's picture at
    ``times_ms`` of the animation's clock), of the frame the animation
    shows at that time (``shown_frames``), scaled to the reference's size.
    A lower frame rate or a smaller picture is judged on what a viewer
    loses by it: motion held still, detail blurred."""
    if not reference or not shown:
        return 0.0
    starts = [start for start, _ in shown]
    h, w = reference[0].shape[:2]
    scores = []
    for ref, t in zip(reference, times_ms, strict=True):
        j = max(0, bisect.bisect_right(starts, t + 1e-3) - 1)
        frame = shown[j][1]
        if frame.shape[:2] != (h, w):
            frame = np.asarray(Image.fromarray(frame).resize((w, h), Image.Resampling.BICUBIC))
        scores.append(ssim(ref[..., :3], frame[..., :3]))
    return float(np.mean(scores))
