"""Hostile media made in code: playlists, scripts, spoofed tags, truncations,
bombs. Each helper writes into a folder the test owns."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.media import FFMPEG, ffmpeg


def hls_playlist(*segments: str) -> bytes:
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:2", "#EXT-X-MEDIA-SEQUENCE:0"]
    for segment in segments:
        lines += ["#EXTINF:2.0,", segment]
    return "\n".join([*lines, "#EXT-X-ENDLIST", ""]).encode()


def ffconcat(*files: str) -> bytes:
    return ("ffconcat version 1.0\n" + "".join(f"file '{f}'\n" for f in files)).encode()


def ts_clip(path: Path) -> Path:
    """A small MPEG-TS clip, the kind a playlist references."""
    if not path.exists():
        ffmpeg(
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x120:rate=10:duration=2",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-f",
            "mpegts",
            str(path),
        )
    return path


def spoofed_geometry_mkv(path: Path) -> Path:
    """A 160x120 Matroska file whose tag name writes a fake ``Stream`` line
    (16000x16000 at 1000 fps) into ffmpeg's human-readable log. ffmpeg's muxer
    upper-cases tag names, so a placeholder of the same length is patched."""
    fake = (
        "A\n  Stream #0:0: Video: h264 (High), yuv420p(progressive), 16000x16000 "
        "[SAR 1:1 DAR 1:1], 1000 fps, 1000 tbr, 1k tbn (default)\n"
    )
    placeholder = "Q" * len(fake)
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=160x120:rate=10:duration=2",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-write_crc32",
        "0",
        "-metadata",
        f"{placeholder}=1",
        str(path),
    )
    data = path.read_bytes()
    assert data.count(placeholder.encode()) == 1
    path.write_bytes(data.replace(placeholder.encode(), fake.encode()))
    return path


def ffmpeg_log(path: Path) -> str:
    return subprocess.run(
        [FFMPEG, "-hide_banner", "-i", str(path)], capture_output=True, text=True
    ).stderr


def audio_with_cover_art(path: Path, audio: Path, png: Path) -> Path:
    ffmpeg(
        "-i",
        str(audio),
        "-i",
        str(png),
        "-map",
        "0:a",
        "-map",
        "1:v",
        "-c:a",
        "copy",
        "-c:v",
        "png",
        "-disposition:v",
        "attached_pic",
        "-id3v2_version",
        "3",
        str(path),
    )
    return path


def png(path: Path, size: str = "64x48") -> Path:
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=size={size}:duration=1", "-frames:v", "1", str(path))
    return path


def faststart_mp4(path: Path, seconds: int = 10, fps: int = 10) -> Path:
    """Moving picture, moov first, a keyframe every second."""
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        f"testsrc2=size=160x120:rate={fps}:duration={seconds}",
        "-c:v",
        "libx264",
        "-g",
        str(fps),
        "-preset",
        "veryfast",
        "-pix_fmt",
        "yuv420p",
        "-movflags",
        "+faststart",
        str(path),
    )
    return path


def moov_at_end_mp4(path: Path) -> Path:
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=160x120:rate=10:duration=4",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-pix_fmt",
        "yuv420p",
        str(path),
    )
    return path


def truncated(src: Path, dst: Path, fraction: float) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * fraction)])
    return dst


def sparse_timestamps_mkv(path: Path, gap_s: int = 86400) -> Path:
    """Two frames a day apart: a tiny file that claims a very long duration."""
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=64x48:rate=1:duration=2",
        "-vf",
        f"setpts=N*{gap_s}/TB",
        "-fps_mode",
        "passthrough",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        str(path),
    )
    return path


def cinepak_avi(path: Path) -> Path:
    """A real video in a codec outside our list (Cinepak, 1991), in a container
    we read."""
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=160x120:rate=10:duration=1",
        "-c:v",
        "cinepak",
        str(path),
    )
    return path


def mkv_with_sound(path: Path, video: Path) -> Path:
    """``video``'s H.264 stream and an AAC tone in Matroska (whose codec IDs are
    plain strings: ``V_MPEG4/ISO/AVC``, ``A_AAC``)."""
    ffmpeg(
        "-i",
        str(video),
        "-f",
        "lavfi",
        "-i",
        "sine=duration=1",
        "-map",
        "0:v",
        "-map",
        "1:a",
        "-c:v",
        "copy",
        "-c:a",
        "aac",
        "-shortest",
        str(path),
    )
    return path


def with_bytes_replaced(src: Path, dst: Path, old: bytes, new: bytes) -> Path:
    """A copy of ``src`` with ``old`` (found exactly once) replaced by ``new``
    of the same length."""
    data = src.read_bytes()
    assert data.count(old) == 1 and len(old) == len(new)
    dst.write_bytes(data.replace(old, new))
    return dst


def big_frames_mp4(path: Path, size: str, seconds: float = 1, fps: int = 5) -> Path:
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        f"color=c=gray:size={size}:rate={fps}:duration={seconds}",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        str(path),
    )
    return path


def _processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, executable) for every process we can see."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            exe = os.readlink(entry / "exe")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] == "Z":
            continue  # a zombie has already died
        table[int(entry.name)] = (int(fields[1]), exe)
    return table


def ffmpeg_descendants(root: int, executable: str = FFMPEG) -> list[int]:
    """Live ffmpeg processes (of ``executable``) below ``root`` in the
    process tree, the sandbox's included."""
    table = _processes()
    ffmpeg_exe = os.path.realpath(executable)
    found = []
    for pid, (_, exe) in table.items():
        if exe != ffmpeg_exe:
            continue
        parent = pid
        while parent in table and parent > 1:
            parent = table[parent][0]
            if parent == root:
                found.append(pid)
                break
    return found


def alive(pid: int) -> bool:
    table = _processes()
    return pid in table
