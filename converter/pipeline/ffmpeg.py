"""The one place that starts ffmpeg.

Every call reads only local files (``-protocol_whitelist file``) through the
one demuxer the probe named (``-f`` and ``-format_whitelist``, so neither the
file's content nor a nested open can select a playlist or script demuxer),
runs in the sandbox (``sandbox``: bubblewrap, no network, only its input and
its binary to read, nothing to write, a minimal environment, as nobody), in
its own process group, dies with its parent (PR_SET_PDEATHSIG), has its
address space capped (RLIMIT_AS) and is killed when its wall time runs out.
Video sampling and the waveform drawing both read their frames through
``raw_frames``: raw pixels from ffmpeg's pipe, one frame at a time. The
video encoders go the other way through ``encode_raw``: raw pixels into
ffmpeg's stdin, a file out in a private folder.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import shutil
import subprocess
import threading
from collections.abc import Iterable, Iterator, Sequence
from fractions import Fraction
from pathlib import Path
from typing import cast

import imageio_ffmpeg
import numpy as np

from . import allowlist, sandbox
from .encoding import Order
from .errors import PipelineError, timed_out
from .limits import Limits

# ffmpeg's pixel format for each channel order, without and with alpha.
PIXEL_FORMATS: dict[Order, tuple[str, str]] = {"rgb": ("rgb24", "rgba"), "bgr": ("bgr24", "bgra")}
OUT_OF_MEMORY = "Decoding the video needed more memory than a task may use."
# The ffmpeg that ``use`` chose; None runs the one bundled with imageio-ffmpeg.
_chosen: str | None = None


def use(path: str | None) -> None:
    """Run the ffmpeg at ``path`` (a bare name is looked up on PATH, once,
    here) for every later command; None goes back to the bundled one.

    The pipeline reads no settings: the app calls this at start-up with
    ``CONVERTER_FFMPEG`` (``converter.apps``). Raises ``FileNotFoundError``
    when ``path`` is not an executable file."""
    global _chosen
    if path is None:
        _chosen = None
        return
    found = shutil.which(path)
    if found is None:
        raise FileNotFoundError(f"{path!r} is not an executable file")
    _chosen = os.path.abspath(found)


def executable() -> str:
    """The ffmpeg every command runs: the one ``use`` chose, else the one
    bundled with imageio-ffmpeg (9.0.2: README.md, "The decoder")."""
    return _chosen or _bundled()


def version() -> str:
    """The first line of ``executable() -version``, as it runs in the
    sandbox ("ffmpeg version n9.0.2-..."). Raises ``RuntimeError`` with
    what went wrong when it cannot run there: the app calls this at
    start-up for ``CONVERTER_FFMPEG``, so that a build the sandbox cannot
    run (its libraries outside /usr, a file only its owner may execute)
    stops the start, not every conversion."""
    try:
        out = b"".join(stream(["-version"], 1, timeout_s=30, inputs=[]))
    except PipelineError as exc:
        raise RuntimeError(f"{executable()} does not run in the sandbox: {exc.message}") from None
    first = out.decode("utf-8", "replace").partition("\n")[0].strip()
    if not first.startswith("ffmpeg version "):
        raise RuntimeError(f"{executable()} is not ffmpeg: it says {first[:200]!r}")
    return first


@functools.cache
def _bundled() -> str:
    return str(imageio_ffmpeg.get_ffmpeg_exe())


def safe_input_args(
    path: Path, demuxer: str, *, max_pixels: int, decoder: str | None = None
) -> list[str]:
    """Input options that keep ffmpeg from fetching URLs, following playlists or
    opening decoders outside our list or allocating absurd frames. They go
    right before (and include) ``-i``."""
    args = ["-protocol_whitelist", allowlist.PROTOCOL_WHITELIST]
    args += ["-format_whitelist", demuxer, "-f", demuxer]
    args += ["-codec_whitelist", allowlist.CODEC_WHITELIST]
    if decoder:
        args += ["-c:v", decoder]
    return [*args, "-max_pixels", str(max_pixels)]


def stream(
    args: Sequence[str],
    frame_bytes: int,
    *,
    timeout_s: float,
    inputs: Sequence[Path],
    cwd: Path | None = None,
    memory_bytes: int | None = Limits.ffmpeg_memory_bytes,
) -> Iterator[bytearray]:
    """Run ffmpeg with ``args``, which must end with an output to ``pipe:1``,
    and yield that output in blocks of ``frame_bytes`` as it comes.

    ffmpeg runs in the sandbox, where it can read only ``inputs`` (the files
    ``args`` names) and its own binary's folder, and write only ``cwd``,
    its working directory, when given.

    The pipe is ffmpeg's only buffer, so it waits while the caller works on a
    frame and no more than a frame or two is ever held. Raises
    ``PipelineError`` with code ``Timeout`` past ``timeout_s`` and
    ``DecodeFailed`` on a non-zero exit (with the tail of ffmpeg's errors).
    ``memory_bytes`` caps ffmpeg's address space (RLIMIT_AS); a caller that
    forgets it still gets the default cap, ``None`` lifts it. Closing the
    generator early stops ffmpeg.
    """
    # The binary itself, not a link to it: the sandbox binds its folder only.
    binary = Path(os.path.realpath(executable()))
    cmd = [str(binary), "-nostdin", "-hide_banner", "-loglevel", "error", "-nostats", *args]
    proc = sandbox.start(
        cmd,
        readable=[*inputs, binary.parent],
        writable=cwd,
        memory_bytes=memory_bytes,
        cpu_seconds=sandbox.cpu_budget(timeout_s),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        bufsize=0,
    )
    errors = _Errors(proc)
    timer, expired = _watchdog(proc, timeout_s)
    try:
        # bufsize=0: stdout is the pipe's raw file, which reads into a buffer.
        stdout = cast(io.RawIOBase, proc.stdout)
        while (block := _read_exactly(stdout, frame_bytes)) is not None:
            yield block
        proc.wait()
    finally:
        timer.cancel()
        sandbox.stop(proc)
        if proc.stdout:
            proc.stdout.close()
        errors.close()
    if expired.is_set():
        raise timed_out(timeout_s)
    if errors.out_of_memory.is_set() or proc.returncode != 0:
        # Refused frames over -max_pixels also fail to get a buffer: _summarise
        # names the pixel limit first.
        raise PipelineError("DecodeFailed", _summarise(errors.tail.decode("utf-8", "replace")))


def _watchdog(
    proc: subprocess.Popen[bytes], timeout_s: float
) -> tuple[threading.Timer, threading.Event]:
    """A started timer that stops ``proc`` after ``timeout_s``, and the event
    it sets when it did (cancel the timer once ``proc`` is done)."""
    expired = threading.Event()

    def kill() -> None:
        expired.set()
        sandbox.stop(proc)

    timer = threading.Timer(timeout_s, kill)
    timer.start()
    return timer, expired


class _Errors:
    """ffmpeg's stderr, read as it comes: its last bytes kept for the
    message, and ffmpeg stopped at the first allocation that failed. At its
    RLIMIT_AS the decode is lost, and ffmpeg 9.0.2 does not always say so:
    its threaded decoders can spin on the failure until the wall time ends
    (measured: 900 s at full CPU on an 8000x8000 H.264 frame under 300 MB),
    or drop the frame and exit 0 (``OUT_OF_MEMORY_SIGNS``)."""

    KEEP = 2000

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.tail = b""
        self.out_of_memory = threading.Event()
        self._proc = proc
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        pipe = cast(io.RawIOBase, self._proc.stderr)
        while chunk := pipe.read(65536):
            self.tail = (self.tail + chunk)[-self.KEEP :]
            if not self.out_of_memory.is_set() and _out_of_memory(self.tail):
                self.out_of_memory.set()
                sandbox.stop(self._proc)

    def close(self) -> None:
        self._thread.join(timeout=5)
        if self._proc.stderr:
            self._proc.stderr.close()


def raw_frames(
    args: list[str],
    count: int,
    shape: tuple[int, int, int],
    limits: Limits,
    nothing_decoded: str,
    inputs: Sequence[Path],
) -> Iterator[np.ndarray]:
    """Finish and run an ffmpeg command (inputs and filters in ``args``; the
    files it reads in ``inputs``) whose video comes out as ``count`` raw
    frames of ``shape``, and yield them. ``nothing_decoded`` is the message
    when no frame came out at all."""
    args = [*args, "-frames:v", str(count), "-f", "rawvideo", "-fps_mode", "passthrough", "pipe:1"]
    frame_bytes = shape[0] * shape[1] * shape[2]
    made = 0
    for block in stream(
        args,
        frame_bytes,
        timeout_s=limits.task_timeout_s,
        inputs=inputs,
        memory_bytes=limits.ffmpeg_memory_bytes,
    ):
        made += 1
        yield np.frombuffer(block, np.uint8).reshape(shape)
    if not made:
        raise PipelineError("DecodeFailed", nothing_decoded)


def encode_raw(
    frames: Iterable[np.ndarray],
    *,
    size: tuple[int, int],
    pixel_format: str,
    frame_rate: Fraction,
    output_args: Sequence[str],
    output: Path,
    timeout_s: float,
    memory_bytes: int | None = Limits.ffmpeg_memory_bytes,
) -> int:
    """Encode ``frames`` (raw ``pixel_format`` pictures of ``size``, width
    by height) at ``frame_rate`` into ``output`` with ``output_args`` (the
    codec and muxer options), and return how many frames went in.

    ffmpeg reads nothing but its stdin (``-protocol_whitelist pipe``, the
    rawvideo demuxer only) and writes only ``output``'s folder, which must be
    a private folder of the caller's (``workdir.private_folder``): an MP4
    whose index comes first (faststart) needs a file it can seek in, not a
    pipe. Each frame is written as the iterable yields it; the pipe is the
    only buffer. Raises ``PipelineError`` ``Timeout`` past ``timeout_s`` and
    ``RuntimeError`` with the tail of ffmpeg's errors when it fails.
    Whatever happens, ffmpeg is stopped before this returns."""
    binary = Path(os.path.realpath(executable()))
    width, height = size
    cmd = [str(binary), "-hide_banner", "-loglevel", "error", "-nostats"]
    cmd += ["-protocol_whitelist", "pipe", "-format_whitelist", "rawvideo", "-f", "rawvideo"]
    cmd += ["-pix_fmt", pixel_format, "-video_size", f"{width}x{height}"]
    cmd += ["-framerate", f"{frame_rate.numerator}/{frame_rate.denominator}", "-i", "pipe:0"]
    cmd += [*output_args, "-y", output.name]
    proc = sandbox.start(
        cmd,
        readable=[binary.parent],
        writable=output.parent,
        memory_bytes=memory_bytes,
        cpu_seconds=sandbox.cpu_budget(timeout_s),
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        bufsize=0,
    )
    errors = _Errors(proc)
    timer, expired = _watchdog(proc, timeout_s)
    count = 0
    try:
        stdin = cast(io.RawIOBase, proc.stdin)
        try:
            for frame in frames:
                _write_all(stdin, memoryview(np.ascontiguousarray(frame).data).cast("B"))
                count += 1
            stdin.close()
        except BrokenPipeError:
            pass  # ffmpeg ended early: its exit status and errors say why
        proc.wait()
    finally:
        timer.cancel()
        sandbox.stop(proc)
        if proc.stdin and not proc.stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                proc.stdin.close()
        errors.close()
    if expired.is_set():
        raise timed_out(timeout_s)
    if errors.out_of_memory.is_set() or proc.returncode != 0:
        said = errors.tail.decode("utf-8", "replace").strip().splitlines()
        raise RuntimeError(
            f"ffmpeg could not encode: {said[-1][:300] if said else proc.returncode}"
        )
    return count


def _write_all(pipe: io.RawIOBase, data: memoryview) -> None:
    while data:
        n = pipe.write(data)
        data = data[n or 0 :]


def _read_exactly(pipe: io.RawIOBase, size: int) -> bytearray | None:
    """The next ``size`` bytes, or None at the end (a short tail is no frame)."""
    buf = bytearray(size)
    view = memoryview(buf)
    got = 0
    while got < size:
        n = pipe.readinto(view[got:])
        if not n:
            return None
        got += n
    return buf


# What ffmpeg says when an allocation fails. 9.0.2 also reports a frame
# buffer it could not allocate as "get_buffer() failed", then drops that
# frame, says "Invalid data" and exits 0 with fewer frames (measured).
OUT_OF_MEMORY_SIGNS = (b"Cannot allocate memory", b"out of memory", b"get_buffer() failed")


def _out_of_memory(stderr: bytes) -> bool:
    lowered = stderr.lower()
    return any(sign.lower() in lowered for sign in OUT_OF_MEMORY_SIGNS)


def _summarise(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    if any("exceeds specified max pixel count" in line for line in lines):
        return "The video's frames are larger than the pixel limit."
    if _out_of_memory(stderr.encode()):
        return OUT_OF_MEMORY
    return "The video could not be decoded" + (f": {lines[-1][:300]}" if lines else ".")
