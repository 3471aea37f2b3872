"""The editor's previews of a draft, made by a job on the previews queue
right after the upload: today the picture inside black bars ("Remove black
bars"). The draft's ``preview`` says how far it got; a failure is kept
with its code, and the editor goes on without the preview."""

from __future__ import annotations

import logging
from typing import Any

from .. import storage
from ..errors import LoopforgeError
from ..models import Draft
from ..pipeline import bars, isolated
from .limits import limits

log = logging.getLogger(__name__)

PENDING: dict[str, Any] = {"state": "pending", "bars": None}


def draft_preview_make(draft: Draft) -> None:
    """Work out the draft's preview and record it (never raises for a bad
    source or a storage fault: the preview is then ``failed``)."""
    if draft.probe.get("audio_only"):
        _record(draft, {"state": "ready", "bars": None})  # no picture, no bars
        return
    try:
        if not draft.source.name:
            raise storage.ObjectNotFound("")
        with storage.stored_source_copy(draft.source.name) as path:
            # Probed again, decoding a frame, in the sandbox: the upload's
            # header probe read no picture.
            info = isolated.probe(path, limits(), audio_only_ok=True)
            box = bars.picture_box(path, info, limits())
    except storage.ObjectNotFound:
        _record(draft, {"state": "failed", "bars": None, "code": "SourceNotFound"})
        return
    except LoopforgeError as exc:
        log.warning("draft %s: no preview: %s %s", draft.public_id, exc.code, exc.message)
        _record(draft, {"state": "failed", "bars": None, "code": exc.code})
        return
    found = (
        None if box is None else {"x": box.x, "y": box.y, "width": box.width, "height": box.height}
    )
    _record(draft, {"state": "ready", "bars": found})


def _record(draft: Draft, preview: dict[str, Any]) -> None:
    Draft.objects.filter(pk=draft.pk).update(preview=preview)


def draft_preview_of(draft: Draft) -> dict[str, Any]:
    """What the editor reads of a draft's preview."""
    return {**PENDING, **draft.preview}
