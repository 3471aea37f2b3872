"""What the editor reads of a draft's preview, which a job on the previews
queue makes right after the upload (``preview_jobs``). The draft's
``preview`` says how far it got; a failure is kept with its code, and the
editor goes on without the preview (trimming by the numbers)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.urls import reverse

from ..models import Draft
from . import queueing

PENDING: dict[str, Any] = {"state": "pending", "bars": None, "proxy": False}


def draft_preview_of(draft: Draft) -> dict[str, Any]:
    """What the editor reads of a draft's preview: the state, the bars and,
    once made, where its proxy plays."""
    preview = {**PENDING, **draft.preview}
    proxied = preview.pop("proxy", False) and draft.proxy.name
    preview["proxy_url"] = (
        reverse("converter:draft-proxy", args=[draft.public_id]) if proxied else None
    )
    return preview


def draft_proxy_discard(draft: Draft) -> None:
    """Remove a draft's proxy from storage once the transaction commits (a
    draft converted or swept no longer needs it)."""
    name = draft.proxy.name
    if name:
        transaction.on_commit(lambda: draft.proxy.storage.delete(name))


def draft_moments_of(draft: Draft) -> dict[str, Any] | None:
    """The draft's suggested moments as the editor reads them (None: none asked for)."""
    return draft.moments or None


def draft_moments_request(draft: Draft, length_s: float) -> dict[str, Any]:
    """Ask for the draft's best moments of ``length_s`` seconds: recorded as
    pending and queued once committed."""
    pending = {"state": "pending", "length": length_s, "items": []}
    Draft.objects.filter(pk=draft.pk).update(moments=pending)
    transaction.on_commit(lambda: queueing.draft_moments_enqueue(draft.pk, length_s))
    return pending
