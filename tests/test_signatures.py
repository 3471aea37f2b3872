"""The RPC protocol's signatures, checked against the signing code of the
SDKs themselves (installed from PyPI): what they sign, we verify, and any
change to a signed part, or another secret, fails."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import urlencode, urlsplit

import pytest
from alibabacloud_tea_openapi.utils import Utils as TeaUtils
from aliyunsdkcore.auth.composer import rpc_signature_composer

from converter import signatures
from converter.errors import LoopforgeError

SECRET = "a-secret-of-the-key"
EMPTY_SHA = hashlib.sha256(b"").hexdigest()
SOURCES = json.dumps([{"URI": "oss://bucket/video-demo/釀酒 1+1.mov", "Subtitles": []}])


def acs3_request(query: dict[str, str], body: bytes = b"", **extra_headers: str):
    """A request as alibabacloud-tea-openapi makes and signs it (its
    ``do_request``): the headers it sets, its payload hash, its
    ``get_authorization``; then the URL as it sends it (``urlencode``)."""
    headers = {
        "host": "127.0.0.1:8000",
        "x-acs-version": "2020-09-30",
        "x-acs-action": "CreateMediaConvertTask",
        "user-agent": "AlibabaCloud (Linux; x86_64) Python/3.11 Core/0.4.3 TeaDSL/2",
        "x-acs-date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "x-acs-signature-nonce": TeaUtils.get_nonce(),
        "accept": "application/json",
        "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
        "x-acs-credentials-provider": "static_ak",
        **extra_headers,
    }
    tea = SimpleNamespace(pathname="/", query=dict(query), headers=dict(headers), method="POST")
    headers["Authorization"] = TeaUtils.get_authorization(
        tea, signatures.ACS3, headers["x-acs-content-sha256"], "LFKEY", SECRET
    )
    raw = urlencode(query)
    return signatures.Request(
        method="POST",
        path="/",
        query=signatures.parse_query(raw),
        headers={k.lower(): v for k, v in headers.items()},
        body=body,
    )


def test_an_acs3_signature_of_the_current_sdk_verifies_with_the_secret_only():
    request = acs3_request({"ProjectName": "test-project", "Sources": SOURCES, "Empty": ""})
    claim = signatures.credential(request)
    assert claim.key_id == "LFKEY" and claim.algorithm == signatures.ACS3
    assert claim.verify(SECRET)
    assert not claim.verify(SECRET + "x") and not claim.verify("")


@pytest.mark.parametrize(
    "change",
    [
        lambda r: {**r.__dict__, "query": [*r.query[:-1], ("ProjectName", "other-project")]},
        lambda r: {**r.__dict__, "method": "GET"},
        lambda r: {**r.__dict__, "path": "/api/"},
        lambda r: {**r.__dict__, "headers": {**r.headers, "x-acs-action": "DeleteProject"}},
        lambda r: {**r.__dict__, "headers": {**r.headers, "host": "elsewhere:8000"}},
    ],
)
def test_an_acs3_signature_fails_when_a_signed_part_changes(change):
    request = acs3_request({"Sources": SOURCES, "ProjectName": "test-project"})
    assert signatures.credential(request).verify(SECRET)
    changed = signatures.Request(**change(request))
    assert not signatures.credential(changed).verify(SECRET)


def test_an_acs3_body_must_be_the_one_its_hash_names():
    request = acs3_request({"ProjectName": "p"}, body=b"ProjectName=p")
    assert signatures.credential(request).verify(SECRET)
    other = signatures.Request(**{**request.__dict__, "body": b"ProjectName=q"})
    with pytest.raises(LoopforgeError) as refused:
        signatures.credential(other)
    assert refused.value.code == "SignatureDoesNotMatch"


def test_an_acs3_request_must_sign_its_time_nonce_and_every_acs_header():
    request = acs3_request({"ProjectName": "p"}, **{"x-acs-extra": "1"})
    assert signatures.credential(request).verify(SECRET)
    authorization = request.headers["authorization"].replace("x-acs-date;", "")
    unsigned = signatures.Request(
        **{**request.__dict__, "headers": {**request.headers, "authorization": authorization}}
    )
    with pytest.raises(LoopforgeError) as refused:
        signatures.credential(unsigned)
    assert refused.value.code == "IncompleteSignature" and "x-acs-date" in refused.value.message
    added = signatures.Request(
        **{**request.__dict__, "headers": {**request.headers, "x-acs-added-later": "1"}}
    )
    with pytest.raises(LoopforgeError) as refused:
        signatures.credential(added)
    assert "x-acs-added-later" in refused.value.message


@pytest.mark.parametrize(
    "authorization",
    [
        "ACS3-HMAC-SM3 Credential=LFKEY,SignedHeaders=host,Signature=00",
        "ACS3-HMAC-SHA256 Credential=LFKEY,Signature=00",
        "ACS3-HMAC-SHA256",
    ],
)
def test_a_malformed_acs3_authorization_is_incomplete(authorization):
    request = acs3_request({"ProjectName": "p"})
    broken = signatures.Request(
        **{**request.__dict__, "headers": {**request.headers, "authorization": authorization}}
    )
    with pytest.raises(LoopforgeError) as refused:
        signatures.credential(broken)
    assert refused.value.code == "IncompleteSignature"


def old_sdk_request(params: dict[str, str], body: dict[str, str] | None = None):
    """A request as aliyun-python-sdk-core signs and sends it: its own
    ``get_signed_url`` over the query and body parameters."""
    url, _ = rpc_signature_composer.get_signed_url(
        dict(params), "LFKEY", SECRET, "JSON", "POST", dict(body or {})
    )
    return signatures.Request(
        method="POST",
        path="/",
        query=signatures.parse_query(urlsplit(url).query),
        headers={"host": "127.0.0.1:8000"},
        body=urlencode(body or {}).encode(),
        form=signatures.parse_query(urlencode(body or {})),
    )


def test_an_rpc_signature_of_the_previous_sdk_verifies_with_the_secret_only():
    params = {"Action": "GetTask", "Version": "2020-09-30", "ProjectName": "p", "Sources": SOURCES}
    request = old_sdk_request(params, body={"TaskId": "mc-1 2*~"})
    claim = signatures.credential(request)
    assert claim.key_id == "LFKEY" and claim.algorithm == "HMAC-SHA1"
    assert claim.verify(SECRET) and not claim.verify(SECRET[:-1])
    changed = signatures.Request(**{**request.__dict__, "form": [("TaskId", "mc-2")]})
    assert not signatures.credential(changed).verify(SECRET)


def test_the_current_sdks_own_rpc_signer_agrees():
    """alibabacloud-tea-openapi signs the same way with signature_algorithm v2."""
    params = {
        "Action": "ListTasks",
        "Version": "2020-09-30",
        "Format": "json",
        "Timestamp": "2026-12-01T00:00:00Z",
        "SignatureNonce": "n-1",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "AccessKeyId": "LFKEY",
        "TagSelector": "team=a b,x=*",
    }
    params["Signature"] = TeaUtils.get_rpcsignature(dict(params), "POST", SECRET)
    request = signatures.Request("POST", "/", signatures.parse_query(urlencode(params)), {}, b"")
    assert signatures.credential(request).verify(SECRET)


def test_an_rpc_signature_without_its_parameters_is_incomplete():
    request = old_sdk_request({"Action": "GetTask", "Version": "2020-09-30"})
    without = signatures.Request(
        **{**request.__dict__, "query": [p for p in request.query if p[0] != "SignatureNonce"]}
    )
    with pytest.raises(LoopforgeError) as refused:
        signatures.credential(without)
    assert refused.value.code == "IncompleteSignature"
    twice = signatures.Request(**{**request.__dict__, "query": [*request.query, ("Action", "X")]})
    with pytest.raises(LoopforgeError) as refused:
        signatures.credential(twice)
    assert refused.value.code == "InvalidParameter.Action"


def test_an_unsigned_request_is_incomplete():
    request = signatures.Request("POST", "/", [("Action", "GetTask")], {}, b"")
    assert not signatures.is_signed(request)
    with pytest.raises(LoopforgeError) as refused:
        signatures.credential(request)
    assert refused.value.code == "IncompleteSignature"


def test_a_time_more_than_15_minutes_off_is_refused():
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    for offset in (timedelta(minutes=-15), timedelta(0), timedelta(minutes=15)):
        signatures.check_time((now + offset).strftime("%Y-%m-%dT%H:%M:%SZ"), now)
    for offset in (timedelta(minutes=-15, seconds=-1), timedelta(minutes=15, seconds=1)):
        with pytest.raises(LoopforgeError) as refused:
            signatures.check_time((now + offset).strftime("%Y-%m-%dT%H:%M:%SZ"), now)
        assert refused.value.code == "InvalidTimeStamp.Expired"
    for malformed in ("2026-12-01 12:00:00", "yesterday", "2026-12-01T12:00:00+08:00", ""):
        with pytest.raises(LoopforgeError) as refused:
            signatures.check_time(malformed, now)
        assert refused.value.code == "InvalidTimeStamp.Format"


def test_a_nonce_names_no_redis_key_of_its_own():
    key = signatures.nonce_key("LFKEY", "loopforge:mns:x\r\n*")
    assert key.startswith("loopforge:nonce:") and len(key) == len("loopforge:nonce:") + 64
    assert key != signatures.nonce_key("LFOTHER", "loopforge:mns:x\r\n*")
