"""Targets that end a fuzz case each in one known way, for the tests of the
runner's classification (``converter.mediafuzz.runner``): the child process
imports this module by name."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from converter.errors import Code, LoopforgeError
from converter.pipeline.errors import PipelineError


def succeeds(path: Path, fmt: str) -> str:
    return f"{path.stat().st_size} bytes as {fmt}"


def refuses(path: Path, fmt: str) -> str:
    raise PipelineError(Code.DECODE_FAILED, "The video could not be decoded.")


def internal_error(path: Path, fmt: str) -> str:
    raise LoopforgeError(Code.INTERNAL_ERROR, "An unexpected error stopped the conversion.")


def storage_unavailable(path: Path, fmt: str) -> str:
    raise LoopforgeError(Code.STORAGE_UNAVAILABLE, "Storage could not be reached.")


def raises_key_error(path: Path, fmt: str) -> str:
    return {}[fmt]


def hangs(path: Path, fmt: str) -> str:
    time.sleep(3600)
    return "woke up"


def crashes(path: Path, fmt: str) -> str:
    os.kill(os.getpid(), signal.SIGSEGV)
    return "still here"


def crashes_on_gif(path: Path, fmt: str) -> str:
    return crashes(path, fmt) if fmt == "gif" else succeeds(path, fmt)
