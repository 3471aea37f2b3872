"""The web pages' one JSON error shape, for their scripts:
``{"code", "message", "errors": {field: [message, ...]}}``. ``message`` is
always there and meant for people; ``errors`` holds per-field messages of a
form. (The API has its own, IMM's: see ``views.api.error``.)"""

from __future__ import annotations

from collections.abc import Mapping

from django.http import JsonResponse

from ..errors import LoopforgeError


def refusal_json(
    exc: LoopforgeError, errors: Mapping[str, list[str]] | None = None
) -> JsonResponse:
    body = {
        "code": exc.code,
        "message": exc.message,
        "errors": {field: list(messages) for field, messages in (errors or {}).items()},
    }
    return JsonResponse(body, status=exc.status, json_dumps_params={"ensure_ascii": False})
