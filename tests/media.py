"""Test clips made with the bundled ffmpeg, once per session (a clone of the
project has no sample media). Every clip is small and takes well under a second
(AV1 about two)."""

from __future__ import annotations

import math
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import av
import imageio_ffmpeg
import numpy as np

from converter.pipeline.mpegts import without_sdt

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()

X264 = ("-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p")


def ffmpeg(*args: str) -> None:
    subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-y", *args], check=True)


def pattern(size: str = "320x240", fps: float = 25, duration: float = 2) -> tuple[str, ...]:
    """A moving, asymmetric colour test pattern as an ffmpeg input: any wrong
    frame, flip or rotation shows in SSIM."""
    return ("-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}:duration={duration}")


def tone(duration: float = 2, frequency: int = 440) -> tuple[str, ...]:
    return ("-f", "lavfi", "-i", f"sine=frequency={frequency}:duration={duration}")


@dataclass(frozen=True)
class Container:
    """One container/codec pair of the format matrix."""

    filename: str
    args: tuple[str, ...]  # ffmpeg output options after the inputs
    demuxer: str  # what the probe must report
    codecs: tuple[str, ...]  # decoder names the probe may report
    audio: bool = False  # mux a tone as well, as real files have


# Every container and codec the reference service lists, made by this ffmpeg.
# Quantisers are fine (-q:v 3) so the comparison measures us, not the codec.
CONTAINERS: dict[str, Container] = {
    "mp4-h264": Container("h264.mp4", (*X264, "-c:a", "aac"), "mov", ("h264",), audio=True),
    "mp4-h265": Container(
        "h265.mp4",
        (
            "-c:v",
            "libx265",
            "-preset",
            "ultrafast",
            "-x265-params",
            "log-level=error",
            "-tag:v",
            "hvc1",
            "-pix_fmt",
            "yuv420p",
        ),
        "mov",
        ("hevc",),
    ),
    "mov-h264": Container("h264.mov", (*X264, "-c:a", "aac"), "mov", ("h264",), audio=True),
    "mov-prores": Container(
        "prores.mov", ("-c:v", "prores_ks", "-profile:v", "0"), "mov", ("prores",)
    ),
    "mkv-h264": Container(
        "h264.mkv", (*X264, "-c:a", "libopus"), "matroska", ("h264",), audio=True
    ),
    "webm-vp8": Container(
        "vp8.webm",
        (
            "-c:v",
            "libvpx",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-b:v",
            "2M",
            "-c:a",
            "libopus",
        ),
        "matroska",
        ("vp8",),
        audio=True,
    ),
    "webm-vp9": Container(
        "vp9.webm",
        (
            "-c:v",
            "libvpx-vp9",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-b:v",
            "0",
            "-crf",
            "20",
        ),
        "matroska",
        ("vp9",),
    ),
    "webm-av1": Container(
        "av1.webm",
        ("-c:v", "libaom-av1", "-cpu-used", "8", "-row-mt", "1", "-crf", "30", "-b:v", "0"),
        "matroska",
        ("av1", "libdav1d", "libaom-av1"),
    ),
    "avi-mpeg4": Container(
        "mpeg4.avi", ("-c:v", "mpeg4", "-vtag", "xvid", "-q:v", "3"), "avi", ("mpeg4",)
    ),
    "avi-mjpeg": Container(
        "mjpeg.avi",
        ("-c:v", "mjpeg", "-q:v", "3", "-pix_fmt", "yuvj420p", "-c:a", "pcm_s16le"),
        "avi",
        ("mjpeg",),
        audio=True,
    ),
    "flv-flv1": Container("flv1.flv", ("-c:v", "flv", "-q:v", "3"), "flv", ("flv",)),
    "flv-h264": Container("h264.flv", (*X264, "-c:a", "aac"), "flv", ("h264",), audio=True),
    "ts-h264": Container("h264.ts", (*X264, "-c:a", "aac"), "mpegts", ("h264",), audio=True),
    "m2ts-h264": Container(
        "h264.m2ts",
        (*X264, "-c:a", "ac3", "-f", "mpegts", "-mpegts_m2ts_mode", "1"),
        "mpegts",
        ("h264",),
        audio=True,
    ),
    "wmv-wmv2": Container(
        "wmv2.wmv", ("-c:v", "wmv2", "-q:v", "3", "-c:a", "wmav2"), "asf", ("wmv2",), audio=True
    ),
    "wmv-wmv1": Container("wmv1.wmv", ("-c:v", "wmv1", "-q:v", "3"), "asf", ("wmv1",)),
    "rm-rv10": Container("rv10.rm", ("-c:v", "rv10", "-q:v", "3"), "rm", ("rv10",)),
    "rm-rv20": Container(
        "rv20.rm", ("-c:v", "rv20", "-q:v", "3", "-c:a", "ac3"), "rm", ("rv20",), audio=True
    ),
    "vob-mpeg2": Container(
        "mpeg2.vob",
        ("-c:v", "mpeg2video", "-q:v", "3", "-c:a", "mp2", "-f", "vob"),
        "mpeg",
        ("mpeg2video",),
        audio=True,
    ),
    "mpg-mpeg1": Container(
        "mpeg1.mpg", ("-c:v", "mpeg1video", "-q:v", "3", "-f", "mpeg"), "mpeg", ("mpeg1video",)
    ),
}

# Audio-only files: format name -> (filename, ffmpeg output options).
AUDIO: dict[str, tuple[str, tuple[str, ...]]] = {
    "aac": ("tone.aac", ("-c:a", "aac")),
    "m4a": ("tone.m4a", ("-c:a", "aac")),
    "mp3": ("tone.mp3", ("-c:a", "libmp3lame")),
    "wav": ("tone.wav", ("-c:a", "pcm_s16le")),
    "flac": ("tone.flac", ("-c:a", "flac")),
    "wma": ("tone.wma", ("-c:a", "wmav2")),
    "ac3": ("tone.ac3", ("-c:a", "ac3")),
    "eac3": ("tone.eac3", ("-c:a", "eac3")),
    "opus": ("tone.opus", ("-c:a", "libopus")),
    "ogg": ("tone.ogg", ("-c:a", "libvorbis")),
}


class Clips:
    """Makes clips on first use and caches them in ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _make(self, name: str, *args: str) -> Path:
        path = self.root / name
        if not path.exists():
            ffmpeg(*args, str(path))
        return path

    def indexed(
        self, duration: int = 10, fps: int = 24, step: int = 1, container: str = "mkv"
    ) -> Path:
        """Grey frames whose brightness is ``step`` x the frame number (mod 250),
        lossless: each decoded frame says exactly which source frame it is."""
        return self._make(
            f"indexed-{duration}s-{fps}-{step}.{container}",
            "-f",
            "lavfi",
            "-i",
            f"nullsrc=s=64x48:r={fps}:d={duration},format=gray,geq=lum='mod(N*{step},250)'",
            "-c:v",
            "ffv1",
            "-pix_fmt",
            "gray",
        )

    def moving(
        self, duration: float = 3, size: str = "320x240", fps: int = 25, name: str = "moving.mp4"
    ) -> Path:
        """Colour test pattern with motion, H.264 in MP4 (the common upload)."""
        return self._make(
            name,
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size={size}:rate={fps}:duration={duration}",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-pix_fmt",
            "yuv420p",
        )

    def key_frame_every(self, frames: int, duration: float = 6) -> Path:
        """testsrc2 at 160x120 and 24 fps in H.264, a key frame every ``frames``."""
        return self._make(
            f"gop-{frames}-{duration}s.mp4",
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size=160x120:rate=24:duration={duration}",
            "-c:v",
            "libx264",
            "-g",
            str(frames),
            "-pix_fmt",
            "yuv420p",
        )

    def quadrants(
        self, duration: float = 2, fps: int = 10, bars: str = "", container: str = "mkv"
    ) -> Path:
        """Four flat quadrants (red top left, lime top right, blue bottom
        left, yellow bottom right) of 160x120 each, 320x240 in all, lossless,
        with a frame counter burnt in: a 16-pixel-high grey strip across the
        middle whose level is 8 x the frame number. ``bars`` adds black
        borders: "letterbox" (40 pixels above and below: 320x320) or
        "pillarbox" (48 pixels left and right: 416x240)."""
        tiles = "".join(
            f"color={c}:s=160x120:d={duration}:r={fps}[{c}];"
            for c in ("red", "lime", "blue", "yellow")
        )
        counter = f"color=gray:s=320x16:d={duration}:r={fps},format=gray,geq=lum='mod(N*8,256)'"
        pad = {
            "": "",
            "letterbox": ",pad=320:320:0:40:color=black",
            "pillarbox": ",pad=416:240:48:0:color=black",
        }[bars]
        graph = (
            f"{tiles}{counter},format=rgb24[n];[red][lime]hstack[top];[blue][yellow]hstack[bottom];"
            f"[top][bottom]vstack,format=rgb24[q];[q][n]overlay=0:112{pad},format=rgb24"
        )
        name = f"quadrants-{duration}s-{fps}{'-' + bars if bars else ''}.{container}"
        return self._make(name, "-f", "lavfi", "-i", graph, "-c:v", "ffv1", "-pix_fmt", "bgr0")

    def highlights(self) -> Path:
        """30 s at 25 fps: three busy, loud stretches (a moving test pattern
        with loud noise) at 3-7 s, 13-17 s and 23-27 s, between still, quiet
        ones (a flat grey picture, near silence): the cuts are at their edges."""
        still = (
            "color=gray:s=320x240:r=25:d={d},format=yuv420p[v{n}];"
            "anoisesrc=a=0.002:d={d}:r=44100[a{n}];"
        )
        busy = "testsrc2=s=320x240:r=25:d=4,format=yuv420p[v{n}];anoisesrc=a=0.6:d=4:r=44100[a{n}];"
        parts = [(still, 3), (busy, 4), (still, 6), (busy, 4), (still, 6), (busy, 4), (still, 3)]
        graph = "".join(kind.format(d=d, n=n) for n, (kind, d) in enumerate(parts))
        graph += "".join(f"[v{n}][a{n}]" for n in range(len(parts)))
        graph += f"concat=n={len(parts)}:v=1:a=1[v][a]"
        return self._make(
            "highlights.mp4", "-f", "lavfi", "-i", "nullsrc=s=16x16:d=0.04",
            "-filter_complex", graph, "-map", "[v]", "-map", "[a]", *X264, "-c:a", "aac",
        )  # fmt: skip

    def colour_bars(self) -> Path:
        """Red, green and blue bars side by side (288x96, 4 s at 10 fps) and a
        white square crossing them along the top: a swapped channel shows."""
        bars = "".join(f"color={c}:s=96x96:d=4:r=10[{c}];" for c in ("red", "lime", "blue"))
        return self._make(
            "colour-bars.mp4",
            "-f",
            "lavfi",
            "-i",
            f"{bars}color=white:s=16x16:d=4:r=10[box];[red][lime][blue]hstack=inputs=3[bars];"
            "[bars][box]overlay=x='mod(t*60,272)':y=0",
            *X264,
        )

    def reference(self) -> Path:
        """The reference examples' source: 30 s long (so frame counts are the
        real ones) but only 160x90 pixels, H.264 in a QuickTime .mov."""
        return self._make(
            "reference-30s.mov",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x90:rate=10:duration=30",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-pix_fmt",
            "yuv420p",
        )

    def portrait(self) -> Path:
        """A landscape-coded 320x180 clip with 90-degree display rotation, as
        phones record portrait video: shown upright it is 180x320."""
        return self.rotated(90, "320x180", "portrait.mp4")

    def rotated(self, degrees: int, size: str = "320x240", name: str = "") -> Path:
        """A landscape-coded clip with a display matrix rotating it by
        ``degrees`` (counter-clockwise, as ffmpeg's -display_rotation)."""
        coded = self.moving(2, size, 25, f"landscape-{size}.mp4")
        return self._make(
            name or f"rotated-{degrees}.mp4",
            "-display_rotation",
            str(degrees),
            "-i",
            str(coded),
            "-c",
            "copy",
        )

    def container(self, kind: str) -> Path:
        """A 2 s 320x240 25 fps pattern in one of ``CONTAINERS``."""
        c = CONTAINERS[kind]
        inputs = (*pattern(), *(tone() if c.audio else ()))
        return self._make(c.filename, *inputs, *c.args)

    def long(self, kind: str, piped: bool = False) -> Path:
        """12 s of a 160x120 pattern in one of ``CONTAINERS`` (one keyframe a
        second), for seeks far into a file. ``piped``: written to a pipe, as
        live recorders do, so the file has no index or duration header."""
        c = CONTAINERS[kind]
        path = self.root / f"long{'-piped' if piped else ''}-{c.filename}"
        if not path.exists():
            args = [
                *pattern("160x120", 25, 12),
                *(tone(12) if c.audio else ()),
                *c.args,
                "-g",
                "25",
            ]
            if piped:
                fmt = {".flv": "flv", ".ts": "mpegts", ".mkv": "matroska"}[path.suffix]
                with open(path, "wb") as out:
                    subprocess.run(
                        [FFMPEG, "-nostdin", "-v", "error", *args, "-f", fmt, "pipe:1"],
                        check=True,
                        stdout=out,
                    )
            else:
                ffmpeg(*args, str(path))
        return path

    def variable_frame_rate(self) -> Path:
        """50 fps for the first second, then one frame every 0.1 s (a phone
        slowing down in low light), H.264 in Matroska with the real times."""
        return self._make(
            "vfr.mkv",
            *pattern(fps=50, duration=3),
            "-vf",
            "select='lt(t,1)+not(mod(n,5))'",
            "-fps_mode",
            "vfr",
            *X264,
        )

    def odd_size(self) -> Path:
        """101x57: odd sides, which 4:2:0 codecs must pad internally."""
        return self._make(
            "odd-101x57.webm",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=101x57:rate=25:duration=2,format=yuv444p",
            "-c:v",
            "libvpx-vp9",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-b:v",
            "0",
            "-crf",
            "20",
            "-pix_fmt",
            "yuv420p",
        )

    def anamorphic(self) -> Path:
        """240x240 coded pixels with a 4:3 sample aspect ratio: shown 320x240."""
        return self._make(
            "anamorphic.mp4",
            *pattern(size="240x240"),
            "-vf",
            "setsar=4/3",
            *X264,
        )

    def ten_bit(self) -> Path:
        return self._make(
            "10bit.mkv",
            *pattern(),
            "-c:v",
            "libx265",
            "-preset",
            "ultrafast",
            "-x265-params",
            "log-level=error",
            "-pix_fmt",
            "yuv420p10le",
        )

    def ten_bit_vp9(self) -> Path:
        return self._make(
            "10bit-vp9.webm",
            *pattern(),
            "-c:v",
            "libvpx-vp9",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-b:v",
            "0",
            "-crf",
            "20",
            "-pix_fmt",
            "yuv420p10le",
        )

    def full_chroma(self) -> Path:
        """4:4:4 H.264 (High 4:4:4 Predictive), as screen recorders make."""
        return self._make(
            "yuv444.mp4",
            *pattern(),
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-pix_fmt",
            "yuv444p",
        )

    def interlaced(self, codec: str = "mpeg2") -> Path:
        """Top-field-first interlaced MPEG-2 (or H.264) in MPEG-TS, as broadcast
        recordings are: two moments 1/50 s apart woven into each frame."""
        encode = {
            # The interlace filter marks its frames top field first; the encoder keeps that.
            "mpeg2": ("-c:v", "mpeg2video", "-q:v", "2", "-flags", "+ilme+ildct"),
            "h264": (*X264, "-flags", "+ilme+ildct", "-x264opts", "tff=1"),
        }[codec]
        return self._make(
            f"interlaced-{codec}.ts",
            *pattern(fps=50),
            "-vf",
            "interlace=scan=tff",
            *encode,
            "-f",
            "mpegts",
        )

    def without_duration(self) -> Path:
        """Matroska written to a pipe: no Duration element and no cues."""
        path = self.root / "no-duration.mkv"
        if not path.exists():
            with open(path, "wb") as out:
                subprocess.run(
                    [
                        FFMPEG,
                        "-nostdin",
                        "-v",
                        "error",
                        *pattern(),
                        *X264,
                        "-f",
                        "matroska",
                        "pipe:1",
                    ],
                    check=True,
                    stdout=out,
                )
        return path

    def broken_audio(self) -> Path:
        """H.264 with an AAC track whose packets are corrupted."""
        return self._make(
            "broken-audio.mp4",
            *pattern(),
            *tone(),
            *X264,
            "-c:a",
            "aac",
            "-bsf:a",
            "noise=amount=2",
        )

    def two_video_streams(self) -> Path:
        """Two video streams; the second (the older testsrc pattern) is flagged default."""
        return self._make(
            "two-streams.mkv",
            *pattern(),
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=320x240:rate=25:duration=2",
            "-map",
            "0",
            "-map",
            "1",
            *X264,
            "-disposition:v:0",
            "0",
            "-disposition:v:1",
            "default",
        )

    def alpha(self, codec: str = "vp9") -> Path:
        """VP9 (or VP8) with an alpha channel: an opaque disc of the pattern on
        a fully transparent background."""
        encode = {
            "vp9": ("-c:v", "libvpx-vp9", "-b:v", "0", "-crf", "20"),
            "vp8": ("-c:v", "libvpx", "-b:v", "1M", "-auto-alt-ref", "0"),
        }[codec]
        return self._make(
            f"alpha-{codec}.webm",
            "-f",
            "lavfi",
            "-i",
            ALPHA_PATTERN,
            *encode,
            "-pix_fmt",
            "yuva420p",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
        )

    def alpha_master(self) -> Path:
        """The same picture as ``alpha`` stored losslessly (the reference)."""
        return self._make(
            "alpha-master.mkv",
            "-f",
            "lavfi",
            "-i",
            ALPHA_PATTERN,
            "-c:v",
            "ffv1",
            "-pix_fmt",
            "yuva420p",
        )

    def one_frame(self) -> Path:
        return self._make("one-frame.mp4", *pattern(), "-frames:v", "1", *X264)

    def hls(self, segment_type: str = "mpegts") -> Path:
        """An HLS folder as ffmpeg's hls muxer writes it: ``index.m3u8`` and
        0.5 s segments next to it (``seg000.ts``... or ``init.mp4`` and
        ``seg000.m4s``... for fMP4) of the 2 s 320x240 pattern. Returns the
        playlist's path."""
        folder = self.root / f"hls-{segment_type}"
        playlist = folder / "index.m3u8"
        if not playlist.exists():
            folder.mkdir(exist_ok=True)
            ext = "ts" if segment_type == "mpegts" else "m4s"
            ffmpeg(
                *pattern(),
                *tone(),
                *X264,
                "-g",
                "12",
                "-c:a",
                "aac",
                "-f",
                "hls",
                "-hls_time",
                "0.5",
                "-hls_list_size",
                "0",
                "-hls_segment_type",
                segment_type,
                "-hls_fmp4_init_filename",
                "init.mp4",
                "-hls_segment_filename",
                str(folder / f"seg%03d.{ext}"),
                str(playlist),
            )
        return playlist

    def audio_only(self, kind: str = "mp3", rising: bool = False) -> Path:
        """2 s of 440 Hz in one of the ``AUDIO`` formats; ``rising``: its
        amplitude grows as 0.45 x t, so every moment sounds different."""
        name, args = AUDIO[kind]
        source = ("-f", "lavfi", "-i", f"aevalsrc={RISING}:s=44100:d=2") if rising else tone()
        return self._make(("rising-" if rising else "") + name, *source, *args)

    def audio_with_cover(self, kind: str = "mp3") -> Path:
        """An audio file with an attached cover picture (not a video)."""
        ext = {"mp3": "mp3", "m4a": "m4a", "flac": "flac"}[kind]
        codec = {"mp3": "libmp3lame", "m4a": "aac", "flac": "flac"}[kind]
        return self._make(
            f"cover.{ext}",
            *tone(),
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=200x200:duration=0.04",
            "-map",
            "0",
            "-map",
            "1",
            "-c:a",
            codec,
            "-c:v",
            "mjpeg" if kind != "flac" else "png",
            "-frames:v",
            "1",
            "-disposition:v",
            "attached_pic",
        )


RISING = "0.45*t*sin(2*PI*440*t)"
ALPHA_PATTERN = (
    "testsrc2=size=160x120:rate=25:duration=2,format=yuva420p,"
    "geq=lum='lum(X,Y)':cb='cb(X,Y)':cr='cr(X,Y)':a='if(lt(hypot(X-80,Y-60),40),255,0)'"
)


def decode_frame(
    path: Path, t: float, width: int, height: int, fps: float | None = None
) -> np.ndarray:
    """The source frame nearest to ``t`` (for a constant ``fps`` source; without
    ``fps``, ``t`` must be a frame's own time), scaled like the pipeline scales."""
    if fps:
        t = math.floor(t * fps + 0.5 - 1e-6) / fps  # a tie goes to the earlier frame
    out = subprocess.run(
        [
            FFMPEG,
            "-nostdin",
            "-v",
            "error",
            "-ss",
            f"{t:.6f}",
            "-i",
            str(path),
            "-frames:v",
            "1",
            "-vf",
            f"scale={width}:{height}:flags=lanczos",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ],
        check=True,
        capture_output=True,
    ).stdout
    return np.frombuffer(out, np.uint8).reshape(height, width, 3)


def reference_frames(
    path: Path, times: list[float], width: int, height: int, *, stream: int = 0, alpha: bool = False
) -> list[np.ndarray]:
    """The source frames nearest to ``times`` (seconds from the start of the
    file), decoded by PyAV independently of the pipeline: for each time, the
    frame whose timestamp is closest to it (of two as close, the earlier).
    Frames are turned upright by their display matrix and scaled to
    ``width`` x ``height``."""
    fmt = "rgba" if alpha else "rgb24"
    with av.open(str(path)) as container:
        decoded = [(f.time, f) for f in container.decode(container.streams.video[stream])]
    # Time 0 is where ffmpeg's timeline starts (the pipeline's), which for some
    # files differs by a few ms from PyAV's (audio priming, early audio).
    origin = decoded[0][0] - ffmpeg_first_frame_time(path, stream)
    out = []
    for t in times:
        timed = [(ft, f) for ft, f in decoded if ft is not None]
        frame = min(timed, key=lambda pair: (round(abs(pair[0] - origin - t), 6), pair[0]))[1]
        turns = round((frame.rotation or 0) / 90) % 4  # counter-clockwise quarter turns
        w, h = (height, width) if turns % 2 else (width, height)
        array = frame.to_ndarray(format=fmt, width=w, height=h, interpolation="LANCZOS")
        out.append(np.ascontiguousarray(np.rot90(array, turns)))
    return out


def ffmpeg_first_frame_time(path: Path, stream: int = 0) -> float:
    """When the first frame of video stream ``stream`` is shown on the
    bundled ffmpeg's timeline (its input timestamps less its start offset)."""
    with tempfile.TemporaryDirectory() as tmp:
        if path.suffix in (".ts", ".m2ts"):  # the bundled ffmpeg crashes on TS service tables
            path = without_sdt(path, Path(tmp) / "copy.ts")
        log = subprocess.run(
            [
                FFMPEG,
                "-nostdin",
                "-hide_banner",
                "-i",
                str(path),
                "-map",
                f"0:v:{stream}",
                "-an",
                "-vf",
                "showinfo",
                "-frames:v",
                "1",
                "-f",
                "null",
                "-",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stderr
    return float(re.search(r"pts_time:\s*(-?[0-9.]+)", log).group(1))
