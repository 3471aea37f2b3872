"""The probe's child process: PyAV reads an untrusted file here, never in a
web or worker process (``isolated`` starts it, inside the sandbox).

One request as JSON on stdin, one answer as JSON on stdout. Before it
touches the file it writes ``STARTED``, so the parent can tell a failure of
ours (nothing written: an import failed) from the file crashing or
exhausting the reader. Imports only the probe and the standard library: no
Django, no settings, no storage.
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path
from typing import Any

STARTED = '{"started": true}'


def _answer(request: dict[str, Any]) -> dict[str, Any]:
    from .errors import PipelineError
    from .limits import Limits
    from .probe import VideoInfo, key_frame_before, probe

    path = Path(request["path"])
    limits = Limits(**request["limits"])
    print(STARTED, flush=True)
    try:
        if request["op"] == "probe":
            info = probe(
                path,
                limits,
                decode=request["decode"],
                audio_only_ok=request["audio_only_ok"],
                key_frames=request["key_frames"],
            )
            return {"info": info.to_dict()}
        if request["op"] == "key_frame_before":
            return {"key": key_frame_before(path, VideoInfo(**request["info"]), request["t"])}
    except PipelineError as exc:
        return {"error": {"code": str(exc.kind), "message": exc.message}}
    except MemoryError:
        return {"error": {"code": "SourceUnreadable", "message": OUT_OF_MEMORY}}
    raise ValueError(f"unknown request {request['op']!r}")


OUT_OF_MEMORY = "Reading the file needed more memory than a task may use."


def main() -> None:
    """Answer the one request on stdin; a failure of ours is answered as
    ``bug`` (the parent raises it as an internal error)."""
    try:
        reply = _answer(json.loads(sys.stdin.read()))
    except MemoryError:  # out of memory before the file was opened
        reply = {"bug": "the probe ran out of memory before it read the file"}
    except Exception:
        reply = {"bug": traceback.format_exc(limit=8)[-2000:]}
    print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
