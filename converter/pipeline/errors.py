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
