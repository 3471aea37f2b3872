"""The one exception type the pipeline raises, with a stable code."""

from __future__ import annotations


class PipelineError(Exception):
    """A conversion failure with a stable, user-facing code.

    ``permanent`` says whether trying again could help: a corrupt upload will
    never convert (permanent); a storage outage might pass (transient).
    """

    def __init__(self, code: str, message: str, permanent: bool = True) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.permanent = permanent

    def __repr__(self) -> str:
        return f"PipelineError({self.code!r}, {self.message!r}, permanent={self.permanent})"
