"""Alibaba Cloud's RPC protocol at the site root, request by request through
Django's test client, signed with the current SDK's own signing code: how
parameters are read (query, form body, JSON strings, flattened names), what
is ignored and what refused, the error shape, and that the upload page at
the same address is untouched."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
from alibabacloud_tea_openapi.utils import Utils as TeaUtils
from django.test import Client

from converter.openapi import document
from tests.api import call, check
from tests.factories import make_project_with_key, make_user

pytestmark = pytest.mark.django_db

DOC = document()
HOST = "testserver"


def rpc(
    client,
    action: str | None,
    params: dict[str, str],
    key: tuple[str, str],
    *,
    form: dict[str, str] | None = None,
    version: str = "2020-09-30",
    method: str = "POST",
    signed: bool = True,
):
    """One call as alibabacloud-tea-openapi makes it (its headers, its
    payload hash, its ``get_authorization``); ``form`` goes in the body."""
    body = urlencode(form).encode() if form else b""
    headers = {
        "host": HOST,
        "x-acs-version": version,
        "x-acs-date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "x-acs-signature-nonce": TeaUtils.get_nonce(),
        "accept": "application/json",
        "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
    }
    if action is not None:
        headers["x-acs-action"] = action
    if form:
        headers["content-type"] = "application/x-www-form-urlencoded"
    if signed:
        tea = SimpleNamespace(pathname="/", query=params, headers=dict(headers), method=method)
        headers["Authorization"] = TeaUtils.get_authorization(
            tea, "ACS3-HMAC-SHA256", headers["x-acs-content-sha256"], key[0], key[1]
        )
    meta = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
    meta.pop("HTTP_CONTENT_TYPE", None)
    response = client.generic(
        method,
        "/?" + urlencode(params),
        data=body,
        content_type="application/x-www-form-urlencoded" if form else "",
        **meta,
    )
    payload = response.json()
    payload["_status"] = response.status_code
    return payload


def answer_of(action: str, payload: dict) -> dict:
    """A success, checked against the JSON API's documented answer of ``action``."""
    assert payload["_status"] == 200, payload
    body = {k: v for k, v in payload.items() if k != "_status"}
    operation = DOC["paths"][f"/api/v1/{action}"]["post"]
    check(body, operation["responses"]["200"]["content"]["application/json"]["schema"])
    return body


def refusal(payload: dict, code: str, status: int) -> dict:
    body = {k: v for k, v in payload.items() if k != "_status"}
    assert (payload["Code"], payload["_status"]) == (code, status), payload
    assert set(body) == {"RequestId", "HostId", "Code", "Message", "Recommend"}
    check(body, {"$ref": "#/components/schemas/RpcError"})
    assert body["HostId"] == HOST
    return body


def test_an_action_answers_as_the_json_api_does(client):
    _, key = make_project_with_key("test-project")
    got = answer_of("GetProject", rpc(client, "GetProject", {"ProjectName": "test-project"}, key))
    same = call(client, "GetProject", {"ProjectName": "test-project"}, key=key)
    assert got["Project"] == same["Project"] and got["RequestId"] != same["RequestId"]


def test_action_and_version_may_come_from_the_query_and_parameters_from_a_form():
    client = Client()
    _, key = make_project_with_key("test-project")
    params = {"Action": "ListTasks", "Version": "2020-09-30"}
    listed = rpc(client, None, params, key, form={"ProjectName": "test-project", "MaxResults": "5"})
    assert answer_of("ListTasks", listed)["MaxResults"] == 5


def test_parameters_are_typed_unknown_ones_ignored_and_wrong_types_refused(client):
    _, key = make_project_with_key("test-project")
    ok = rpc(
        client,
        "ListTasks",
        {
            "ProjectName": "test-project",
            "MaxResults": "7",
            "RequestDefinition": "True",
            "CreationTimeRange": json.dumps({"Start": "2026-01-01T00:00:00Z"}),
            "TaskTypes": '["MediaConvert"]',
            "SomethingImmHasNot": "whatever",
            "RegionId": "cn-hangzhou",
        },
        key,
    )
    assert answer_of("ListTasks", ok)["MaxResults"] == 7
    for params, field in (
        ({"MaxResults": "seven"}, "MaxResults"),
        ({"MaxResults": "7.5"}, "MaxResults"),
        ({"RequestDefinition": "maybe"}, "RequestDefinition"),
        ({"CreationTimeRange": "{not json"}, "CreationTimeRange"),
        ({"CreationTimeRange": '["a list"]'}, "CreationTimeRange"),
        ({"TaskTypes": '{"an": "object"}'}, "TaskTypes"),
    ):
        wrong = rpc(client, "ListTasks", {"ProjectName": "test-project", **params}, key)
        assert "is not valid" in refusal(wrong, f"InvalidParameter.{field}", 400)["Message"]
    # A value the handler refuses is IMM's InvalidArgument, without a field.
    wrong = rpc(client, "ListTasks", {"ProjectName": "test-project", "Status": "Asleep"}, key)
    assert "Status" in refusal(wrong, "InvalidArgument", 400)["Message"]


def test_flattened_parameters_build_their_objects(client, settings):
    _, key = make_project_with_key("test-project")
    bucket = settings.CONVERTER_API_BUCKETS[0]
    flat = {
        "ProjectName": "test-project",
        "Sources.1.URI": f"oss://{bucket}/no/such.mov",
        "Sources.1.StartTime": "5",
        "Targets.1.Image.Animations.1.Format": "webp",
        "Targets.1.Image.Animations.1.Width": "0.5",
        "Targets.1.Image.Animations.1.URI": f"oss://{bucket}/out.{{autoext}}",
        "Tags.team": "blue",
    }
    # Everything parsed and checked: only the missing source object is left.
    missing = rpc(client, "CreateMediaConvertTask", flat, key)
    assert "no/such.mov" in refusal(missing, "ResourceNotFound", 404)["Message"]
    wrong = rpc(client, "CreateMediaConvertTask", {**flat, "Sources.1.StartTime": "soon"}, key)
    refusal(wrong, "InvalidParameter.Sources.1.StartTime", 400)
    twice = rpc(client, "CreateMediaConvertTask", {**flat, "Tags": '{"team": "red"}'}, key)
    refusal(twice, "InvalidParameter.Tags", 400)


def test_the_protocol_refuses_what_it_cannot_serve(client):
    _, key = make_project_with_key("test-project")
    params = {"ProjectName": "test-project"}
    refusal(rpc(client, "GetProject", params, key, version="2017-09-06"), "InvalidVersion", 400)
    refusal(rpc(client, "PutProject", params, key), "InvalidAction.NotFound", 404)
    refusal(rpc(client, "GetProject", params, key, signed=False), "IncompleteSignature", 400)
    refusal(rpc(client, "GetProject", params, key, method="PUT"), "MethodNotAllowed", 405)
    refusal(rpc(client, "GetProject", params, (key[0], "wrong")), "SignatureDoesNotMatch", 400)
    refusal(
        rpc(client, "GetProject", params, ("LFNOSUCH", key[1])), "InvalidAccessKeyId.NotFound", 404
    )


def test_a_key_without_a_kept_secret_is_told_what_to_do(client):
    project, key = make_project_with_key("test-project")
    project.access_keys.update(secret_encrypted="")  # made before secrets were kept
    refused = rpc(client, "GetProject", {"ProjectName": "test-project"}, key)
    assert "rekeyaccesskey" in refusal(refused, "InvalidAccessKeyId.NoSecret", 403)["Message"]
    assert call(client, "GetProject", {"ProjectName": "test-project"}, key=key)["Project"]


def test_a_secret_is_never_logged(client, caplog):
    _, key = make_project_with_key("test-project")
    with caplog.at_level(logging.DEBUG):
        rpc(client, "GetProject", {"ProjectName": "test-project"}, key)
        rpc(client, "GetProject", {"ProjectName": "test-project"}, (key[0], key[1] + "x"))
        rpc(client, "NoSuchAction", {}, key)
    assert key[1] not in caplog.text


def test_the_upload_page_at_the_same_address_is_untouched():
    browser = Client(enforce_csrf_checks=True)
    user = make_user()
    browser.force_login(user)
    assert browser.get("/").status_code == 200
    assert browser.post("/", {"format": "gif"}).status_code == 403  # no CSRF token: refused
    # And an RPC call is no way around the CSRF check: it gets the RPC answer.
    unsigned = browser.post("/?Action=GetProject", {"format": "gif"})
    assert unsigned.status_code == 400 and unsigned.json()["Code"] == "IncompleteSignature"
