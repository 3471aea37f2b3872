"""The valid clips the fuzzer mutates: one of every container (and its usual
codec) the product accepts, as small as they can be (64x48, 10 frames at
25 fps, a few KB) so that a mutation lands in a header often and every case
converts in a few hundredths of a second.

Made by the pipeline's own ffmpeg with one thread, so the same build makes
the same bytes and a case number names the same file on every machine; the
report gives each seed's digest to check that.
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..pipeline import ffmpeg

SIZE, RATE, SECONDS = "64x48", 25, 0.4
X264 = ("-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-g", "5")


@dataclass(frozen=True)
class Seed:
    filename: str
    args: tuple[str, ...]  # ffmpeg output options
    families: tuple[str, ...]  # the ``structure`` locators (and "h264") that apply
    audio: str = ""  # an audio codec to mux a tone with, as real files have
    size: str = SIZE


SEEDS: dict[str, Seed] = {
    "mp4-h264": Seed("h264.mp4", X264, ("mp4", "h264"), audio="aac"),
    "mov-h264": Seed("h264.mov", (*X264, "-movflags", "+faststart"), ("mp4", "h264")),
    "mp4-h265": Seed(
        "h265.mp4",
        (
            "-c:v",
            "libx265",
            "-preset",
            "ultrafast",
            "-x265-params",
            "log-level=error:pools=1",
            "-tag:v",
            "hvc1",
            "-pix_fmt",
            "yuv420p",
        ),
        ("mp4",),
    ),
    "3gp-h263": Seed("h263.3gp", ("-c:v", "h263", "-q:v", "8", "-g", "5"), ("mp4",), size="128x96"),
    "mkv-h264": Seed("h264.mkv", X264, ("ebml", "h264"), audio="libopus"),
    "webm-vp8": Seed(
        "vp8.webm",
        ("-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "200k", "-g", "5"),
        ("ebml",),
    ),
    "avi-mjpeg": Seed(
        "mjpeg.avi",
        ("-c:v", "mjpeg", "-q:v", "5", "-pix_fmt", "yuvj420p"),
        ("riff", "jpeg"),
        audio="pcm_u8",
    ),
    "avi-mpeg4": Seed(
        "mpeg4.avi", ("-c:v", "mpeg4", "-vtag", "xvid", "-q:v", "5", "-g", "5"), ("riff",)
    ),
    "flv-flv1": Seed("flv1.flv", ("-c:v", "flv", "-q:v", "5", "-g", "5"), ("flv",)),
    "flv-h264": Seed("h264.flv", X264, ("flv", "h264"), audio="aac"),
    "ts-h264": Seed("h264.ts", (*X264, "-f", "mpegts"), ("mpegts", "h264"), audio="aac"),
    "vob-mpeg2": Seed(
        "mpeg2.vob",
        ("-c:v", "mpeg2video", "-q:v", "5", "-g", "5", "-f", "vob"),
        ("mpegps",),
        audio="mp2",
    ),
    "mpg-mpeg1": Seed(
        "mpeg1.mpg", ("-c:v", "mpeg1video", "-q:v", "5", "-g", "5", "-f", "mpeg"), ("mpegps",)
    ),
    "wmv-wmv2": Seed("wmv2.wmv", ("-c:v", "wmv2", "-q:v", "5", "-g", "5"), ("asf",), audio="wmav2"),
    "rm-rv10": Seed("rv10.rm", ("-c:v", "rv10", "-q:v", "5", "-g", "5"), ("rm",)),
}


def _command(seed: Seed, path: Path) -> list[str]:
    picture = f"testsrc2=size={seed.size}:rate={RATE}:duration={SECONDS}"
    cmd = [ffmpeg.executable(), "-nostdin", "-v", "error", "-y", "-threads", "1"]
    cmd += ["-f", "lavfi", "-i", picture]
    if seed.audio:
        cmd += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={SECONDS}:sample_rate=16000"]
        cmd += ["-c:a", seed.audio, "-ac", "1"]
        if seed.audio == "libopus":
            cmd += ["-ar", "16000"]
    cmd += [*seed.args, "-threads", "1", "-bitexact", "-map_metadata", "-1", str(path)]
    return cmd


def make(folder: Path, kinds: list[str] | None = None) -> dict[str, bytes]:
    """The seed clips (all, or ``kinds``), made in ``folder`` unless there."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for kind in kinds or list(SEEDS):
        seed = SEEDS[kind]
        path = folder / seed.filename
        if not path.exists():
            partial = path.with_suffix(".partial" + path.suffix)
            subprocess.run(_command(seed, partial), check=True, timeout=120)
            partial.rename(path)
        out[kind] = path.read_bytes()
    return out


def digests(seeds: Mapping[str, bytes]) -> dict[str, str]:
    """The first 12 hex digits of each seed's SHA-256."""
    return {kind: hashlib.sha256(data).hexdigest()[:12] for kind, data in seeds.items()}
