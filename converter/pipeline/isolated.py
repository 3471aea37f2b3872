"""The probe, run where a hostile file can do no harm: in a child process in
the sandbox (``sandbox``), with a minimal environment, its address space
capped and a wall-time limit. What the web process runs on an upload and the
worker on a source; ``probe.probe`` itself stays callable in-process (for
the fuzzer's speed, and as the child's own code).

A child that fails is answered with a code that says what happened to the
file: past ``limits.probe_timeout_s`` it is ``Timeout``; killed by a signal
(a crash in the demuxer or decoder) or out of memory, ``SourceUnreadable``.
The answer is checked before it is believed: a child a file took over could
claim anything, and what it names (the demuxer) goes into ffmpeg's
arguments.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import re
import signal
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..errors import Code
from . import sandbox
from .allowlist import DEMUXERS
from .errors import PipelineError
from .limits import DEFAULT_LIMITS, Limits
from .probe import MAX_KEY_FRAMES, VideoInfo
from .probe_child import STARTED

log = logging.getLogger(__name__)

# The child: this interpreter, isolated (-I: no PYTHON* variables, no user
# site), importing the package from where this one was loaded.
_PACKAGE = Path(__file__).resolve().parent.parent  # converter/
_BOOT = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from converter.pipeline.probe_child import main; main()"
)
# What a child may answer with (the probe's own refusals).
ANSWER_CODES = frozenset(
    {
        Code.NO_VIDEO_STREAM,
        Code.NO_AUDIO_STREAM,
        Code.UNSUPPORTED_FORMAT,
        Code.SOURCE_UNREADABLE,
        Code.DECODE_FAILED,
        Code.SOURCE_TOO_LARGE,
        Code.SOURCE_TOO_LONG,
    }
)
_NAME = re.compile(r"[a-z0-9_-]{0,40}")


def probe(
    path: Path,
    limits: Limits = DEFAULT_LIMITS,
    *,
    decode: bool = True,
    audio_only_ok: bool = False,
    key_frames: bool = False,
) -> VideoInfo:
    """``probe.probe(path, limits, decode=..., audio_only_ok=..., key_frames=...)``,
    run in a sandboxed child (see the module's docstring for what a failure means)."""
    request = {
        "op": "probe",
        "decode": decode,
        "audio_only_ok": audio_only_ok,
        "key_frames": key_frames,
    }
    reply = _run(request, path, limits)
    return _checked_info(reply.get("info"), limits)


def key_frame_before(
    path: Path, info: VideoInfo, t: float, limits: Limits = DEFAULT_LIMITS
) -> float | None:
    """``probe.key_frame_before(path, info, t)`` in a sandboxed child; None
    also where the child failed (it is a hint for planning, never needed)."""
    try:
        reply = _run({"op": "key_frame_before", "info": info.to_dict(), "t": t}, path, limits)
    except PipelineError as exc:
        log.info("no key frame found before %.3f s (%s)", t, exc.message)
        return None
    key = reply.get("key")
    if isinstance(key, int | float) and not isinstance(key, bool) and math.isfinite(key):
        return float(key)
    return None


def command() -> tuple[list[str], list[Path]]:
    """The child's command line, and the folders it needs to read: the
    interpreter, the virtualenv and this package (never the project's own
    folder, where data and secrets may live)."""
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    readable = [Path(p) for p in sorted(prefixes)] + [_PACKAGE]
    return [sys.executable, "-I", "-c", _BOOT, str(_PACKAGE.parent)], readable


def _run(request: dict[str, Any], path: Path, limits: Limits) -> dict[str, Any]:
    path = Path(os.path.realpath(path))
    argv, readable = command()
    body = json.dumps({**request, "path": str(path), "limits": asdict(limits)}).encode()
    proc = sandbox.start(
        argv,
        readable=[path, *readable],
        memory_bytes=limits.ffmpeg_memory_bytes,
        cpu_seconds=sandbox.cpu_budget(limits.probe_timeout_s),
        stdin=subprocess.PIPE,
    )
    try:
        out, err = proc.communicate(body, timeout=limits.probe_timeout_s)
    except subprocess.TimeoutExpired:
        sandbox.stop(proc)
        proc.communicate()
        raise PipelineError(
            Code.TIMEOUT,
            f"Reading the file took longer than {limits.probe_timeout_s:g} s and was stopped.",
        ) from None
    finally:
        sandbox.stop(proc)
    return _reply(out, err, proc.returncode)


def _reply(out: bytes, err: bytes, returncode: int) -> dict[str, Any]:
    """The child's answer, or the error its end means."""
    lines = out.decode("utf-8", "replace").splitlines()
    if not lines or lines[0] != STARTED:
        # It never reached the file: our failure (a missing bind, an import).
        raise RuntimeError(
            f"the probe child did not start (exit {returncode}): {out[-500:]!r} {err[-2000:]!r}"
        )
    try:
        reply = json.loads(lines[1]) if len(lines) == 2 else None
    except ValueError:
        reply = None
    if not isinstance(reply, dict):
        log.warning("probe child ended without an answer (exit %s): %r", returncode, err[-500:])
        raise PipelineError(
            Code.SOURCE_UNREADABLE,
            f"The file could not be read: reading it crashed the reader ({_ending(returncode)}).",
        )
    if "bug" in reply:
        raise RuntimeError(f"the probe child failed: {reply['bug']}")
    if "error" in reply:
        raise _answered_error(reply["error"])
    return reply


def _ending(returncode: int) -> str:
    """How a child ended, in words: bwrap exits 128 + N for a child killed by
    signal N; an unsandboxed child's code is -N."""
    signo = -returncode if returncode < 0 else returncode - 128 if returncode > 128 else 0
    if signo in signal.Signals.__members__.values():
        return signal.Signals(signo).name
    return f"exit {returncode}"


def _answered_error(error: object) -> PipelineError:
    if isinstance(error, dict):
        code, message = error.get("code"), error.get("message")
        if code in ANSWER_CODES and isinstance(message, str):
            return PipelineError(Code(code), message[:500])
    return PipelineError(Code.SOURCE_UNREADABLE, "The file could not be read.")


def _typed(value: object, annotation: str) -> bool:
    """Whether ``value`` (from JSON) is of a field's type ("int", "int | None"...):
    exactly, so that True is no int and 1 no float."""
    kinds: dict[str, type] = {"str": str, "int": int, "float": float, "bool": bool}
    return any(
        value is None if kind == "None" else type(value) is kinds[kind]
        for kind in annotation.split(" | ")
    )


def _checked_info(data: object, limits: Limits) -> VideoInfo:
    """``data`` as a ``VideoInfo``, if it is one and keeps the limits the
    probe applies (a child taken over by the file could say anything)."""
    fields = {f.name: str(f.type) for f in dataclasses.fields(VideoInfo)}
    fields.pop("key_frames")  # a list in JSON, checked on its own
    if (
        isinstance(data, dict)
        and set(data) == {*fields, "key_frames"}
        and all(_typed(data[name], kind) for name, kind in fields.items())
        and _key_frame_list(data["key_frames"])
    ):
        info = VideoInfo(**{**data, "key_frames": tuple(data["key_frames"])})
        if _plausible(info, limits):
            return info
    log.warning("probe child answered an impossible description: %.500r", data)
    raise PipelineError(Code.SOURCE_UNREADABLE, "The file could not be read.")


def _key_frame_list(value: object) -> bool:
    """Whether ``value`` is a list of key frame times as the probe reads them."""
    return (
        isinstance(value, list)
        and len(value) <= MAX_KEY_FRAMES
        and all(type(k) is float and math.isfinite(k) for k in value)
        and value == sorted(value)
    )


def _plausible(info: VideoInfo, limits: Limits) -> bool:
    sizes = (info.coded_width, info.coded_height, info.width, info.height)
    return (
        info.demuxer in DEMUXERS.values()
        and all(_NAME.fullmatch(s) for s in (info.codec, info.pix_fmt))
        and all(0 <= n <= 1 << 16 for n in sizes)
        and info.coded_width * info.coded_height <= limits.max_source_pixels
        and math.isfinite(info.fps)
        and info.fps >= 0
        and math.isfinite(info.duration)
        and 0 <= info.duration <= limits.max_source_duration_s
        and info.rotation in (0, 90, 180, 270)
        and 0 <= info.stream_index < 64
        and (info.audio_stream is None or 0 <= info.audio_stream < 64)
        and math.isfinite(info.key_frames_until)
        and info.key_frames_until >= 0
    )
