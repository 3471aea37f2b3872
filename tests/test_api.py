"""The JSON API without a worker: access rules, errors, paging, projects,
uploads, quota. Every answer is checked against the OpenAPI document."""

from __future__ import annotations

import json
import urllib.request
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from converter import storage
from converter.models import Project, Task, UsageRecord
from converter.services import access_keys, projects
from converter.views import api as api_views
from tests.api import DOC, call
from tests.factories import make_key, make_output, make_project_with_key, make_task_row, make_user

pytestmark = pytest.mark.django_db
BUCKET = settings.CONVERTER_API_BUCKETS[0]


def example(project: str, key: str = "video-demo/釀酒.mov", **source) -> dict:
    """MISSION.md's first example, with this test's project and bucket."""
    return {
        "ProjectName": project,
        "Notification": {"MNS": {"TopicName": "test-mns-topic"}},
        "Sources": [{"URI": f"oss://{BUCKET}/{key}", **source}],
        "Targets": [
            {
                "Image": {
                    "Animations": [
                        {
                            "Format": "webp",
                            "FrameRate": 15,
                            "Height": 0.5,
                            "Interval": 1,
                            "ScaleType": "fit",
                            "URI": f"oss://{BUCKET}/video-demo/animation.{{autoext}}",
                            "Width": 0.5,
                        }
                    ]
                }
            }
        ],
    }


@pytest.fixture
def source_object():
    storage.s3_client().put_object(
        Bucket=BUCKET, Key="video-demo/釀酒.mov", Body=b"not decoded here"
    )
    return f"oss://{BUCKET}/video-demo/釀酒.mov"


def test_every_action_is_documented_and_every_documented_action_exists(client):
    served = client.get("/api/v1/openapi.json").json()
    assert served["openapi"].startswith("3.")
    json_paths = {p for p in served["paths"] if p.startswith("/api/v1/")}
    assert {p.removeprefix("/api/v1/") for p in json_paths} == set(api_views.ACTIONS)
    # The rest is the RPC protocol at the site root, for the same actions.
    assert set(served["paths"]) - json_paths == {"/"}
    assert set(served["paths"]["/"]["post"]["x-rpc-actions"]) == set(api_views.ACTIONS)
    assert served["paths"] == DOC["paths"]


def test_calls_without_a_valid_key_are_unauthorized(client):
    project, key = make_project_with_key("alpha")
    assert call(client, "ListTasks", {"ProjectName": "alpha"}, expect=401)["Code"] == "Unauthorized"
    assert call(client, "ListTasks", {"ProjectName": "alpha"}, key=(key[0], "wrong"), expect=401)
    access_keys.access_key_revoke(project.access_keys.get())
    assert call(client, "ListTasks", {"ProjectName": "alpha"}, key=key, expect=401)
    # The header form works as well as the bearer form.
    _, other = make_project_with_key("alpha2")
    response = client.post(
        "/api/v1/ListTasks",
        data={"ProjectName": "alpha2"},
        content_type="application/json",
        HTTP_X_LOOPFORGE_KEY_ID=other[0],
        HTTP_X_LOOPFORGE_KEY_SECRET=other[1],
    )
    assert response.status_code == 200


def test_a_key_of_one_project_sees_nothing_of_another(client):
    a, key_a = make_project_with_key("proj-a")
    _, key_b = make_project_with_key("proj-b")
    task = make_task_row(a, tags={"team": "x"})
    assert (
        call(client, "GetTask", {"ProjectName": "proj-a", "TaskId": task.public_id}, key=key_a)[
            "TaskId"
        ]
        == task.public_id
    )
    assert (
        call(
            client,
            "GetTask",
            {"ProjectName": "proj-a", "TaskId": task.public_id},
            key=key_b,
            expect=403,
        )["Code"]
        == "Forbidden"
    )
    assert (
        call(
            client,
            "GetTask",
            {"ProjectName": "proj-b", "TaskId": task.public_id},
            key=key_b,
            expect=404,
        )["Code"]
        == "ResourceNotFound"
    )
    assert call(client, "ListTasks", {"ProjectName": "proj-b"}, key=key_b)["Tasks"] == []
    assert call(client, "ListTasks", {"ProjectName": "proj-a"}, key=key_b, expect=403)
    assert call(client, "DeleteProject", {"ProjectName": "proj-a"}, key=key_b, expect=403)
    assert call(client, "GetUsage", {"ProjectName": "proj-a"}, key=key_b, expect=403)
    assert [p["ProjectName"] for p in call(client, "ListProjects", {}, key=key_b)["Projects"]] == [
        "proj-b"
    ]
    assert Project.objects.filter(name="proj-a").exists()


def test_errors_have_one_shape_and_the_right_status(client, source_object):
    _, key = make_project_with_key("errs")
    assert (
        call(client, "ListTasks", raw=b"{not json", key=key, expect=400)["Code"] == "MalformedJSON"
    )
    assert call(client, "Nope", {}, key=key, expect=400)["Code"] == "InvalidAction"
    assert (
        call(client, "Nope", {}, expect=401)["Code"] == "Unauthorized"
    )  # nothing answered without a key
    response = client.get("/api/v1/ListTasks")
    assert response.status_code == 405 and set(response.json()) == {"RequestId", "Code", "Message"}
    response = client.post("/api/v1/a/b", data="{}", content_type="application/json")
    assert response.status_code == 404 and response.json()["Code"] == "ActionNotFound"
    body = example("errs")
    body["Targets"][0]["Image"]["Animations"][0]["Width"] = 5000
    assert (
        call(client, "CreateMediaConvertTask", body, key=key, expect=400)["Code"]
        == "InvalidArgument.Width"
    )
    body = example("errs")
    body["Targets"][0]["URI"] = f"oss://{BUCKET}/x.webp"
    assert (
        call(client, "CreateMediaConvertTask", body, key=key, expect=400)["Code"]
        == "InvalidArgument.Targets.URI"
    )
    body = example("errs")
    body["Targets"][0]["Container"] = "mp4"
    assert (
        call(client, "CreateMediaConvertTask", body, key=key, expect=400)["Code"]
        == "InvalidArgument.Targets.Container"
    )
    body = example("errs", key="video-demo/missing.mov")
    assert (
        call(client, "CreateMediaConvertTask", body, key=key, expect=404)["Code"]
        == "ResourceNotFound"
    )
    body = example("errs")
    # The app's own bucket is not the API's (tests/security/test_object_keys.py
    # checks its prefixes where an installation opens it to the API).
    app_bucket = settings.CONVERTER_S3_BUCKET
    body["Targets"][0]["Image"]["Animations"][0]["URI"] = f"oss://{app_bucket}/outputs/steal.webp"
    assert call(client, "CreateMediaConvertTask", body, key=key, expect=403)["Code"] == "Forbidden"
    body = example("errs")
    body["Sources"][0]["URI"] = "oss://another-bucket/video.mov"
    assert call(client, "CreateMediaConvertTask", body, key=key, expect=403)["Code"] == "Forbidden"
    body = example("errs")
    body["UserData"] = "x" * 2049
    assert (
        call(client, "CreateMediaConvertTask", body, key=key, expect=400)["Code"]
        == "InvalidArgument.UserData"
    )
    body = example("errs")
    body["Targets"][0]["Image"]["Animations"][0]["URI"] = f"oss://{BUCKET}/{{tags.missing}}.gif"
    assert (
        call(client, "CreateMediaConvertTask", body, key=key, expect=400)["Code"]
        == "InvalidArgument.URI"
    )
    assert (
        call(client, "ListTasks", {"ProjectName": "errs", "MaxResults": 101}, key=key, expect=400)[
            "Code"
        ]
        == "InvalidArgument.MaxResults"
    )
    assert (
        call(client, "GetTask", {"ProjectName": "errs"}, key=key, expect=400)["Code"]
        == "InvalidArgument.TaskId"
    )
    assert not Task.objects.exists()


def test_create_records_the_request_and_get_task_returns_it(client, source_object):
    _, key = make_project_with_key("test-project")
    body = example("test-project")
    body.update(UserData='{"id": 7}', Tags={"team": "video"})
    created = call(client, "CreateMediaConvertTask", body, key=key)
    task = Task.objects.get(public_id=created["TaskId"])
    assert (
        task.source_uri == source_object
        and task.user_data == '{"id": 7}'
        and task.tags == {"team": "video"}
    )
    got = call(
        client,
        "GetTask",
        {"ProjectName": "test-project", "TaskId": task.public_id, "RequestDefinition": True},
        key=key,
    )
    assert got["Status"] == "Running" and got["State"] == "Queued" and got["Progress"] == 0
    assert got["UserData"] == '{"id": 7}' and got["Tags"] == {"team": "video"}
    assert got["RequestDefinition"] == body and json.loads(got["TaskRequestDefinition"]) == body
    assert "RequestDefinition" not in call(
        client, "GetTask", {"ProjectName": "test-project", "TaskId": task.public_id}, key=key
    )
    # The Action may also come in the body.
    response = client.post(
        "/api/v1/",
        data=json.dumps(
            {"Action": "GetTask", "ProjectName": "test-project", "TaskId": task.public_id}
        ),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key[0]}:{key[1]}",
    )
    assert response.status_code == 200 and response.json()["TaskId"] == task.public_id


def test_list_tasks_pages_stay_correct_while_tasks_are_added(client):
    project, key = make_project_with_key("paging")
    first = [make_task_row(project) for _ in range(5)]
    seen, token = [], ""
    while True:
        page = call(
            client,
            "ListTasks",
            {"ProjectName": "paging", "MaxResults": 2, "NextToken": token},
            key=key,
        )
        seen += [t["TaskId"] for t in page["Tasks"]]
        make_task_row(project)  # a new task arrives between pages
        token = page["NextToken"]
        if not token:
            break
    assert seen == [t.public_id for t in reversed(first)]
    # Oldest first: the tasks added meanwhile come after, none twice.
    seen, token = [], ""
    while True:
        page = call(
            client,
            "ListTasks",
            {"ProjectName": "paging", "MaxResults": 3, "Order": "ASC", "NextToken": token},
            key=key,
        )
        seen += [t["TaskId"] for t in page["Tasks"]]
        token = page["NextToken"]
        if not token:
            break
    assert (
        seen[:5] == [t.public_id for t in first]
        and len(seen) == len(set(seen)) == Task.objects.count()
    )
    assert (
        call(
            client,
            "ListTasks",
            {"ProjectName": "paging", "NextToken": "garbage"},
            key=key,
            expect=400,
        )["Code"]
        == "InvalidArgument.NextToken"
    )


def test_list_tasks_filters_by_status_time_and_tags(client):
    project, key = make_project_with_key("filters")
    queued = make_task_row(project, tags={"team": "a", "env": "prod"})
    done = make_task_row(project, tags={"team": "b"}, status=Task.Status.SUCCEEDED)
    failed = make_task_row(project, tags={"team": "a"}, status=Task.Status.FAILED)
    old = make_task_row(project)
    Task.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))

    def ids(**body):
        return {
            t["TaskId"]
            for t in call(client, "ListTasks", {"ProjectName": "filters", **body}, key=key)["Tasks"]
        }

    assert ids(Status="Running") == {queued.public_id, old.public_id}
    assert ids(Status="Succeeded") == {done.public_id} and ids(Status="Failed") == {
        failed.public_id
    }
    assert ids(TagSelector="team=a") == {queued.public_id, failed.public_id}
    assert ids(TagSelector="team=a,env=prod") == {queued.public_id}
    assert ids(Tags={"team": "b"}) == {done.public_id}
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert ids(CreationTimeRange={"Start": since}) == {
        queued.public_id,
        done.public_id,
        failed.public_id,
    }
    assert ids(CreationTimeRange={"End": since}) == {old.public_id}


def test_projects_can_be_created_listed_and_deleted(client):
    parent, _ = make_project_with_key("parent")
    key_row, secret = access_keys.access_key_create(parent, may_create_projects=True)
    key = (key_row.key_id, secret)
    created = call(
        client, "CreateProject", {"ProjectName": "child", "MonthlyFrameQuota": 100}, key=key
    )
    child_key = (created["AccessKeyId"], created["AccessKeySecret"])
    assert created["Project"]["MonthlyFrameQuota"] == 100
    assert (
        call(client, "CreateProject", {"ProjectName": "child"}, key=key, expect=409)["Code"]
        == "ResourceAlreadyExists"
    )
    assert (
        call(client, "CreateProject", {"ProjectName": "bad name!"}, key=key, expect=400)["Code"]
        == "InvalidArgument.ProjectName"
    )
    assert [
        p["ProjectName"] for p in call(client, "ListProjects", {}, key=child_key)["Projects"]
    ] == ["child"]
    assert (
        call(client, "GetProject", {"ProjectName": "child"}, key=child_key)["Project"][
            "ProjectName"
        ]
        == "child"
    )
    call(client, "DeleteProject", {"ProjectName": "child"}, key=child_key)
    assert not Project.objects.filter(name="child").exists()
    assert call(client, "GetProject", {"ProjectName": "child"}, key=child_key, expect=401)
    default = projects.project_default_for(make_user())
    default_key = make_key(default)
    assert (
        call(client, "DeleteProject", {"ProjectName": default.name}, key=default_key, expect=403)[
            "Code"
        ]
        == "Forbidden"
    )


def test_an_upload_url_lets_a_program_put_a_source_without_s3_credentials(client):
    _, key = make_project_with_key("uploads")
    answer = call(
        client,
        "CreateUploadURL",
        {"ProjectName": "uploads", "URI": f"s3://{BUCKET}/in/clip 1.mp4"},
        key=key,
    )
    assert answer["Method"] == "PUT" and answer["URI"] == f"s3://{BUCKET}/in/clip 1.mp4"
    upload_url = answer["UploadURL"]  # the test's own S3 server, over http
    request = urllib.request.Request(upload_url, data=b"video bytes", method="PUT")  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert response.status == 200
    assert storage.object_read(BUCKET, "in/clip 1.mp4") == b"video bytes"
    assert call(
        client,
        "CreateUploadURL",
        {"ProjectName": "uploads", "URI": f"s3://{settings.CONVERTER_S3_BUCKET}/sources/x"},
        key=key,
        expect=403,
    )


def test_the_quota_refuses_a_task_that_would_exceed_it_before_any_work(client, source_object):
    project, key = make_project_with_key("quota", monthly_frame_quota=40)
    second = example("quota", StartTime=5, Duration=25)  # exactly 25 frames
    assert call(client, "CreateMediaConvertTask", second, key=key)["TaskId"]
    refused = call(client, "CreateMediaConvertTask", second, key=key, expect=429)
    assert refused["Code"] == "QuotaExceeded" and Task.objects.count() == 1
    # Used frames count as well as reserved ones; a request of unknown length
    # is refused only once the quota is used up.
    Task.objects.update(status=Task.Status.SUCCEEDED, estimated_frames=0)
    task = Task.objects.get()
    output = make_output(task, frames=40, format="webp")
    UsageRecord.objects.create(project=project, task=task, output=output, frames=40)
    assert (
        call(client, "CreateMediaConvertTask", example("quota"), key=key, expect=429)["Code"]
        == "QuotaExceeded"
    )
    usage = call(client, "GetUsage", {"ProjectName": "quota"}, key=key)
    assert usage["FramesThisMonth"] == 40 and usage["Usage"][0]["Frames"] == 40
    assert usage["Usage"][0]["Period"] == timezone.now().strftime("%Y-%m-%d")
    assert call(client, "GetUsage", {"ProjectName": "quota", "Granularity": "Month"}, key=key)[
        "Usage"
    ][0]["Period"] == timezone.now().strftime("%Y-%m")


def test_with_project_scope_each_project_names_only_keys_in_its_own_folder(client, settings):
    """CONVERTER_API_OBJECT_SCOPE=project, for installations where strangers
    can sign up: a project reads and writes only under "<ProjectName>/"."""
    settings.CONVERTER_API_OBJECT_SCOPE = "project"
    _, key = make_project_with_key("scoped")
    _, other_key = make_project_with_key("other")
    for name in ("scoped/in.mov", "other/in.mov"):
        storage.s3_client().put_object(Bucket=BUCKET, Key=name, Body=b"not decoded here")

    assert call(
        client,
        "CreateUploadURL",
        {"ProjectName": "scoped", "URI": f"oss://{BUCKET}/scoped/a.mp4"},
        key=key,
    )
    refused = call(
        client,
        "CreateUploadURL",
        {"ProjectName": "scoped", "URI": f"oss://{BUCKET}/other/a.mp4"},
        key=key,
        expect=403,
    )
    assert refused["Code"] == "Forbidden" and "'scoped/'" in refused["Message"]

    own = example("scoped", key="scoped/in.mov")
    own["Targets"][0]["Image"]["Animations"][0]["URI"] = (
        f"oss://{BUCKET}/scoped/{{barename}}.{{autoext}}"
    )
    assert call(client, "CreateMediaConvertTask", own, key=key)["TaskId"]
    outside = json.loads(json.dumps(own))
    outside["Targets"][0]["Image"]["Animations"][0]["URI"] = (
        f"oss://{BUCKET}/other/{{barename}}.{{autoext}}"
    )
    assert (
        call(client, "CreateMediaConvertTask", outside, key=key, expect=403)["Code"] == "Forbidden"
    )  # writes there
    assert (
        call(
            client,
            "CreateMediaConvertTask",
            example("scoped", key="other/in.mov"),
            key=key,
            expect=403,
        )["Code"]
        == "Forbidden"
    )
    # The same folder is open to its own project, and "scopedX/" is not "scoped/".
    theirs = example("other", key="other/in.mov")
    theirs["Targets"][0]["Image"]["Animations"][0]["URI"] = f"oss://{BUCKET}/other/out.{{autoext}}"
    assert call(client, "CreateMediaConvertTask", theirs, key=other_key)["TaskId"]
    assert call(
        client,
        "CreateUploadURL",
        {"ProjectName": "scoped", "URI": f"oss://{BUCKET}/scopedX/a.mp4"},
        key=key,
        expect=403,
    )
    assert Task.objects.filter(project__name="scoped").count() == 1


def test_by_default_the_buckets_are_shared_by_the_installations_projects(
    client, settings, source_object
):
    assert settings.CONVERTER_API_OBJECT_SCOPE == "installation"
    _, key = make_project_with_key("shared")
    assert call(client, "CreateMediaConvertTask", example("shared"), key=key)[
        "TaskId"
    ]  # video-demo/, as MISSION.md


def test_update_project_changes_the_description_and_quota_of_the_keys_project_only(client):
    project, key = make_project_with_key("alpha")
    make_project_with_key("beta")
    body = {"ProjectName": "alpha", "Description": "loops", "MonthlyFrameQuota": 500}
    answer = call(client, "UpdateProject", body, key=key)["Project"]
    assert (answer["Description"], answer["MonthlyFrameQuota"]) == ("loops", 500)
    project.refresh_from_db()
    assert (project.description, project.monthly_frame_quota) == ("loops", 500)
    assert answer["UpdateTime"] >= answer["CreateTime"]
    cleared = call(
        client, "UpdateProject", {"ProjectName": "alpha", "MonthlyFrameQuota": None}, key=key
    )
    assert cleared["Project"]["MonthlyFrameQuota"] is None
    assert cleared["Project"]["Description"] == "loops"  # what is not named stays
    other = call(client, "UpdateProject", {"ProjectName": "beta"}, key=key, expect=403)
    assert other["Code"] == "Forbidden"
    wrong = {"ProjectName": "alpha", "MonthlyFrameQuota": -1}
    assert call(client, "UpdateProject", wrong, key=key, expect=400)["Code"] == (
        "InvalidArgument.MonthlyFrameQuota"
    )


def test_detect_media_meta_reports_streams_rotation_and_sound(client, clips):
    _, key = make_project_with_key("alpha")
    for name, path in (("portrait.mp4", clips.portrait()), ("tone.mp3", clips.audio_only())):
        storage.s3_client().put_object(Bucket=BUCKET, Key=f"in/{name}", Body=path.read_bytes())
    body = {"ProjectName": "alpha", "SourceURI": f"oss://{BUCKET}/in/portrait.mp4"}
    meta = call(client, "DetectMediaMeta", body, key=key)
    video = meta["VideoStreams"][0]
    assert (video["Width"], video["Height"], video["CodecName"]) == (320, 180, "h264")
    assert video["Rotate"] == "270" and meta["Size"] == clips.portrait().stat().st_size
    assert meta["Duration"] > 0 and meta["AudioStreams"] == []
    sound = call(
        client, "DetectMediaMeta", {**body, "SourceURI": f"oss://{BUCKET}/in/tone.mp3"}, key=key
    )
    assert sound["VideoStreams"] == [] and sound["AudioStreams"][0]["SampleRate"] == 44100
    gone = {**body, "SourceURI": f"oss://{BUCKET}/in/none.mp4"}
    assert call(client, "DetectMediaMeta", gone, key=key, expect=404)["Code"] == "ResourceNotFound"
    closed = {**body, "SourceURI": "oss://not-an-api-bucket/in/portrait.mp4"}
    assert call(client, "DetectMediaMeta", closed, key=key, expect=403)["Code"] == "Forbidden"
