"""Limits follow the person, not the key: the owner's rate limit applies to
API calls too, a task of unknown length holds the worst case against the
quota until it finishes, and a key hands out new keys only where the owner
said it may."""

from __future__ import annotations

import pytest
from django.urls import reverse

from converter import storage
from converter.models import AccessKey, Task
from converter.services import access_keys, metering, projects
from converter.spec import ImmRequest
from tests.api import call
from tests.factories import make_project_with_key, make_user

pytestmark = pytest.mark.django_db(transaction=True)
BUCKET = "loopforge-test-api"


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


def test_create_project_mints_no_key_without_the_owners_say(client):
    """A key the owner made plainly cannot hand out keys: CreateProject makes
    the project and no key for it."""
    _project, key = make_project_with_key("plain")
    answer = call(client, "CreateProject", {"ProjectName": "child"}, key=key)
    assert answer["Project"]["ProjectName"] == "child"
    assert "AccessKeyId" not in answer and "AccessKeySecret" not in answer
    assert not AccessKey.objects.filter(project__name="child").exists()


def test_a_key_the_owner_allowed_mints_one_key_that_cannot_mint_more(client):
    parent, _ = make_project_with_key("parent")
    row, secret = access_keys.access_key_create(parent, may_create_projects=True)
    answer = call(client, "CreateProject", {"ProjectName": "child"}, key=(row.key_id, secret))
    child_key = AccessKey.objects.get(key_id=answer["AccessKeyId"])
    assert child_key.project.name == "child" and not child_key.may_create_projects
    grandchild = call(
        client,
        "CreateProject",
        {"ProjectName": "grandchild"},
        key=(answer["AccessKeyId"], answer["AccessKeySecret"]),
    )
    assert "AccessKeyId" not in grandchild


def test_the_owner_says_so_on_the_project_page(client):
    owner = make_user()
    client.force_login(owner)
    projects.project_create(owner=owner, name="shop")
    client.post(reverse("converter:access-key-create", args=["shop"]))
    client.post(
        reverse("converter:access-key-create", args=["shop"]), {"may_create_projects": "on"}
    )
    assert [k.may_create_projects for k in AccessKey.objects.order_by("pk")] == [False, True]
    page = client.get(reverse("converter:project-detail", args=["shop"])).content.decode()
    assert 'name="may_create_projects"' in page
