"""The exception the pipeline raises: the project's error, with a code from
``converter.errors.Code`` (plain Python, no Django)."""

from __future__ import annotations

from ..errors import Code, LoopforgeError


class PipelineError(LoopforgeError):
    """A conversion failure with a stable, user-facing code.

    ``permanent`` (from the code) says whether trying again could help: a
    corrupt upload will never convert; a storage outage might pass.
    """

    def __init__(self, code: Code | str, message: str) -> None:
        super().__init__(Code(code), message)


def timed_out(limit_s: float) -> PipelineError:
    """The one ``Timeout``: ffmpeg, the encoders or the whole job ran past
    its wall-time limit and was stopped."""
    return PipelineError(
        Code.TIMEOUT, f"The conversion took longer than {limit_s:g} s and was stopped."
    )
