"""Alibaba Cloud's RPC protocol at the site root, as the official IMM SDKs
speak it, so that programs written for IMM run with only the endpoint and
the AccessKey changed.

A request names its action and version in the ``x-acs-action`` /
``x-acs-version`` headers or the query, carries its parameters in the query
or a form body (objects and lists as JSON strings, the SDKs' "shrink" form,
or flattened as ``Sources.1.URI``), and is signed (``converter.signatures``).
The parameters become the body of the JSON API's action, typed by the
OpenAPI document's request schema, and the same handler answers
(``converter.views.api.ACTIONS``): one implementation of every action, two
protocols. Errors have IMM's shape: ``{RequestId, HostId, Code, Message,
Recommend}``.

A key acts on its own project only, as on the JSON API: IMM's AccessKey
reaches every project of its account, but one of ours is given for one
project, and naming another is refused with ``Forbidden``.
"""

from __future__ import annotations

import json
import logging
import math
import re
import uuid
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from .. import selectors, signatures
from ..errors import Code, LoopforgeError, imm_code
from ..models import AccessKey
from ..openapi import ACTIONS as DOCUMENTED
from ..openapi import RPC_PROTOCOL_PARAMETERS, RPC_VERSION, SCHEMAS
from ..services import access_keys
from . import api

log = logging.getLogger(__name__)

RPC_PATH = "/"
FORM = "application/x-www-form-urlencoded"
_INTEGER = re.compile(r"-?[0-9]+")


def is_rpc(request: HttpRequest) -> bool:
    """Whether a request to the site root is an RPC call rather than a
    visit to the upload page: it names an action or carries a signature."""
    if request.path != RPC_PATH:
        return False
    query = request.META.get("QUERY_STRING", "")
    return (
        "x-acs-action" in request.headers
        or request.headers.get("Authorization", "").startswith("ACS3-")
        or query.startswith(("Action=", "Signature="))
        or "&Action=" in query
        or "&Signature=" in query
    )


class RpcRoutingMiddleware:
    """Sends RPC calls at the site root to ``converter.rpc_urls``, whose one
    view is exempt from the CSRF check (a signed request is no form post);
    everything else at ``/`` stays the upload page, with its CSRF check."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if is_rpc(request):
            request.urlconf = "converter.rpc_urls"
        return self.get_response(request)


def error(request: HttpRequest, request_id: str, exc: LoopforgeError) -> JsonResponse:
    """The one error answer of the RPC protocol, IMM's shape and codes."""
    code = imm_code(exc)
    response = JsonResponse(
        {
            "RequestId": request_id,
            "HostId": request.get_host(),
            "Code": code,
            "Message": exc.message,
            "Recommend": request.build_absolute_uri(f"/api/v1/openapi.json#{code}"),
        },
        status=exc.status,
        json_dumps_params={"ensure_ascii": False},
    )
    response["X-Request-Id"] = request_id
    return response


@csrf_exempt
def dispatch(request: HttpRequest) -> JsonResponse:
    request_id = str(uuid.uuid4()).upper()
    try:
        if request.method not in ("GET", "POST"):
            raise LoopforgeError(Code.METHOD_NOT_ALLOWED, "Call the RPC protocol with POST or GET.")
        signed = _signed_request(request)
        key, claim = _authenticate(signed)
        name = _action(signed, claim)
        body = parameters(name, [*signed.query, *signed.form])
        result = api.ACTIONS[name](api.Call(request, request_id, key, body))
    except LoopforgeError as exc:
        return error(request, request_id, exc)
    except Exception:
        log.exception("RPC request %s failed", request_id)
        message = f"The request failed; it has been logged as {request_id}."
        return error(request, request_id, LoopforgeError(Code.INTERNAL_ERROR, message))
    response = JsonResponse(
        {"RequestId": request_id, **result}, json_dumps_params={"ensure_ascii": False}
    )
    response["X-Request-Id"] = request_id
    return response


def _signed_request(request: HttpRequest) -> signatures.Request:
    try:
        body = request.body
    except RequestDataTooBig:
        raise LoopforgeError(Code.REQUEST_TOO_LARGE, "The request body is too large.") from None
    is_form = request.content_type == FORM
    try:
        form = signatures.parse_query(body.decode()) if is_form and body else []
    except UnicodeDecodeError:
        raise LoopforgeError(Code.INVALID_PARAMETER, "The form body is not UTF-8.") from None
    return signatures.Request(
        method=request.method or "",
        path=RPC_PATH,
        query=signatures.parse_query(request.META.get("QUERY_STRING", "")),
        headers={name.lower(): value for name, value in request.headers.items()},
        body=body,
        form=form,
    )


def _authenticate(signed: signatures.Request) -> tuple[AccessKey, signatures.Credential]:
    """The key that signed the request, after every check IMM makes, in its
    order: the signature's parts, the time, the key, the signature, the nonce."""
    claim = signatures.credential(signed)
    signatures.check_time(claim.timestamp, timezone.now())
    signatures.check_nonce(claim.nonce)
    key = selectors.access_key_find(claim.key_id)
    if key is None:
        raise LoopforgeError(
            Code.INVALID_ACCESS_KEY_ID_NOT_FOUND, "Specified access key is not found."
        )
    if not key.is_active:
        raise LoopforgeError(
            Code.INVALID_ACCESS_KEY_ID_INACTIVE, "Specified access key is revoked."
        )
    secret = access_keys.access_key_secret(key)
    if secret is None:
        raise LoopforgeError(
            Code.INVALID_ACCESS_KEY_ID_NO_SECRET,
            "This access key was made before secrets were kept for signatures: it works "
            "with the JSON API only. Make a new key, or have the operator run "
            "`manage.py rekeyaccesskey` for it.",
        )
    if not claim.verify(secret):
        raise LoopforgeError(
            Code.SIGNATURE_DOES_NOT_MATCH,
            "Specified signature is not matched with our calculation. "
            f"Server string to sign is: {claim.string_to_sign}",
        )
    signatures.nonce_claim(key.key_id, claim.nonce)
    access_keys.access_key_touch(key)
    return key, claim


def _action(signed: signatures.Request, claim: signatures.Credential) -> str:
    """The action and version the request names where its signature covers
    them: the query, or (ACS3, which signs every x-acs-* header) the headers."""
    params = dict(signed.query) | dict(signed.form)
    acs3 = claim.algorithm == signatures.ACS3
    name = params.get("Action") or (signed.headers.get("x-acs-action", "") if acs3 else "")
    version = params.get("Version") or (signed.headers.get("x-acs-version", "") if acs3 else "")
    if version != RPC_VERSION:
        raise LoopforgeError(
            Code.INVALID_VERSION,
            f"Specified parameter Version is not valid: {version[:40]!r}; this is {RPC_VERSION}.",
        )
    if name not in api.ACTIONS:
        raise LoopforgeError(
            Code.INVALID_ACTION_NOT_FOUND,
            f"Specified api {name[:64]!r} is not found; see /api/v1/openapi.json.",
        )
    return name


# --- Parameters ----------------------------------------------------------------------


def parameters(action: str, pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """The JSON API body of ``action`` from RPC parameters: the action's own
    (the protocol's and unknown ones are ignored, as IMM ignores them),
    typed by its request schema. A flattened name (``Targets.1.Image...``,
    ``Tags.team``) builds its object; a parameter given twice, or not of its
    type, is ``InvalidParameter.<Name>``."""
    properties = DOCUMENTED[action]["request"]["properties"]
    whole: dict[str, str] = {}
    flat: dict[str, list[tuple[list[str], str]]] = {}
    seen: set[str] = set()
    for name, value in pairs:
        top, _, rest = name.partition(".")
        if top in RPC_PROTOCOL_PARAMETERS or top not in properties:
            continue
        if name in seen:
            raise LoopforgeError(
                Code.INVALID_PARAMETER, f"{name} is given more than once.", field=name
            )
        seen.add(name)
        if rest:
            flat.setdefault(top, []).append((rest.split("."), value))
        else:
            whole[top] = value
    body: dict[str, Any] = {}
    for top in [*whole, *flat]:
        if top in whole and top in flat:
            raise LoopforgeError(
                Code.INVALID_PARAMETER,
                f"{top} is given both whole and flattened ({top}.…).",
                field=top,
            )
        schema = properties[top]
        if top in whole:
            body[top] = _text(whole[top], schema, top, json_allowed=True)
        else:
            body[top] = _typed(_tree(flat[top], top), schema, top)
    return body


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _types(schema: dict[str, Any]) -> list[str]:
    types = _resolve(schema).get("type", [])
    return [types] if isinstance(types, str) else list(types)


def _wrong(path: str, what: str) -> LoopforgeError:
    return LoopforgeError(
        Code.INVALID_PARAMETER, f"The input parameter {path} is not valid: {what}.", field=path
    )


def _text(value: str, schema: dict[str, Any], path: str, *, json_allowed: bool) -> Any:
    """A parameter's text as its schema's type: a whole number, a number,
    true/false, or (``json_allowed``: a whole parameter) the JSON string of
    an object or a list; a string stays a string."""
    types = _types(schema)
    if "string" in types or not types:
        return value
    if "null" in types and value == "":
        return None
    if "integer" in types and _INTEGER.fullmatch(value):
        return int(value)
    if "number" in types and math.isfinite(number := _float(value)):
        return int(value) if _INTEGER.fullmatch(value) else number
    if "boolean" in types and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if json_allowed and ("object" in types or "array" in types):
        return _json(value, types, path)
    raise _wrong(path, f"not {' or '.join(types)}")


def _float(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return math.nan


def _json(value: str, types: list[str], path: str) -> Any:
    """A JSON string of an object or a list (the SDKs' "shrink" form)."""
    try:
        parsed = json.loads(value, parse_constant=api._not_json)
    except (ValueError, RecursionError):
        raise _wrong(path, "not a JSON string") from None
    if (isinstance(parsed, dict) and "object" in types) or (
        isinstance(parsed, list) and "array" in types
    ):
        return parsed
    raise _wrong(path, f"not the JSON of {' or '.join(types)}")


def _tree(items: list[tuple[list[str], str]], path: str) -> dict[str, Any]:
    """Flattened names (``1.Image.Animations.1.Format``) as nested objects,
    leaves still text."""
    root: dict[str, Any] = {}
    for parts, value in items:
        node = root
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise _wrong(f"{path}.{'.'.join(parts)}", "given both whole and flattened")
            node = child
        if parts[-1] in node:
            raise _wrong(f"{path}.{'.'.join(parts)}", "given both whole and flattened")
        node[parts[-1]] = value
    return root


def _typed(node: Any, schema: dict[str, Any], path: str) -> Any:
    """A flattened tree typed by ``schema``: numbered members (from 1) make
    a list, leaves take their property's type; what the schema does not
    describe stays text (the action ignores or refuses it)."""
    schema = _resolve(schema)
    types = _types(schema)
    if isinstance(node, str):
        return _text(node, schema, path, json_allowed=False)
    if "array" in types:
        if not all(k.isdigit() and int(k) >= 1 for k in node):
            raise _wrong(path, "a list's members are numbered from 1")
        items = schema.get("items", {})
        ordered = sorted(node.items(), key=lambda kv: int(kv[0]))
        return [_typed(v, items, f"{path}.{k}") for k, v in ordered]
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties")
    return {
        k: _typed(v, properties.get(k) or (extra if isinstance(extra, dict) else {}), f"{path}.{k}")
        for k, v in node.items()
    }
