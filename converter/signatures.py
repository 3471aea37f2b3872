"""The signatures of Alibaba Cloud's RPC protocol, checked exactly as the
official SDKs make them.

Two generations:

- ACS3-HMAC-SHA256 (``alibabacloud-tea-openapi``, the current SDKs): an
  ``Authorization: ACS3-HMAC-SHA256 Credential=<id>,SignedHeaders=<a;b>,
  Signature=<hex>`` header, the HMAC-SHA256 of
  ``"ACS3-HMAC-SHA256\\n" + hex(sha256(canonical request))``, the canonical
  request being the method, the path, the sorted percent-encoded query, the
  signed headers (``name:value`` lines) and their names, and
  ``x-acs-content-sha256`` (the body's SHA-256), each on its own line
  (``alibabacloud_tea_openapi/utils.py``, ``get_authorization``).
- The RPC signature, version 1.0 (``aliyun-python-sdk-core``, the previous
  SDKs, and command-line tools): ``Signature`` in the query, the base64
  HMAC-SHA1 (or -SHA256) keyed by ``secret + "&"`` of
  ``METHOD&%2F&<percent-encoded sorted parameters>``, the parameters being
  the query's and a form body's (``aliyunsdkcore/auth/composer/
  rpc_signature_composer.py``).

Percent-encoding is RFC 3986's, as both use it: everything but letters,
digits and ``-_.~`` is escaped, a space as ``%20``.

A request is refused if its time is more than ``CLOCK_SKEW_S`` off the
server's clock, or if its key used its nonce within ``NONCE_TTL_S`` (a
replay): ``nonce_claim``. Nothing here logs a secret or a signature.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote

from .errors import Code, LoopforgeError

log = logging.getLogger(__name__)

ACS3 = "ACS3-HMAC-SHA256"
RPC_METHODS = {"HMAC-SHA1": hashlib.sha1, "HMAC-SHA256": hashlib.sha256}
# More parameters than a request of any action has; past it the request is refused.
MAX_PARAMETERS = 1000
# The reference's window: a request more than 15 minutes off is refused.
CLOCK_SKEW_S = 15 * 60
# A nonce is remembered while a request carrying it could still be in the
# window: its time may be up to CLOCK_SKEW_S ahead of the clock and is
# accepted until CLOCK_SKEW_S after it.
NONCE_TTL_S = 2 * CLOCK_SKEW_S
MAX_NONCE_CHARS = 128
# Headers whose presence the signature must cover (besides every x-acs-* one):
# who is addressed, when, the nonce, and the body.
ACS3_REQUIRED_HEADERS = ("host", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256")
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def percent_encode(value: str) -> str:
    """RFC 3986 percent-encoding of UTF-8, as the SDKs sign: ``-_.~`` kept."""
    return quote(value, safe="~", encoding="utf-8")


def parse_query(raw: str) -> list[tuple[str, str]]:
    """The decoded pairs of a query string or a form body, in order, blanks
    kept. ``+`` is a space, as both SDKs send one (the current SDK's URL is
    made with ``urlencode``); a literal plus arrives as ``%2B``."""
    try:
        return parse_qsl(
            raw,
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_PARAMETERS,
        )
    except (ValueError, UnicodeDecodeError):  # too many fields, or not UTF-8
        raise LoopforgeError(
            Code.INVALID_PARAMETER,
            f"The parameters are not UTF-8 or more than {MAX_PARAMETERS}.",
        ) from None


@dataclass(frozen=True)
class Request:
    """The parts of an HTTP request a signature covers, as received."""

    method: str
    path: str  # as sent (not decoded)
    query: Sequence[tuple[str, str]]  # decoded pairs, in the order sent
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    form: Sequence[tuple[str, str]] = ()  # a form-encoded body's pairs


@dataclass(frozen=True)
class Credential:
    """A request's claim to be signed by a key, not yet checked."""

    key_id: str
    algorithm: str
    timestamp: str
    nonce: str
    string_to_sign: str
    signature: str

    def verify(self, secret: str) -> bool:
        """Whether ``secret`` makes this signature (in constant time)."""
        expected = sign(self.algorithm, secret, self.string_to_sign)
        return hmac.compare_digest(expected.encode(), self.signature.encode())


def sign(algorithm: str, secret: str, string_to_sign: str) -> str:
    """The signature ``secret`` makes of ``string_to_sign`` with ``algorithm``."""
    data = string_to_sign.encode()
    if algorithm == ACS3:
        return hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()
    digest = hmac.new(f"{secret}&".encode(), data, RPC_METHODS[algorithm]).digest()
    return base64.b64encode(digest).decode()


def is_signed(request: Request) -> bool:
    """Whether the request carries a signature of either generation."""
    return request.headers.get("authorization", "").startswith("ACS3-") or any(
        name == "Signature" for name, _ in request.query
    )


def credential(request: Request) -> Credential:
    """The request's signature claim, of whichever generation it carries;
    ``IncompleteSignature`` when it carries none or only part of one."""
    authorization = request.headers.get("authorization", "")
    if authorization.startswith("ACS3-"):
        return _acs3(request, authorization)
    if any(name == "Signature" for name, _ in request.query):
        return _rpc(request)
    raise _incomplete(
        "The request is not signed: sign it as Alibaba Cloud's SDKs do "
        f"(an {ACS3} Authorization header, or the RPC Signature parameters)."
    )


def _incomplete(message: str) -> LoopforgeError:
    return LoopforgeError(Code.INCOMPLETE_SIGNATURE, message)


# --- ACS3-HMAC-SHA256 -------------------------------------------------------------------


def _acs3_fields(authorization: str) -> tuple[str, dict[str, str]]:
    algorithm, _, rest = authorization.partition(" ")
    if algorithm != ACS3:
        raise _incomplete(f"The signature algorithm must be {ACS3}, not {algorithm!r}.")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, eq, value = part.strip().partition("=")
        if eq:
            fields[name] = value.strip()
    missing = [f for f in ("Credential", "SignedHeaders", "Signature") if not fields.get(f)]
    if missing:
        raise _incomplete(f"The Authorization header lacks {', '.join(missing)}.")
    return algorithm, fields


def canonical_query(pairs: Sequence[tuple[str, str]]) -> str:
    """The sorted, percent-encoded query of ACS3's canonical request."""
    return "&".join(
        f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(pairs, key=lambda p: p[0])
    )


def _acs3(request: Request, authorization: str) -> Credential:
    algorithm, fields = _acs3_fields(authorization)
    signed = [h.strip().lower() for h in fields["SignedHeaders"].split(";") if h.strip()]
    must = set(ACS3_REQUIRED_HEADERS) | {h for h in request.headers if h.startswith("x-acs-")}
    unsigned = sorted(h for h in must if h not in signed)
    if unsigned:
        raise _incomplete(f"These headers must be signed too: {', '.join(unsigned)}.")
    absent = [h for h in signed if h not in request.headers]
    if absent:
        raise _incomplete(f"Signed headers missing from the request: {', '.join(absent)}.")
    content_sha = request.headers["x-acs-content-sha256"].strip().lower()
    if not hmac.compare_digest(
        content_sha.encode(), hashlib.sha256(request.body).hexdigest().encode()
    ):
        raise LoopforgeError(
            Code.SIGNATURE_DOES_NOT_MATCH,
            "x-acs-content-sha256 is not the SHA-256 of the request body.",
        )
    headers = "".join(f"{h}:{request.headers[h].strip()}\n" for h in signed)
    canonical = "\n".join(
        [
            request.method,
            request.path or "/",
            canonical_query(request.query),
            headers,
            ";".join(signed),
            content_sha,
        ]
    )
    string_to_sign = f"{algorithm}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    return Credential(
        key_id=fields["Credential"],
        algorithm=algorithm,
        timestamp=request.headers["x-acs-date"].strip(),
        nonce=request.headers["x-acs-signature-nonce"].strip(),
        string_to_sign=string_to_sign,
        signature=fields["Signature"].lower(),
    )


# --- RPC signature 1.0 -------------------------------------------------------------------


def rpc_string_to_sign(method: str, params: Mapping[str, str]) -> str:
    """``METHOD&%2F&<percent-encoded sorted parameters>`` of the RPC signature."""
    query = "&".join(
        f"{percent_encode(k)}={percent_encode(params[k])}"
        for k in sorted(params)
        if k != "Signature"
    )
    return f"{method}&{percent_encode('/')}&{percent_encode(query)}"


def _rpc(request: Request) -> Credential:
    params: dict[str, str] = {}
    for name, value in [*request.query, *request.form]:
        if name in params:
            raise LoopforgeError(
                Code.INVALID_PARAMETER, f"{name} is given more than once.", field=name
            )
        params[name] = value
    missing = [
        p
        for p in ("AccessKeyId", "SignatureMethod", "SignatureNonce", "Timestamp", "Signature")
        if not params.get(p)
    ]
    if missing:
        raise _incomplete(f"The RPC signature lacks {', '.join(missing)}.")
    method = params["SignatureMethod"]
    if method not in RPC_METHODS:
        raise _incomplete(f"SignatureMethod must be HMAC-SHA1 or HMAC-SHA256, not {method!r}.")
    if params.get("SignatureVersion", "1.0") != "1.0":
        raise _incomplete("SignatureVersion must be 1.0.")
    return Credential(
        key_id=params["AccessKeyId"],
        algorithm=method,
        timestamp=params["Timestamp"],
        nonce=params["SignatureNonce"],
        string_to_sign=rpc_string_to_sign(request.method, params),
        signature=params["Signature"],
    )


# --- Time and replay ----------------------------------------------------------------------


def check_time(timestamp: str, now: datetime) -> None:
    """Refuse a request whose time is malformed or more than CLOCK_SKEW_S off ``now``."""
    try:
        when = datetime.strptime(timestamp, TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise LoopforgeError(
            Code.INVALID_TIMESTAMP_FORMAT,
            f"The request time {timestamp[:40]!r} is not of the form YYYY-MM-DDThh:mm:ssZ (UTC).",
        ) from None
    if abs((now - when).total_seconds()) > CLOCK_SKEW_S:
        raise LoopforgeError(
            Code.INVALID_TIMESTAMP_EXPIRED,
            f"The request time {timestamp} is more than {CLOCK_SKEW_S // 60} minutes off the "
            f"server's clock ({now.astimezone(UTC).strftime(TIME_FORMAT)}).",
        )


def check_nonce(nonce: str) -> None:
    if not nonce or len(nonce) > MAX_NONCE_CHARS or not nonce.isprintable():
        raise _incomplete(
            f"The signature nonce must be 1 to {MAX_NONCE_CHARS} printable characters."
        )


def nonce_key(key_id: str, nonce: str) -> str:
    """Where a used nonce is remembered: the job Redis, under our own prefix;
    hashed, so what a client sends never names a Redis key."""
    digest = hashlib.sha256(f"{key_id}\0{nonce}".encode()).hexdigest()
    return f"loopforge:nonce:{digest}"


def nonce_claim(key_id: str, nonce: str) -> None:
    """Remember ``nonce`` as used by ``key_id``; ``SignatureNonceUsed`` if it
    was already. Without Redis nothing can tell a replay: the request is
    refused (``ServiceUnavailable``) rather than let through."""
    import django_rq
    from redis.exceptions import RedisError

    try:
        fresh = django_rq.get_connection("convert").set(
            nonce_key(key_id, nonce), b"1", nx=True, ex=NONCE_TTL_S
        )
    except RedisError as exc:
        log.warning("nonce store unavailable: %r", exc)
        raise LoopforgeError(
            Code.SERVICE_UNAVAILABLE,
            "Signed requests cannot be checked for replay right now; try again shortly.",
        ) from None
    if not fresh:
        raise LoopforgeError(
            Code.SIGNATURE_NONCE_USED, "This signature nonce was used already (a replay?)."
        )
