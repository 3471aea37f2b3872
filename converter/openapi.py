"""The OpenAPI 3.1 document of the JSON API, served at /api/v1/openapi.json.

tests/test_api_contract.py keeps it true: every action here exists and every
action exists here, and every answer the API tests receive is checked
against the schema documented for it.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import FIELD_CODES, Code
from .presets import PRESETS
from .spec import MAX_MAX_BYTES, MIN_MAX_BYTES

STR = {"type": "string"}
INT = {"type": "integer"}
NUM = {"type": "number"}
BOOL = {"type": "boolean"}
CROP_SIDE = {"type": "number", "minimum": 0, "description": "fraction below 1, or pixels"}
TIME = {
    "type": "string",
    "description": "ISO 8601 UTC, e.g. 2026-11-28T18:30:00.000Z; empty when unset",
}


def obj(required: list[str], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def arr(items: dict) -> dict[str, Any]:
    return {"type": "array", "items": items}


TIME_RANGE = obj([], Start=TIME, End=TIME)


def _code_pattern(*, empty: bool) -> str:
    """Every ``Code``; ``InvalidArgument`` and ``InvalidParameter`` with an
    optional ``.<Field>``."""
    names = [rf"{code}(?:\.[A-Za-z0-9.]+)?" for code in FIELD_CODES]
    names += [re.escape(str(code)) for code in Code if code not in FIELD_CODES]
    return f"^(?:{'|'.join(names)}){'?' if empty else ''}$"


ERROR_CODE = {
    "type": "string",
    "pattern": _code_pattern(empty=False),
    "description": (
        "one of converter.errors.Code; InvalidArgument is sent as InvalidArgument.<Field>"
    ),
    "x-http-status": {str(code): code.status for code in Code},
}

SCHEMAS: dict[str, Any] = {
    "Error": obj(
        ["RequestId", "Code", "Message"],
        RequestId=STR,
        Code=ERROR_CODE,
        Message=STR,
    ),
    "RpcError": obj(
        ["RequestId", "HostId", "Code", "Message", "Recommend"],
        RequestId=STR,
        HostId={"type": "string", "description": "the host the request was sent to"},
        Code={
            "type": "string",
            "pattern": _code_pattern(empty=False),
            "description": "as Error.Code, except that InvalidArgument names no field",
        },
        Message=STR,
        Recommend={"type": "string", "description": "where the codes are described"},
    ),
    "Project": obj(
        ["ProjectName", "Description", "MonthlyFrameQuota", "CreateTime", "UpdateTime"],
        ProjectName=STR,
        Description=STR,
        MonthlyFrameQuota={"type": ["integer", "null"]},
        CreateTime=TIME,
        UpdateTime=TIME,
    ),
    "Source": obj(
        ["URI"],
        URI={"type": "string", "description": "oss://bucket/key or s3://bucket/key"},
        StartTime=NUM,
        Duration=NUM,
    ),
    "Animation": obj(
        ["URI"],
        Format={
            "type": "string",
            "enum": ["gif", "webp", "mp4", "avif"],
            "description": "required unless Preset gives the platform's default",
        },
        Interval=NUM,
        FrameRate=NUM,
        Number=INT,
        StartTime=NUM,
        Width={
            "type": "number",
            "description": "fraction in (0,1) of the source, or pixels 1..4096",
        },
        Height={
            "type": "number",
            "description": "fraction in (0,1) of the source, or pixels 1..4096",
        },
        ScaleType={"type": "string", "enum": ["stretch", "crop", "fill", "fit"]},
        URI={
            "type": "string",
            "description": "target object; variables {autoext} {bucket} {dirname} "
            "{barename} {basename} {ext} {index} {tags.NAME}",
        },
        Quality={"type": "string", "enum": ["low", "balanced", "best"]},
        Loop=INT,
        Speed={
            "type": "number",
            "minimum": 0.25,
            "maximum": 4,
            "description": "our extension: 2 samples the source twice as far apart (half the "
            "duration at the same FrameRate); default 1",
        },
        Reverse={"type": "boolean", "description": "our extension: frames backwards"},
        Boomerang={
            "type": "boolean",
            "description": "our extension: forward then backward, n frames give 2n-2",
        },
        Crop=obj(
            ["Width", "Height"],
            X=CROP_SIDE,
            Y=CROP_SIDE,
            Width=CROP_SIDE,
            Height=CROP_SIDE,
        )
        | {
            "description": "our extension: the part of the picture (as displayed) kept, before "
            "Width/Height/ScaleType; each value a fraction below 1 of the source's side, or "
            "whole pixels; X and Y default to 0; clamped to the picture (CropOutOfRange when "
            "it starts outside)"
        },
        Captions={
            "type": "array",
            "maxItems": 10,
            "items": ref("Caption"),
            "description": "our extension: text drawn over the frames",
        },
        MaxBytes={
            "type": "integer",
            "minimum": MIN_MAX_BYTES,
            "maximum": MAX_MAX_BYTES,
            "description": "our extension: the largest file in bytes; the worker lowers frame "
            "rate, size, quality and (GIF) palette until it fits, keeping the highest SSIM, "
            "and fails with CannotFit when it cannot (the output's FitReport says what changed)",
        },
        Preset={
            "type": "string",
            "enum": list(PRESETS),
            "description": "our extension: the platform it is for; sets MaxBytes (a smaller one "
            "stays) and, where the platform requires it, Format, a fit box and the longest "
            "duration (README: presets)",
        },
    ),
    "Caption": obj(
        ["Text"],
        Text={"type": "string", "maxLength": 200, "description": "any script; at most 3 lines"},
        Size={
            "type": "number",
            "description": "fraction (0.01 to below 1) of the animation's height, or whole "
            "pixels 4..1024; default 0.1",
        },
        Color={"type": "string", "pattern": "^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"},
        Outline={
            "type": "integer",
            "minimum": 0,
            "maximum": 64,
            "description": "pixels; 0 none; absent: about Size / 12",
        },
        OutlineColor={"type": "string", "pattern": "^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"},
        Position={"type": "string", "enum": ["top", "middle", "bottom"]},
        X={"type": "number", "minimum": 0, "maximum": 1, "description": "centre, with Y"},
        Y={"type": "number", "minimum": 0, "maximum": 1, "description": "centre, with X"},
        StartTime={"type": "number", "description": "seconds of the animation (0: its start)"},
        EndTime={"type": "number", "description": "seconds of the animation; absent: the end"},
    ),
    "Target": obj(["Image"], Image=obj(["Animations"], Animations=arr(ref("Animation")))),
    "Notification": obj(
        [],
        MNS=obj(["TopicName"], TopicName={"type": "string", "description": "Redis stream name"}),
        Webhook=obj(["URL"], URL=STR, Secret=STR),
    ),
    "Output": obj(
        ["Index", "URI", "Format", "Width", "Height", "Frames", "Bytes", "FrameDuration"],
        Index=INT,
        URI=STR,
        Format=STR,
        Width=INT,
        Height=INT,
        Frames=INT,
        Bytes=INT,
        FrameDuration={"type": "number", "description": "seconds each frame is shown"},
        FitReport=obj(
            ["MaxBytes", "Bytes", "Passes", "Changes", "Summary", "Tried"],
            MaxBytes=INT,
            Bytes=INT,
            SSIM={"type": ["number", "null"], "description": "of the kept pass, vs the source"},
            Passes=INT,
            Changes=arr(STR),
            Summary=STR,
            Tried=arr({"type": "object"}),
        )
        | {"description": "our extension, only with MaxBytes: what fitting did"},
    ),
    "Delivery": obj(
        ["Channel", "Target", "Attempt", "OK", "StatusCode", "Error", "Time"],
        Channel={"type": "string", "enum": ["mns", "webhook"]},
        Target=STR,
        Attempt=INT,
        OK=BOOL,
        StatusCode={"type": ["integer", "null"]},
        Error=STR,
        Time=TIME,
    ),
    "Task": obj(
        [
            "ProjectName",
            "TaskId",
            "TaskType",
            "Status",
            "State",
            "Code",
            "Message",
            "Progress",
            "CreationTime",
            "StartTime",
            "EndTime",
            "UserData",
            "Tags",
            "Sources",
            "Outputs",
        ],
        ProjectName=STR,
        TaskId=STR,
        TaskType={"type": "string", "enum": ["MediaConvert"]},
        Status={
            "type": "string",
            "enum": ["Running", "Succeeded", "Failed"],
            "description": "the reference's values: Running covers queued and running",
        },
        State={
            "type": "string",
            "enum": ["Queued", "Running", "Succeeded", "Failed"],
            "description": "ours: tells a queued task from a running one",
        },
        Code={
            "type": "string",
            "pattern": _code_pattern(empty=True),
            "description": "a failed task's code (see Error.Code); empty otherwise",
        },
        Message=STR,
        Progress=INT,
        CreationTime=TIME,
        StartTime=TIME,
        EndTime=TIME,
        UserData=STR,
        Tags={"type": "object", "additionalProperties": STR},
        Sources=arr(ref("Source")),
        Outputs=arr(ref("Output")),
        RequestDefinition={
            "type": "object",
            "description": "the CreateMediaConvertTask body, when asked",
        },
        TaskRequestDefinition={
            "type": "string",
            "description": "the same as a JSON string (the reference's form)",
        },
        Deliveries=arr(ref("Delivery")),
    ),
}

PROJECT_NAME = {"ProjectName": STR}
CREDENTIAL_CONFIG = {
    "type": "object",
    "description": "the reference's; accepted and ignored (objects are read with the "
    "installation's own S3 credentials)",
}
VIDEO_STREAM = obj(
    [],
    Index=INT,
    CodecName=STR,
    CodecLongName=STR,
    CodecTagString=STR,
    Profile=STR,
    Width=INT,
    Height=INT,
    PixelFormat=STR,
    FrameRate={"type": "string", "description": "as the container states it, e.g. 30/1"},
    AverageFrameRate=STR,
    TimeBase=STR,
    SampleAspectRatio=STR,
    DisplayAspectRatio=STR,
    Rotate={"type": "string", "description": "clockwise degrees to show it upright: 0, 90..."},
    Duration=NUM,
    StartTime=NUM,
    FrameCount=INT,
    Bitrate=INT,
    BitDepth=INT,
    Language=STR,
    HasBFrames=INT,
)
AUDIO_STREAM = obj(
    [],
    Index=INT,
    CodecName=STR,
    CodecLongName=STR,
    CodecTagString=STR,
    SampleRate=INT,
    Channels=INT,
    ChannelLayout=STR,
    SampleFormat=STR,
    TimeBase=STR,
    Duration=NUM,
    StartTime=NUM,
    FrameCount=INT,
    Bitrate=INT,
    Language=STR,
)
SUBTITLE_STREAM = obj(
    [],
    Index=INT,
    CodecName=STR,
    CodecLongName=STR,
    Language=STR,
    Duration=NUM,
    StartTime=NUM,
    Width=INT,
    Height=INT,
)


def _action(summary: str, request: dict, response: dict) -> dict[str, Any]:
    request = {**request, "properties": {"Action": STR, **request.get("properties", {})}}
    response = {
        **response,
        "required": ["RequestId", *response.get("required", [])],
        "properties": {"RequestId": STR, **response.get("properties", {})},
    }
    return {"summary": summary, "request": request, "response": response}


# CreateMediaConvertTask's body (EstimateMediaConvertTask takes the same).
CREATE_BODY = obj(
    ["ProjectName", "Sources", "Targets"],
    ProjectName=STR,
    Sources=arr(ref("Source")),
    Targets=arr(ref("Target")),
    Notification=ref("Notification"),
    UserData={"type": "string", "maxLength": 2048},
    Tags={"type": "object", "additionalProperties": STR},
    CredentialConfig=CREDENTIAL_CONFIG,
)

ACTIONS: dict[str, dict[str, Any]] = {
    "CreateProject": _action(
        "Create a project of the key's owner; when the owner allowed the calling key to "
        "create projects, answers with a first access key for it (secret shown once).",
        obj(["ProjectName"], ProjectName=STR, Description=STR, MonthlyFrameQuota=INT),
        obj(
            ["Project"],
            Project=ref("Project"),
            AccessKeyId=STR,
            AccessKeySecret=STR,
        ),
    ),
    "GetProject": _action(
        "The key's project.",
        obj(["ProjectName"], **PROJECT_NAME),
        obj(["Project"], Project=ref("Project")),
    ),
    "ListProjects": _action(
        "The projects this key may use (its own).",
        obj([], Prefix=STR, MaxResults=INT, NextToken=STR),
        obj(["Projects", "NextToken"], Projects=arr(ref("Project")), NextToken=STR),
    ),
    "UpdateProject": _action(
        "Change the key's project: its description and monthly frame quota (null: none).",
        obj(
            ["ProjectName"],
            ProjectName=STR,
            Description=STR,
            MonthlyFrameQuota={"type": ["integer", "null"], "minimum": 0},
        ),
        obj(["Project"], Project=ref("Project")),
    ),
    "DeleteProject": _action(
        "Delete the key's project with its tasks and keys.",
        obj(["ProjectName"], **PROJECT_NAME),
        obj([]),
    ),
    "CreateMediaConvertTask": _action(
        "The reference's request: make animations of a bucket object.",
        CREATE_BODY,
        obj(["TaskId", "TaskType"], TaskId=STR, TaskType=STR),
    ),
    "GetTask": _action(
        "A task's status, progress, outputs and notification attempts.",
        obj(
            ["ProjectName", "TaskId"],
            ProjectName=STR,
            TaskId=STR,
            TaskType=STR,
            RequestDefinition=BOOL,
        ),
        {**SCHEMAS["Task"], "properties": {**SCHEMAS["Task"]["properties"]}},
    ),
    "DeleteTask": _action(
        "Ours: delete a task with its stored source, outputs and share link; outputs "
        "written to a bucket of the client's stay, and so do its usage records. "
        "TaskRunning (409) while it is being converted.",
        obj(["ProjectName", "TaskId"], ProjectName=STR, TaskId=STR),
        obj([]),
    ),
    "EstimateMediaConvertTask": _action(
        "Ours: CreateMediaConvertTask's body, answered per animation with its frames, size "
        "and estimated bytes (a trial encode of a few sampled frames at the real settings, "
        "scaled, with the range the samples give); nothing is queued or billed. Rate "
        "limited as task creation; Timeout after 15 s.",
        CREATE_BODY,
        obj(
            ["Animations"],
            Animations=arr(
                obj(
                    ["Index", "Frames", "Width", "Height", "EstimatedBytes"],
                    Index=INT,
                    Frames=INT,
                    Width=INT,
                    Height=INT,
                    EstimatedBytes=INT,
                    EstimatedBytesLow=INT,
                    EstimatedBytesHigh=INT,
                )
            ),
        ),
    ),
    "SuggestMoments": _action(
        "Ours: the best windows of Duration seconds of a bucket object, scored by motion "
        "and sound energy, edges snapped to shot cuts (the editor's Suggest moments). "
        "Runs as a short job on the previews queue; rate limited as task creation; "
        "billed nothing; Timeout after 20 s.",
        obj(
            ["ProjectName", "Sources", "Duration"],
            ProjectName=STR,
            Sources=arr(obj(["URI"], URI=STR)),
            Duration={"type": "number", "minimum": 0.5, "maximum": 60},
            Number={"type": "integer", "minimum": 1, "maximum": 10},
        ),
        obj(
            ["Moments"],
            Moments=arr(
                obj(
                    ["StartTime", "EndTime", "Score", "StartsOnCut", "EndsOnCut"],
                    StartTime=NUM,
                    EndTime=NUM,
                    Score=NUM,
                    StartsOnCut=BOOL,
                    EndsOnCut=BOOL,
                )
            ),
        ),
    ),
    "GetShareLink": _action(
        "Ours: the task's share link (empty once revoked).",
        obj(["ProjectName", "TaskId"], ProjectName=STR, TaskId=STR),
        obj(["ShareURL"], ShareURL=STR),
    ),
    "RevokeShareLink": _action(
        "Ours: the task's share link answers 404 from now on.",
        obj(["ProjectName", "TaskId"], ProjectName=STR, TaskId=STR),
        obj(["ShareURL"], ShareURL=STR),
    ),
    "RenewShareLink": _action(
        "Ours: a new share link for the task; any earlier one answers 404.",
        obj(["ProjectName", "TaskId"], ProjectName=STR, TaskId=STR),
        obj(["ShareURL"], ShareURL=STR),
    ),
    "ListTasks": _action(
        "The project's tasks, newest first (Order DESC) or oldest first; "
        "keyset paging with NextToken.",
        obj(
            ["ProjectName"],
            ProjectName=STR,
            TaskType=STR,
            TaskTypes=arr({"type": "string", "enum": ["MediaConvert"]}),
            Status={"type": "string", "enum": ["Running", "Succeeded", "Failed", "Queued"]},
            CreationTimeRange=TIME_RANGE,
            StartTimeRange=TIME_RANGE,
            EndTimeRange=TIME_RANGE,
            TagSelector={
                "type": "string",
                "description": "name=value,other=value (all must match)",
            },
            Tags={"type": "object", "additionalProperties": STR},
            MaxResults={"type": "integer", "minimum": 1, "maximum": 100, "default": 100},
            NextToken=STR,
            Order={"type": "string", "enum": ["ASC", "DESC"]},
            SortBy={"type": "string", "enum": ["CreationTime"]},
            Sort={"type": "string", "enum": ["CreationTime"], "description": "as SortBy"},
            RequestDefinition=BOOL,
        ),
        obj(
            ["ProjectName", "MaxResults", "NextToken", "Tasks"],
            ProjectName=STR,
            MaxResults=INT,
            NextToken={"type": "string", "description": "empty on the last page"},
            Tasks=arr(ref("Task")),
        ),
    ),
    "CreateUploadURL": _action(
        "A pre-signed PUT URL to upload a source object without S3 credentials.",
        obj(["ProjectName", "URI"], ProjectName=STR, URI=STR, ExpiresIn=INT),
        obj(
            ["URI", "UploadURL", "Method", "Expiration"],
            URI=STR,
            UploadURL=STR,
            Method={"type": "string", "enum": ["PUT"]},
            Expiration=TIME,
        ),
    ),
    "DetectMediaMeta": _action(
        "The media facts of a bucket object: container, size, duration, bit rate, and "
        "every stream's codec, size, frame rate, rotation, sample rate, channels.",
        obj(
            ["ProjectName", "SourceURI"],
            ProjectName=STR,
            SourceURI={"type": "string", "description": "oss://bucket/key or s3://bucket/key"},
            CredentialConfig=CREDENTIAL_CONFIG,
        ),
        obj(
            [
                "FormatName",
                "FormatLongName",
                "Size",
                "Duration",
                "Bitrate",
                "StreamCount",
                "VideoWidth",
                "VideoHeight",
                "VideoStreams",
                "AudioStreams",
                "Subtitles",
            ],
            FormatName=STR,
            FormatLongName=STR,
            Size=INT,
            Duration=NUM,
            StartTime=NUM,
            Bitrate=INT,
            StreamCount=INT,
            ProgramCount=INT,
            Title=STR,
            Artist=STR,
            Album=STR,
            AlbumArtist=STR,
            Composer=STR,
            Performer=STR,
            Language=STR,
            ProduceTime=STR,
            VideoWidth=INT,
            VideoHeight=INT,
            VideoStreams=arr(VIDEO_STREAM),
            AudioStreams=arr(AUDIO_STREAM),
            Subtitles=arr(SUBTITLE_STREAM),
        ),
    ),
    "GetUsage": _action(
        "Frames billed per day or month (default: this month, per day).",
        obj(
            ["ProjectName"],
            ProjectName=STR,
            Granularity={"type": "string", "enum": ["Day", "Month"]},
            StartTime=TIME,
            EndTime=TIME,
        ),
        obj(
            ["ProjectName", "Granularity", "Usage", "MonthlyFrameQuota", "FramesThisMonth"],
            ProjectName=STR,
            Granularity=STR,
            Usage=arr(obj(["Period", "Frames", "Outputs"], Period=STR, Frames=INT, Outputs=INT)),
            MonthlyFrameQuota={"type": ["integer", "null"]},
            FramesThisMonth=INT,
        ),
    ),
}


def _error_responses() -> dict[str, Any]:
    """One response per HTTP status any ``Code`` is answered with."""
    by_status: dict[int, list[str]] = {}
    for code in Code:
        by_status.setdefault(code.status, []).append(str(code))
    return {
        str(status): {
            "description": ", ".join(codes),
            "content": {"application/json": {"schema": ref("Error")}},
        }
        for status, codes in sorted(by_status.items())
    }


RPC_VERSION = "2020-09-30"
# The parameters of Alibaba Cloud's RPC protocol itself, not of an action.
RPC_PROTOCOL_PARAMETERS = (
    "Action",
    "Version",
    "Format",
    "RegionId",
    "AccessKeyId",
    "Signature",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "SignatureType",
    "Timestamp",
)


def _rpc_path() -> dict[str, Any]:
    """The site root as Alibaba Cloud's RPC endpoint: the same actions, the
    same answers, another protocol."""
    by_status: dict[int, list[str]] = {}
    for code in Code:
        by_status.setdefault(code.status, []).append(str(code))
    errors = {
        str(status): {
            "description": ", ".join(codes),
            "content": {"application/json": {"schema": ref("RpcError")}},
        }
        for status, codes in sorted(by_status.items())
    }
    names = sorted(ACTIONS)
    operation = {
        "summary": "Alibaba Cloud's RPC protocol, as the official IMM SDKs send it",
        "description": (
            "Every action of /api/v1/ with the parameters of its request body, as "
            "alibabacloud-imm20200930 (ACS3-HMAC-SHA256) and aliyun-python-sdk-imm (RPC "
            "signature 1.0, HMAC-SHA1) send them: Action and Version (2020-09-30) in the "
            "x-acs-action / x-acs-version headers or the query; parameters in the query or "
            "a form body; numbers and booleans as text; objects and lists as JSON strings "
            "(Sources, Targets, Notification, Tags...) or flattened (Sources.1.URI, "
            "Tags.team); parameters an action does not have are ignored. The answer is the "
            "one POST /api/v1/<Action> documents; errors are RpcError, with IMM's codes."
        ),
        "security": [{"acs3": []}, {"rpcSignature": []}],
        "parameters": [
            {
                "name": "x-acs-action",
                "in": "header",
                "schema": {"type": "string", "enum": names},
            },
            {
                "name": "x-acs-version",
                "in": "header",
                "schema": {"type": "string", "enum": [RPC_VERSION]},
            },
            {"name": "Action", "in": "query", "schema": {"type": "string", "enum": names}},
            {"name": "Version", "in": "query", "schema": {"type": "string", "enum": [RPC_VERSION]}},
        ],
        "requestBody": {
            "required": False,
            "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}},
        },
        "responses": {
            "200": {
                "description": "the action's answer, as POST /api/v1/<Action> documents it",
                "content": {
                    "application/json": {
                        "schema": {"type": "object", "required": ["RequestId"]},
                    }
                },
            },
            **errors,
        },
        "x-rpc-actions": {name: f"#/paths/~1api~1v1~1{name}/post" for name in names},
        "x-rpc-protocol-parameters": list(RPC_PROTOCOL_PARAMETERS),
    }
    return {
        "post": {**operation, "operationId": "Rpc"},
        "get": {
            **{k: v for k, v in operation.items() if k != "requestBody"},
            "operationId": "RpcGet",
        },
    }


def document(server: str = "/") -> dict[str, Any]:
    paths: dict[str, Any] = {"/": _rpc_path()}
    errors = _error_responses()
    for name, spec in ACTIONS.items():
        paths[f"/api/v1/{name}"] = {
            "post": {
                "operationId": name,
                "summary": spec["summary"],
                "security": [{"bearer": []}, {"keyHeaders": []}],
                # An action with no required field also takes an empty body.
                "requestBody": {
                    "required": bool(spec["request"].get("required")),
                    "content": {"application/json": {"schema": spec["request"]}},
                },
                "responses": {
                    "200": {
                        "description": "OK",
                        "content": {"application/json": {"schema": spec["response"]}},
                    },
                    **errors,
                },
            }
        }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Loopforge API",
            "version": "1",
            "description": "IMM-compatible: POST /api/v1/<Action> (or POST /api/v1/ with an "
            "Action field) with a JSON body and a Bearer key; errors are {RequestId, Code, "
            "Message}. The same actions at / in Alibaba Cloud's RPC protocol, signed as "
            "the official SDKs sign; errors are {RequestId, HostId, Code, Message, Recommend}.",
        },
        "servers": [{"url": server.rstrip("/") or "/"}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Authorization: Bearer <KeyId>:<Secret>",
                },
                "keyHeaders": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Loopforge-Key-Id",
                    "description": "with X-Loopforge-Key-Secret",
                },
                "acs3": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders="
                    "<...>,Signature=<hex>, with x-acs-date, x-acs-signature-nonce and "
                    "x-acs-content-sha256 (a time within 15 minutes; a nonce used once)",
                },
                "rpcSignature": {
                    "type": "apiKey",
                    "in": "query",
                    "name": "Signature",
                    "description": "the RPC signature 1.0: AccessKeyId, SignatureMethod "
                    "(HMAC-SHA1), SignatureVersion, SignatureNonce, Timestamp in the query",
                },
            },
        },
    }
