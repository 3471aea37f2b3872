"""``python -m converter.mediafuzz.child MODULE:FUNCTION``: runs the target on
each case the runner sends (a JSON line: the file and the format to make)
and answers with a JSON line: the outcome, whether it is a finding, a detail.
The answers have the original standard output to themselves: anything else
printed goes to standard error, the runner's log of this child.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

from .runner import classify

Target = Callable[[Path, str], str]


def load(name: str) -> Target:
    module, _, function = name.partition(":")
    return cast(Target, getattr(importlib.import_module(module), function))


def main(argv: list[str]) -> int:
    target = load(argv[0])
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    answers.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        job = json.loads(line)
        t0 = time.monotonic()
        error: Exception | None = None
        detail = ""
        try:
            detail = target(Path(job["path"]), job["format"])
        except Exception as exc:  # every failure is classified, none stops the child
            error = exc
        outcome, finding, about = classify(error)
        answer = {
            "outcome": outcome,
            "finding": finding,
            "detail": (about or detail)[-1500:],
            "seconds": time.monotonic() - t0,
        }
        answers.write(json.dumps(answer) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
