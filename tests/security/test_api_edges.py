"""Inputs at the edges of what JSON and Python allow are refused with an
InvalidArgument (or MalformedJSON) code, never an HTTP 500."""

from __future__ import annotations

import json

import pytest

from tests.api import call
from tests.factories import make_project_with_key

pytestmark = pytest.mark.django_db

SOURCE = {"URI": "oss://loopforge-test-api/in/x.mp4"}


def _key() -> tuple[str, str]:
    return make_project_with_key("edges")[1]


def _convert(**animation) -> dict:
    return {
        "ProjectName": "edges",
        "Sources": [SOURCE],
        "Targets": [
            {
                "Image": {
                    "Animations": [
                        {"Format": "gif", "URI": "oss://loopforge-test-api/out/a.gif", **animation}
                    ]
                }
            }
        ],
    }


CASES = [
    ("ListTasks", {"ProjectName": "edges", "MaxResults": "²"}, "InvalidArgument.MaxResults"),
    ("ListTasks", {"ProjectName": "edges", "MaxResults": "١٢"}, None),  # Arabic-Indic 12: fine
    ("ListTasks", {"ProjectName": "edges", "MaxResults": 10**400}, "InvalidArgument.MaxResults"),
    (
        "ListTasks",
        {"ProjectName": "edges", "CreationTimeRange": {"Start": "2026-02-30T00:00:00Z"}},
        "InvalidArgument.CreationTimeRange.Start",
    ),
    (
        "ListTasks",
        {"ProjectName": "edges", "CreationTimeRange": {"End": "2026-13-01T25:61:00Z"}},
        "InvalidArgument.CreationTimeRange.End",
    ),
    ("GetUsage", {"ProjectName": "edges", "StartTime": "2026-04-31T00:00:00"}, None),
    ("CreateMediaConvertTask", _convert(Number=10**400), "InvalidArgument.Number"),
    ("CreateMediaConvertTask", _convert(Interval=1e-308), "InvalidArgument.Interval"),
    ("CreateUploadURL", {"ProjectName": "edges", "URI": SOURCE["URI"], "ExpiresIn": 1e308}, None),
]


@pytest.mark.parametrize(("action", "body", "code"), CASES)
def test_edge_values_are_invalid_arguments(client, action, body, code):
    answer = call(client, action, body, key=_key(), expect=None)
    assert answer["_status"] < 500, answer
    if code:
        assert answer["Code"] == code, answer
    elif answer["_status"] >= 400:
        assert answer["Code"].startswith("InvalidArgument"), answer


def test_a_source_duration_near_the_float_limit_is_refused(client):
    body = _convert()
    body["Sources"] = [{**SOURCE, "Duration": 1e308}]
    answer = call(client, "CreateMediaConvertTask", body, key=_key(), expect=None)
    assert answer["_status"] == 400 and answer["Code"] == "InvalidArgument.Duration", answer


@pytest.mark.parametrize(
    "raw",
    [
        b'{"ProjectName": "edges", "MaxResults": NaN}',
        b'{"ProjectName": "edges", "MaxResults": Infinity}',
        b'{"ProjectName": "edges", "Tags": {"a": -Infinity}}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
        b'{"ProjectName": "edges", "MaxResults": ' + b"9" * 5000 + b"}",
    ],
    ids=["nan", "infinity", "minus-infinity", "deep-list", "deep-object", "huge-integer"],
)
def test_json_that_python_reads_oddly_is_refused_cleanly(client, raw):
    answer = call(client, "ListTasks", raw=raw, key=_key(), expect=None)
    assert answer["_status"] == 400, answer
    assert answer["Code"] in ("MalformedJSON",) or answer["Code"].startswith("InvalidArgument")


def test_nan_is_never_accepted_as_a_number(client):
    raw = json.dumps(_convert(FrameRate=float("nan"))).encode()
    answer = call(client, "CreateMediaConvertTask", raw=raw, key=_key(), expect=None)
    assert answer["_status"] == 400


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"ProjectName": "abc\n"}, "InvalidArgument.ProjectName"),
        ({"ProjectName": "edges", "Tags": {"team\n": "a"}}, "InvalidArgument.Tags"),
        (
            {"ProjectName": "edges", "Notification": {"MNS": {"TopicName": "done\n"}}},
            "InvalidArgument.Notification.MNS.TopicName",
        ),
        (
            {
                "ProjectName": "edges",
                "Notification": {"Webhook": {"URL": "https://example.com/a\nHost: evil"}},
            },
            "InvalidArgument.Notification.Webhook.URL",
        ),
        ({"ProjectName": "edges", "Sources": [{"URI": "oss://bucket\n/k.mp4"}]}, None),
    ],
    ids=["project", "tag", "topic", "webhook", "bucket"],
)
def test_a_trailing_newline_does_not_pass_a_name_check(client, body, code):
    key = _key()
    if "Sources" not in body and "Tags" not in body and "Notification" not in body:
        answer = call(client, "CreateProject", body, key=key, expect=None)
    else:
        full = _convert()
        full.update(body)
        answer = call(client, "CreateMediaConvertTask", full, key=key, expect=None)
    assert answer["_status"] == 400, answer
    assert answer["Code"] == (code or "InvalidArgument.Sources.URI"), answer
