"""Limits follow the person, not the key: the owner's rate limit applies to
API calls too, and a task of unknown length holds the worst case against the
quota until it finishes."""

from __future__ import annotations

import pytest

from converter import storage
from converter.models import Task
from converter.services import metering
from converter.spec import ImmRequest
from tests.api import call
from tests.factories import make_project_with_key, make_user

pytestmark = pytest.mark.django_db(transaction=True)
BUCKET = "loopforge-test"


def _body(project: str, **animation) -> dict:
    return {
        "ProjectName": project,
        "Sources": [{"URI": f"oss://{BUCKET}/ids/in.mp4"}],
        "Targets": [
            {
                "Image": {
                    "Animations": [
                        {"Format": "gif", "URI": f"oss://{BUCKET}/ids/out.gif", **animation}
                    ]
                }
            }
        ],
    }


@pytest.fixture(autouse=True)
def _source():
    storage.s3_client().put_object(Bucket=BUCKET, Key="ids/in.mp4", Body=b"x")


def test_a_persons_limit_holds_across_all_their_keys(client, settings):
    settings.CONVERTER_RATE_LIMIT_PER_MINUTE = 2
    settings.CONVERTER_KEY_RATE_LIMIT_PER_MINUTE = 100
    owner = make_user()
    keys = [(n, make_project_with_key(n, owner=owner)[1]) for n in ("ids-a", "ids-b", "ids-c")]
    answers = [
        call(client, "CreateMediaConvertTask", _body(n), key=k, expect=None) for n, k in keys
    ]
    assert [a["_status"] for a in answers] == [200, 200, 429]
    assert answers[2]["Code"] == "Throttling"
    assert Task.objects.filter(owner=owner).count() == 2


def test_tasks_of_unknown_length_hold_the_worst_case(client, settings):
    settings.CONVERTER_MAX_OUTPUT_FRAMES = 100
    project, key = make_project_with_key("ids-q", monthly_frame_quota=250)
    statuses = [
        call(client, "CreateMediaConvertTask", _body("ids-q"), key=key, expect=None)["_status"]
        for _ in range(4)
    ]
    assert statuses == [200, 200, 429, 429]  # 100 frames held each, 250 allowed
    assert metering.project_frames_committed(project) == 200


def test_a_known_length_holds_only_itself():
    request = ImmRequest.parse(_body("any", Number=7))
    assert metering.frames_reserved(request.spec) == 7
