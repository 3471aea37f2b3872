"""Alibaba Cloud's official IMM SDKs, installed from PyPI, against the live
server and a real worker, changed in nothing but the endpoint, the
AccessKey and the bucket: the current generation (alibabacloud-imm20200930,
ACS3-HMAC-SHA256) through every action a video user calls, the previous one
(aliyun-python-sdk-imm, HMAC-SHA1) through the task actions, and every
refusal raising the SDK's own exception with IMM's code."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from alibabacloud_imm20200930 import models as imm_20200930_models
from alibabacloud_imm20200930.client import Client as imm20200930Client
from alibabacloud_tea_openapi import models as open_api_models
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
from alibabacloud_tea_openapi.utils import Utils as TeaUtils
from alibabacloud_tea_util import models as util_models
from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.utils import parameter_helper
from aliyunsdkimm.request.v20200930 import (
    CreateMediaConvertTaskRequest,
    GetTaskRequest,
    ListTasksRequest,
)
from django.conf import settings

from converter import storage
from converter.bench.decode import decode
from converter.models import Project
from converter.services import access_keys
from tests.factories import make_project_with_key, make_task
from tests.poll import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

BUCKET = settings.CONVERTER_API_BUCKETS[0]
SOURCE = f"oss://{BUCKET}/video-demo/釀酒.mov"


def create_client(endpoint: str, access_key_id: str, access_key_secret: str) -> imm20200930Client:
    """IMM's sample client (README, "Alibaba Cloud SDKs"): only the endpoint
    and the credentials are ours (and http, for the test server)."""
    config = open_api_models.Config(
        access_key_id=access_key_id, access_key_secret=access_key_secret
    )
    config.endpoint = endpoint
    config.protocol = "http"
    return imm20200930Client(config)


def reference_request(
    bucket: str, *, trimmed: bool
) -> imm_20200930_models.CreateMediaConvertTaskRequest:
    """The brief's reference requests, built with the SDK's request classes
    as IMM's documentation builds them; only the bucket is changed."""
    notification_mns = imm_20200930_models.MNS(topic_name="test-mns-topic")
    notification = imm_20200930_models.Notification(mns=notification_mns)
    sources_0 = imm_20200930_models.CreateMediaConvertTaskRequestSources(
        uri=f"oss://{bucket}/video-demo/釀酒.mov"
    )
    if trimmed:  # the second example: seconds 5 to 30
        sources_0.start_time = 5
        sources_0.duration = 25
    targets_0_image_animations_0 = imm_20200930_models.TargetImageAnimations(
        format="webp",
        frame_rate=15,
        height=0.5,
        interval=1,
        scale_type="fit",
        uri=f"oss://{bucket}/video-demo/animation.{{autoext}}",
        width=0.5,
    )
    targets_0_image = imm_20200930_models.TargetImage(animations=[targets_0_image_animations_0])
    targets_0 = imm_20200930_models.CreateMediaConvertTaskRequestTargets(image=targets_0_image)
    return imm_20200930_models.CreateMediaConvertTaskRequest(
        project_name="test-project",
        notification=notification,
        sources=[sources_0],
        targets=[targets_0],
    )


RUNTIME = util_models.RuntimeOptions()


def endpoint(live_server) -> str:
    return urlsplit(live_server.url).netloc


@pytest.fixture
def source(clips) -> str:
    storage.s3_client().put_object(
        Bucket=BUCKET, Key="video-demo/釀酒.mov", Body=clips.reference().read_bytes()
    )
    return SOURCE


def finished(get_status, worker) -> None:
    status = wait_until(
        lambda: (s := get_status()) != "Running" and s,
        120,
        0.5,
        what=lambda: f"the task (worker log: {worker.log()[-2000:]})",
    )
    assert status == "Succeeded", worker.log()[-3000:]


def check_animation(frames_expected: int) -> None:
    image = decode(storage.object_read(BUCKET, "video-demo/animation.webp"))
    assert image.format == "WEBP" and len(image.frames) == frames_expected
    assert image.size == (80, 45)  # half of 160x90, fit
    assert all(abs(d - 1000 / 15) <= 1 for d in image.durations), image.durations


def refused(call) -> AlibabaCloudException:
    with pytest.raises(AlibabaCloudException) as refusal:
        call()
    return refusal.value


def test_the_current_sdk_runs_every_action_of_a_video_user(live_server, worker, source):
    project, (key_id, secret) = make_project_with_key("test-project")
    client = create_client(endpoint(live_server), key_id, secret)

    # Projects.
    got = client.get_project_with_options(
        imm_20200930_models.GetProjectRequest(project_name="test-project"), RUNTIME
    ).body
    assert got.request_id and got.project.project_name == "test-project"
    assert got.project.create_time.endswith("Z")
    listed = client.list_projects_with_options(
        imm_20200930_models.ListProjectsRequest(max_results=10, prefix="test-"), RUNTIME
    ).body
    assert [p.project_name for p in listed.projects] == ["test-project"]
    assert listed.next_token == ""
    updated = client.update_project_with_options(
        imm_20200930_models.UpdateProjectRequest(
            project_name="test-project", description="loops for the blog"
        ),
        RUNTIME,
    ).body
    assert updated.project.description == "loops for the blog"
    assert Project.objects.get(pk=project.pk).description == "loops for the blog"
    made = client.create_project_with_options(
        imm_20200930_models.CreateProjectRequest(
            project_name="sdk-second", description="made by the SDK"
        ),
        RUNTIME,
    ).body
    assert made.project.project_name == "sdk-second"
    assert Project.objects.get(name="sdk-second").owner == project.owner

    # The media facts of the source.
    meta = client.detect_media_meta_with_options(
        imm_20200930_models.DetectMediaMetaRequest(project_name="test-project", source_uri=source),
        RUNTIME,
    ).body
    assert meta.request_id and meta.duration == 30.0 and meta.size > 0
    assert (meta.video_width, meta.video_height) == (160, 90)
    video = meta.video_streams[0]
    assert (video.codec_name, video.frame_rate, video.rotate) == ("h264", "10/1", "0")
    assert meta.audio_streams == [] and meta.format_name.startswith("mov")

    # The reference requests, whole and trimmed: 30 and 25 frames at 1/15 s.
    task_ids = []
    for trimmed, frames in ((False, 30), (True, 25)):
        created = client.create_media_convert_task_with_options(
            reference_request(BUCKET, trimmed=trimmed), RUNTIME
        ).body
        assert created.request_id and created.task_id.startswith("mc-")
        task_ids.append(created.task_id)

        def status(task_id=created.task_id):
            return client.get_task_with_options(
                imm_20200930_models.GetTaskRequest(
                    project_name="test-project", task_id=task_id, task_type="MediaConvert"
                ),
                RUNTIME,
            ).body.status

        finished(status, worker)
        check_animation(frames)

    task = client.get_task_with_options(
        imm_20200930_models.GetTaskRequest(
            project_name="test-project",
            task_id=task_ids[1],
            task_type="MediaConvert",
            request_definition=True,
        ),
        RUNTIME,
    ).body
    assert (task.status, task.progress, task.task_type) == ("Succeeded", 100, "MediaConvert")
    assert task.start_time and task.end_time and task.project_name == "test-project"
    definition = json.loads(task.task_request_definition)
    assert definition["Sources"] == [{"URI": SOURCE, "StartTime": 5, "Duration": 25}]

    # ListTasks: filters, order and paging, as the SDK sends them.
    def list_tasks(**fields):
        return client.list_tasks_with_options(
            imm_20200930_models.ListTasksRequest(project_name="test-project", **fields), RUNTIME
        ).body

    since = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    first = list_tasks(
        task_types=["MediaConvert"],
        status="Succeeded",
        start_time_range=imm_20200930_models.TimeRange(start=since),
        order="ASC",
        max_results=1,
    )
    assert [t.task_id for t in first.tasks] == task_ids[:1] and first.next_token
    second = list_tasks(order="ASC", max_results=1, next_token=first.next_token)
    assert [t.task_id for t in second.tasks] == task_ids[1:]
    assert list_tasks(status="Failed").tasks == []
    assert list_tasks(tag_selector="team=none").tasks == []
    newest = list_tasks(order="DESC", request_definition=True)
    assert [t.task_id for t in newest.tasks] == task_ids[::-1]
    assert all(json.loads(t.task_request_definition)["Targets"] for t in newest.tasks)

    # Wrong parameters are the SDK's exception with IMM's codes.
    wrong = refused(lambda: list_tasks(status="Sleeping"))
    assert (wrong.code, wrong.status_code) == ("InvalidArgument", 400)
    gone = refused(
        lambda: client.get_task_with_options(
            imm_20200930_models.GetTaskRequest(project_name="test-project", task_id="mc-none"),
            RUNTIME,
        )
    )
    assert (gone.code, gone.status_code) == ("ResourceNotFound", 404)

    # Deleting the project takes its keys along: the key is then unknown.
    client.delete_project_with_options(
        imm_20200930_models.DeleteProjectRequest(project_name="test-project"), RUNTIME
    )
    assert not Project.objects.filter(name="test-project").exists()
    after = refused(
        lambda: client.get_project_with_options(
            imm_20200930_models.GetProjectRequest(project_name="test-project"), RUNTIME
        )
    )
    assert after.code == "InvalidAccessKeyId.NotFound"


def old_sdk(live_server, key_id: str, secret: str):
    client = AcsClient(key_id, secret, "cn-hangzhou")

    def send(request) -> dict:
        request.set_endpoint(endpoint(live_server))
        request.set_protocol_type("http")
        return json.loads(client.do_action_with_exception(request))

    return send


def test_the_previous_sdk_creates_gets_and_lists_tasks(live_server, worker, source):
    _, (key_id, secret) = make_project_with_key("test-project")
    send = old_sdk(live_server, key_id, secret)
    create = CreateMediaConvertTaskRequest.CreateMediaConvertTaskRequest()
    create.set_ProjectName("test-project")
    create.set_Notification({"MNS": {"TopicName": "test-mns-topic"}})
    create.set_Sources([{"Duration": 25, "StartTime": 5, "URI": source}])
    create.set_Targets(
        [
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
        ]
    )
    create.set_Tags({"team": "blue"})
    created = send(create)
    assert created["RequestId"] and created["TaskId"].startswith("mc-")

    def status():
        get = GetTaskRequest.GetTaskRequest()
        get.set_ProjectName("test-project")
        get.set_TaskId(created["TaskId"])
        get.set_TaskType("MediaConvert")
        return send(get)["Status"]

    finished(status, worker)
    check_animation(25)

    listing = ListTasksRequest.ListTasksRequest()
    listing.set_ProjectName("test-project")
    listing.set_TagSelector("team=blue")
    listing.set_MaxResults(10)
    listing.set_RequestDefinition(True)
    tasks = send(listing)["Tasks"]
    assert [t["TaskId"] for t in tasks] == [created["TaskId"]]
    assert json.loads(tasks[0]["TaskRequestDefinition"])["Tags"] == {"team": "blue"}


def test_refusals_raise_the_sdks_exception_with_imms_code(live_server, monkeypatch, clips):
    project, (key_id, secret) = make_project_with_key("test-project")
    _, (other_id, _) = make_project_with_key("someone-elses")
    elsewhere = make_task(clips.reference(), owner=Project.objects.get(name="someone-elses").owner)
    base = endpoint(live_server)

    def get_project(client, name="test-project"):
        return lambda: client.get_project_with_options(
            imm_20200930_models.GetProjectRequest(project_name=name), RUNTIME
        )

    def get_task(client, name, task_id):
        return lambda: client.get_task_with_options(
            imm_20200930_models.GetTaskRequest(project_name=name, task_id=task_id), RUNTIME
        )

    good = create_client(base, key_id, secret)
    assert good.get_project_with_options(
        imm_20200930_models.GetProjectRequest(project_name="test-project"), RUNTIME
    ).body.project

    cases = {
        "SignatureDoesNotMatch": get_project(create_client(base, key_id, secret + "x")),
        "InvalidAccessKeyId.NotFound": get_project(create_client(base, "LFNOSUCHKEY", secret)),
        "Forbidden": get_project(good, "someone-elses"),
        "ResourceNotFound": get_task(good, "test-project", elsewhere.public_id),
    }
    for code, call in cases.items():
        refusal = refused(call)
        assert refusal.code == code, (code, refusal)
    assert refused(get_task(good, "someone-elses", elsewhere.public_id)).status_code == 403
    assert refused(get_project(create_client(base, other_id, secret))).code == (
        "SignatureDoesNotMatch"  # a real key, someone else's, signed with this secret
    )

    # A request from a clock more than 15 minutes off.
    stale = (datetime.now(UTC) - timedelta(minutes=16)).strftime("%Y-%m-%dT%H:%M:%SZ")
    with monkeypatch.context() as patch:
        patch.setattr(TeaUtils, "get_timestamp", staticmethod(lambda: stale))
        assert refused(get_project(good)).code == "InvalidTimeStamp.Expired"

    # The same nonce twice: the second request is a replay.
    with monkeypatch.context() as patch:
        patch.setattr(TeaUtils, "get_nonce", staticmethod(lambda: "the-same-nonce"))
        get_project(good)()
        replay = refused(get_project(good))
        assert (replay.code, replay.status_code) == ("SignatureNonceUsed", 400)

    # The previous SDK's requests are held to the same rules.
    old = old_sdk(live_server, key_id, secret)

    def old_get():
        get = GetTaskRequest.GetTaskRequest()
        get.set_ProjectName("test-project")
        get.set_TaskId(elsewhere.public_id)
        return old(get)

    with pytest.raises(ServerException) as refusal:
        old_get()
    assert refusal.value.get_error_code() == "ResourceNotFound"
    with monkeypatch.context() as patch:
        patch.setattr(parameter_helper, "get_uuid", lambda: "old-sdk-nonce")
        with pytest.raises(ServerException):
            old_get()
        with pytest.raises(ServerException) as refusal:
            old_get()
        assert refusal.value.get_error_code() == "SignatureNonceUsed"
    with monkeypatch.context() as patch:
        patch.setattr(parameter_helper, "get_iso_8061_date", lambda: stale)
        with pytest.raises(ServerException) as refusal:
            old_get()
        assert refusal.value.get_error_code() == "InvalidTimeStamp.Expired"
    with pytest.raises(ServerException) as refusal:
        old_sdk(live_server, key_id, "wrong")(GetTaskRequest.GetTaskRequest())
    assert refusal.value.get_error_code() == "SignatureDoesNotMatch"

    # A revoked key, with either SDK.
    access_keys.access_key_revoke(project.access_keys.get())
    assert refused(get_project(good)).code == "InvalidAccessKeyId.Inactive"
    with pytest.raises(ServerException) as refusal:
        old_get()
    assert refusal.value.get_error_code() == "InvalidAccessKeyId.Inactive"
