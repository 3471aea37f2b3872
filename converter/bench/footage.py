"""Kinds of footage the first workloads lack, made by the benchmark: from
Big Buck Bunny (``../shared/media``, or testsrc2 where it is missing)
through ffmpeg filters, or drawn here. Each is a real encoded clip (H.264,
yuv420p) that the tools read as they would a user's file.

- ``film``: black and white with grain, pillarboxed 4:3 in 16:9;
- ``flat``: animation in flat colours with hard outlines;
- ``portrait``: a phone's portrait video, coded landscape with a 90-degree
  display rotation;
- ``lowlight``: dark, desaturated and noisy, as a small sensor at night;
- ``pan``: a fast camera pan across the picture;
- ``slideshow``: stills held 2.5 s each, with hard cuts;
- ``talking``: a webcam-style talking head, still background, sensor noise.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from converter.bench.paths import MEDIA_DIR, ffmpeg_exe

BBB = MEDIA_DIR / "big_buck_bunny_0_30.webm"
# Past the opening titles and sky: the bunny, the trees, things moving.
BBB_START = 10
X264 = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p"]


def _ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-nostdin", *args], check=True)


def _from_bbb(out: Path, filters: str, seconds: int = 6) -> None:
    """``seconds`` of Big Buck Bunny from ``BBB_START`` (or of testsrc2)
    through ``filters``."""
    source = (
        ["-ss", str(BBB_START), "-i", str(BBB)]
        if BBB.exists()
        else ["-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=24:duration=20"]
    )
    _ffmpeg(*source, "-t", str(seconds), "-an", "-vf", filters, *X264, str(out))


def make_film(out: Path) -> None:
    _from_bbb(
        out,
        "format=gray,scale=960:720,pad=1280:720:160:0:black,noise=alls=22:allf=t+u,format=yuv420p",
    )


def make_lowlight(out: Path) -> None:
    _from_bbb(
        out,
        "eq=brightness=-0.3:contrast=0.7:saturation=0.5:gamma=0.75,"
        "noise=c0s=26:c1s=12:c2s=12:allf=t+u,format=yuv420p",
    )


def make_pan(out: Path) -> None:
    # Twice the frame, 1280 px of it in view, swinging across it at up to
    # 700 px a second.
    _from_bbb(out, "scale=2560:1440,crop=1280:720:x='640+640*sin(t*1.1)':y=360")


def make_slideshow(out: Path) -> None:
    _from_bbb(out, "framestep=60,setpts=N*2.5/TB,fps=24", seconds=12)


def make_portrait(out: Path) -> None:
    """720x1280 upright: coded as 1280x720, turned by the display matrix."""
    coded = out.with_name(out.stem + "-coded.mp4")
    # A portrait window of the film, coded lying on its side.
    _from_bbb(coded, "crop=405:720:440:0,scale=720:1280,setsar=1,transpose=2")
    _ffmpeg("-display_rotation", "90", "-i", str(coded), "-c", "copy", str(out))
    coded.unlink()


def _encode_frames(
    out: Path, frames: Iterator[np.ndarray], size: tuple[int, int], fps: int
) -> None:
    w, h = size
    raw = ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", str(fps), "-i", "-"]
    proc = subprocess.Popen(
        [ffmpeg_exe(), "-v", "error", "-y", *raw, *X264, str(out)], stdin=subprocess.PIPE
    )
    if proc.stdin is None:  # never: stdin=PIPE; this tells the type checker
        raise RuntimeError("no pipe to ffmpeg")
    for frame in frames:
        proc.stdin.write(frame.tobytes())
    proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError(f"ffmpeg failed to make {out.name}")


def _disc(f: np.ndarray, cy: float, cx: float, r: float, colour: tuple[int, ...]) -> None:
    yy, xx = np.ogrid[: f.shape[0], : f.shape[1]]
    f[(yy - cy) ** 2 + (xx - cx) ** 2 <= r * r] = colour


def make_flat(out: Path, width: int = 960, height: int = 540, fps: int = 24) -> None:
    """Cartoon-like: flat sky, hills and sun; outlined shapes bouncing and
    sliding across, each one colour, no gradients, no noise."""
    _encode_frames(out, _flat_frames(width, height, fps, 8), (width, height), fps)


def _flat_frames(width: int, height: int, fps: int, seconds: int) -> Iterator[np.ndarray]:
    sky = np.zeros((height, width, 3), np.uint8)
    sky[:] = (120, 190, 240)
    yy, xx = np.ogrid[:height, :width]
    hills = yy > height * 0.62 + 40 * np.sin(xx / 90)
    sky[hills] = (90, 170, 70)
    _disc(sky, 90, width - 140, 50, (255, 215, 60))
    for k in range(fps * seconds):
        t = k / fps
        f = sky.copy()
        x = (t * 180) % (width + 200) - 100
        y = height * 0.55 - abs(np.sin(t * 3)) * 160
        _disc(f, y, x, 46, (30, 30, 30))  # the outline, then the fill
        _disc(f, y, x, 40, (230, 70, 60))
        bx = width - (t * 120) % (width + 240)
        f[300:380, int(max(0, bx)) : int(max(0, bx + 150))] = (40, 40, 40)
        f[306:374, int(max(0, bx + 6)) : int(max(0, bx + 144))] = (250, 250, 245)
        yield f


def make_talking(out: Path, width: int = 640, height: int = 480, fps: int = 30) -> None:
    """A head and shoulders before a still room: the head sways a little,
    the mouth opens and closes, the eyes blink; a webcam's noise over all."""
    _encode_frames(out, _talking_frames(width, height, fps, 8), (width, height), fps)


def _talking_frames(width: int, height: int, fps: int, seconds: int) -> Iterator[np.ndarray]:
    rng = np.random.default_rng(11)
    room = np.zeros((height, width, 3), np.float32)
    room[:] = np.linspace(150, 95, width)[None, :, None] * np.array([1.0, 0.92, 0.8])
    room[: height // 3, 60:200] = (200, 200, 190)  # a window
    room[height // 2 :, 420:600] = (110, 80, 60)  # a shelf
    yy, xx = np.ogrid[:height, :width]
    for k in range(fps * seconds):
        t = k / fps
        f = room.copy()
        cx = width / 2 + 14 * np.sin(t * 1.3)
        cy = height * 0.42 + 5 * np.sin(t * 2.1)
        body = (yy - height * 1.05) ** 2 / 260**2 + (xx - cx) ** 2 / 230**2 <= 1
        f[body] = (50, 70, 120)
        head = (yy - cy) ** 2 / 120**2 + (xx - cx) ** 2 / 92**2 <= 1
        shade = 0.85 + 0.15 * np.clip((cx - xx) / 92, -1, 1)
        skin = np.array([222, 178, 150], np.float32)
        f[head] = skin[None, :] * np.broadcast_to(shade, head.shape)[head][:, None]
        f[(yy - (cy - 95)) ** 2 / 50**2 + (xx - cx) ** 2 / 95**2 <= 1] = (60, 40, 30)  # hair
        if (k // 4) % 30 != 0:  # open eyes, but for a blink now and then
            for ex in (cx - 34, cx + 34):
                f[(yy - (cy - 20)) ** 2 / 7**2 + (xx - ex) ** 2 / 12**2 <= 1] = (40, 30, 30)
        mouth = 4 + 12 * abs(np.sin(t * 7)) * (np.sin(t * 0.9) > -0.3)
        f[(yy - (cy + 48)) ** 2 / mouth**2 + (xx - cx) ** 2 / 26**2 <= 1] = (120, 40, 50)
        f += rng.normal(0, 5, f.shape).astype(np.float32)  # the sensor's noise
        yield np.clip(f, 0, 255).astype(np.uint8)


MAKERS = {
    "film": make_film,
    "flat": make_flat,
    "portrait": make_portrait,
    "lowlight": make_lowlight,
    "pan": make_pan,
    "slideshow": make_slideshow,
    "talking": make_talking,
}
