"""What a task keeps of its request, and what ListTasks answers with it, is
bounded: only the fields the spec knows are stored, and a page of tasks with
their RequestDefinition stops growing at a size budget (NextToken goes on)."""

from __future__ import annotations

import json

import pytest

from converter import storage
from converter.models import Task
from converter.views import api
from tests.api import call
from tests.factories import make_project_with_key

pytestmark = pytest.mark.django_db(transaction=True)  # tasks are queued on commit
BUCKET = "loopforge-test-api"


@pytest.fixture
def key() -> tuple[str, str]:
    storage.s3_client().put_object(Bucket=BUCKET, Key="defs/in.mp4", Body=b"x")
    return make_project_with_key("defs")[1]


def _body(**extra) -> dict:
    animation = {"Format": "gif", "URI": f"oss://{BUCKET}/defs/out-{{index}}.gif", "Interval": 1}
    return {
        "ProjectName": "defs",
        "Sources": [{"URI": f"oss://{BUCKET}/defs/in.mp4", "Junk": "s" * 100_000}],
        "Targets": [{"Image": {"Animations": [{**animation, "Padding": "a" * 200_000}]}}],
        "UserData": "u",
        **extra,
    }


def test_only_known_fields_are_kept(client, key):
    created = call(client, "CreateMediaConvertTask", _body(Extra="e" * 500_000), key=key)
    stored = Task.objects.get(public_id=created["TaskId"]).request
    assert len(json.dumps(stored)) < 2_000, len(json.dumps(stored))
    assert stored["Sources"] == [{"URI": f"oss://{BUCKET}/defs/in.mp4"}]
    assert "Padding" not in stored["Targets"][0]["Image"]["Animations"][0]
    answer = call(
        client,
        "GetTask",
        {"ProjectName": "defs", "TaskId": created["TaskId"], "RequestDefinition": True},
        key=key,
    )
    assert answer["RequestDefinition"] == stored


def test_a_page_with_request_definitions_stops_at_its_budget(client, key, monkeypatch):
    ids = [call(client, "CreateMediaConvertTask", _body(), key=key)["TaskId"] for _ in range(6)]
    one = len(
        json.dumps(
            call(
                client,
                "GetTask",
                {"ProjectName": "defs", "TaskId": ids[0], "RequestDefinition": True},
                key=key,
            )
        )
    )
    monkeypatch.setattr(api, "LIST_BUDGET_BYTES", int(one * 2.5))
    seen, token, pages = [], "", 0
    while True:
        page = call(
            client,
            "ListTasks",
            {"ProjectName": "defs", "RequestDefinition": True, "NextToken": token},
            key=key,
        )
        pages += 1
        assert 1 <= len(page["Tasks"]) <= 3 and len(json.dumps(page)) < one * 4
        seen += [t["TaskId"] for t in page["Tasks"]]
        token = page["NextToken"]
        if not token:
            break
    assert sorted(seen) == sorted(ids) and pages >= 2  # nothing lost, nothing twice
