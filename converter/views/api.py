"""The IMM-compatible JSON API.

Every call is ``POST /api/v1/<Action>`` (or ``POST /api/v1/`` with an
``"Action"`` field in the body) with a JSON object body, authenticated by an
access key. Answers are JSON objects with a ``RequestId``; failures have the
one shape ``{"RequestId", "Code", "Message"}`` made by ``error()``.
Handlers parse, call one service or selector, and shape the answer.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt

from .. import ratelimit, selectors, storage
from ..errors import Code, LoopforgeError, invalid
from ..imm import TASK_TYPE, iso, media_meta_to_imm, task_to_imm
from ..models import AccessKey, Project, Task
from ..services import access_keys, media, metering, projects, queueing, removal, submission
from ..spec import ImmRequest, MomentsRequest, ObjectUri, request_definition

log = logging.getLogger(__name__)

KEY_ID_HEADER = "X-Loopforge-Key-Id"
KEY_SECRET_HEADER = "X-Loopforge-Key-Secret"  # noqa: S105 (a header's name)
MAX_RESULTS = 100  # the reference's page size limit
# A page of ListTasks is at most about this large (RequestDefinition makes
# tasks large): it ends early, with a NextToken, rather than grow past it.
LIST_BUDGET_BYTES = 1024 * 1024


def error(request_id: str, exc: LoopforgeError) -> JsonResponse:
    """The one error answer of the API."""
    response = JsonResponse(
        {"RequestId": request_id, "Code": exc.code, "Message": exc.message},
        status=exc.status,
        json_dumps_params={"ensure_ascii": False},
    )
    response["X-Request-Id"] = request_id
    if response.status_code == 401:
        response["WWW-Authenticate"] = 'Bearer realm="loopforge"'
    return response


@dataclass(frozen=True)
class Call:
    request: HttpRequest
    request_id: str
    key: AccessKey
    body: dict[str, Any]

    @property
    def project(self) -> Project:
        return self.key.project


Handler = Callable[[Call], dict[str, Any]]
ACTIONS: dict[str, Handler] = {}


def action(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        ACTIONS[name] = handler
        return handler

    return register


def _credentials(request: HttpRequest) -> tuple[str, str] | None:
    key_id = request.headers.get(KEY_ID_HEADER)
    secret = request.headers.get(KEY_SECRET_HEADER)
    if key_id and secret:
        return key_id, secret
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and ":" in value:
        key_id, _, secret = value.strip().partition(":")
        return key_id, secret
    return None


def _authenticate(request: HttpRequest) -> AccessKey:
    credentials = _credentials(request)
    if credentials is None:
        raise LoopforgeError(
            Code.UNAUTHORIZED,
            f"Give an access key: 'Authorization: Bearer <KeyId>:<Secret>' or the "
            f"{KEY_ID_HEADER} and {KEY_SECRET_HEADER} headers.",
        )
    key = access_keys.access_key_authenticate(*credentials)
    if key is None:
        raise LoopforgeError(
            Code.UNAUTHORIZED, "The access key is unknown, revoked, or its secret is wrong."
        )
    return key


def _body(request: HttpRequest) -> dict[str, Any]:
    try:
        raw = request.body
    except RequestDataTooBig:
        raise LoopforgeError(Code.REQUEST_TOO_LARGE, "The request body is too large.") from None
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw, parse_constant=_not_json)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested too deep
        raise LoopforgeError(Code.MALFORMED_JSON, "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise LoopforgeError(Code.MALFORMED_JSON, "The request body must be a JSON object.")
    return data


def _not_json(constant: str) -> None:
    """NaN, Infinity and -Infinity: Python's json reads them, JSON has none."""
    raise ValueError(f"{constant} is not JSON")


@csrf_exempt
def dispatch(request: HttpRequest, action_name: str = "") -> JsonResponse:
    request_id = str(uuid.uuid4()).upper()
    try:
        if request.method != "POST":
            raise LoopforgeError(Code.METHOD_NOT_ALLOWED, "Call the API with POST and a JSON body.")
        # Who is asking comes first: without a valid key, nothing else is answered.
        key = _authenticate(request)
        body = _body(request)
        name = action_name or body.get("Action") or ""
        if not isinstance(name, str) or name not in ACTIONS:
            raise LoopforgeError(
                Code.INVALID_ACTION, f"Unknown action {name!r}; see /api/v1/openapi.json."
            )
        result = ACTIONS[name](Call(request, request_id, key, body))
    except LoopforgeError as exc:
        return error(request_id, exc)
    except Exception:
        log.exception("API request %s failed", request_id)
        message = f"The request failed; it has been logged as {request_id}."
        return error(request_id, LoopforgeError(Code.INTERNAL_ERROR, message))
    response = JsonResponse(
        {"RequestId": request_id, **result}, json_dumps_params={"ensure_ascii": False}
    )
    response["X-Request-Id"] = request_id
    return response


@csrf_exempt
def not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    message = "No such API path; see /api/v1/openapi.json."
    return error(str(uuid.uuid4()).upper(), LoopforgeError(Code.ACTION_NOT_FOUND, message))


def openapi(request: HttpRequest) -> JsonResponse:
    from ..openapi import document

    return JsonResponse(
        document(request.build_absolute_uri("/")), json_dumps_params={"ensure_ascii": False}
    )


# --- Parameters ---------------------------------------------------------------------


def _project(call: Call) -> Project:
    """The project the call names, which must be the key's own. The answer is
    the same whether another project of that name exists or not."""
    name = call.body.get("ProjectName")
    if not isinstance(name, str) or not name:
        raise invalid("ProjectName", "ProjectName is required.")
    if name != call.project.name:
        raise LoopforgeError(Code.FORBIDDEN, f"This access key is not for project {name!r}.")
    return call.project


def _string(call: Call, name: str, *, required: bool = False, default: str = "") -> str:
    value = call.body.get(name, default)
    if value is None:
        value = default
    if not isinstance(value, str) or (required and not value):
        raise invalid(name, f"{name} must be a{' non-empty' if required else ''} string.")
    return value


def _integer(call: Call, name: str, default: int, low: int, high: int) -> int:
    value = call.body.get(name, default)
    if isinstance(value, str) and value.isascii() and value.isdigit():  # not "²" or "١٢"
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise invalid(name, f"{name} must be a whole number from {low} to {high}.")
    return value


def _ignored_object(call: Call, name: str) -> None:
    """A field of the reference's that means nothing here, accepted only as
    what it is there (an object) and then ignored."""
    value = call.body.get(name)
    if value is not None and not isinstance(value, dict):
        raise invalid(name, f"{name} must be an object (it is accepted and ignored here).")


def _boolean(call: Call, name: str) -> bool:
    value = call.body.get(name, False)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if not isinstance(value, bool):
        raise invalid(name, f"{name} must be true or false.")
    return value


def _time(value: Any, name: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        parsed = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:  # well formed, but no such time (2026-02-30)
        parsed = None
    if parsed is None:
        raise invalid(
            name,
            f"{name} must be an ISO 8601 time, e.g. 2026-01-31T12:00:00Z.",
        )
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _range(call: Call, name: str) -> tuple[datetime | None, datetime | None]:
    value = call.body.get(name)
    if value is None:
        return None, None
    if not isinstance(value, dict):
        raise invalid(name, f"{name} must be an object with Start and/or End.")
    return _time(value.get("Start"), f"{name}.Start"), _time(value.get("End"), f"{name}.End")


# --- Projects -----------------------------------------------------------------------


def _project_to_imm(project: Project) -> dict[str, Any]:
    return {
        "ProjectName": project.name,
        "Description": project.description,
        "MonthlyFrameQuota": project.monthly_frame_quota,
        "CreateTime": iso(project.created_at),
        "UpdateTime": iso(project.updated_at),
    }


def _quota(call: Call) -> int | None:
    quota = call.body.get("MonthlyFrameQuota")
    if quota is not None and (isinstance(quota, bool) or not isinstance(quota, int) or quota < 0):
        raise invalid(
            "MonthlyFrameQuota",
            "MonthlyFrameQuota must be a whole number, 0 or more.",
        )
    return quota


@action("CreateProject")
def create_project(call: Call) -> dict[str, Any]:
    """A new project of the key's owner. A key only ever acts on its own
    project, so the new one needs a key of its own: it is made here only when
    the owner allowed this key to (``may_create_projects``), and it cannot
    make further ones; otherwise the owner makes keys on the project page."""
    project = projects.project_create(
        owner=call.project.owner,
        name=_string(call, "ProjectName", required=True),
        description=_string(call, "Description"),
        monthly_frame_quota=_quota(call),
    )
    answer: dict[str, Any] = {"Project": _project_to_imm(project)}
    if call.key.may_create_projects:
        key, secret = access_keys.access_key_create(project)
        answer.update(AccessKeyId=key.key_id, AccessKeySecret=secret)
    return answer


@action("GetProject")
def get_project(call: Call) -> dict[str, Any]:
    return {"Project": _project_to_imm(_project(call))}


@action("ListProjects")
def list_projects(call: Call) -> dict[str, Any]:
    """The projects this key may act on: its own."""
    prefix = _string(call, "Prefix")
    _integer(call, "MaxResults", MAX_RESULTS, 1, MAX_RESULTS)
    own = [call.project] if call.project.name.startswith(prefix) else []
    return {"Projects": [_project_to_imm(p) for p in own], "NextToken": ""}


@action("UpdateProject")
def update_project(call: Call) -> dict[str, Any]:
    """Change the key's own project: ``Description``, ``MonthlyFrameQuota``
    (given as null: no quota). Fields of the reference's that have no
    meaning here (ServiceRole, TemplateId, the dataset limits) are ignored."""
    project = _project(call)
    description = _string(call, "Description") if "Description" in call.body else None
    quota = (_quota(call),) if "MonthlyFrameQuota" in call.body else None
    project = projects.project_update(project, description=description, quota=quota)
    return {"Project": _project_to_imm(project)}


@action("DeleteProject")
def delete_project(call: Call) -> dict[str, Any]:
    """Delete the key's own project, its tasks and keys (this key too)."""
    projects.project_delete(_project(call))
    return {}


# --- Tasks --------------------------------------------------------------------------


@action("CreateMediaConvertTask")
def create_media_convert_task(call: Call) -> dict[str, Any]:
    project = _project(call)
    _ignored_object(call, "CredentialConfig")
    ratelimit.task_creation_by_key(call.key.key_id)
    ratelimit.task_creation_by_user(project.owner)  # the person's limit, over all their keys
    request = ImmRequest.parse(call.body)
    body = request_definition(call.body)
    task = submission.task_create_from_request(project=project, request=request, body=body)
    return {"TaskId": task.public_id, "TaskType": "MediaConvert"}


@action("SuggestMoments")
def suggest_moments(call: Call) -> dict[str, Any]:
    """Our extension: the best windows of ``Duration`` seconds of a bucket
    object, scored by motion and sound with edges on shot cuts (the
    editor's Suggest moments). Rate limited as task creation; billed
    nothing, and no task is made."""
    project, request = _looking(call, MomentsRequest.parse)
    answer = queueing.preview_call(
        queueing.SUGGEST_MOMENTS, str(request.source), project.name, request.length_s,
        request.count, wait_s=queueing.MOMENTS_WAIT_S,
    )  # fmt: skip
    return {"Moments": answer["Moments"]}


@action("EstimateMediaConvertTask")
def estimate_media_convert_task(call: Call) -> dict[str, Any]:
    """Our extension: CreateMediaConvertTask's body, answered per animation
    with its frames, size and estimated bytes (a trial encode of a few
    sampled frames at the real settings, scaled), without queueing a task
    or billing anything. Rate limited as task creation."""
    project, request = _looking(call, ImmRequest.parse)
    answer = queueing.preview_call(
        queueing.ESTIMATE_OBJECT, str(request.source), project.name, request.spec.to_dict(),
        wait_s=queueing.ESTIMATE_WAIT_S,
    )  # fmt: skip
    return {"Animations": answer["Animations"]}


class _NamesSource(Protocol):
    @property
    def source(self) -> ObjectUri: ...


Looked = TypeVar("Looked", bound=_NamesSource)


def _looking(call: Call, parse: Callable[[Any], Looked]) -> tuple[Project, Looked]:
    """The project and the parsed body (``parse``) of a request that only
    looks at a bucket object (no task, nothing billed), once it passed what
    task creation passes: its rate limits, then the key's bucket rules and
    the object's existence and size."""
    project = _project(call)
    ratelimit.task_creation_by_key(call.key.key_id)
    ratelimit.task_creation_by_user(project.owner)
    request = parse(call.body)
    storage.object_check_allowed(request.source.bucket, request.source.key, project.name)
    submission.source_object_check(request.source)
    return project, request


def _task(call: Call) -> Task:
    project = _project(call)
    task = selectors.task_get_for_project(project, _string(call, "TaskId", required=True))
    if task is None:
        raise LoopforgeError(Code.RESOURCE_NOT_FOUND, "No such task in this project.")
    return task


def _deliveries(task: Task) -> list[dict[str, Any]]:
    return [
        {
            "Channel": d.channel,
            "Target": d.target,
            "Attempt": d.attempt,
            "OK": d.ok,
            "StatusCode": d.status_code,
            "Error": d.error,
            "Time": iso(d.created_at),
        }
        for d in selectors.delivery_list(task)
    ]


def _task_type(call: Call, name: str = "TaskType") -> None:
    task_type = _string(call, name)
    if task_type not in ("", TASK_TYPE):
        raise invalid(name, f"{name} must be {TASK_TYPE} (the only type here).")


@action("GetTask")
def get_task(call: Call) -> dict[str, Any]:
    _task_type(call)
    task = _task(call)
    data = task_to_imm(task, request_definition=_boolean(call, "RequestDefinition"))
    data["Deliveries"] = _deliveries(task)
    return data


@action("DeleteTask")
def delete_task(call: Call) -> dict[str, Any]:
    """Ours: delete a task of the key's project with its stored source and
    outputs (``removal.task_delete``); outputs written to the client's
    bucket stay. ``TaskRunning`` while it is being converted."""
    removal.task_delete(_task(call))
    return {}


@action("GetShareLink")
def get_share_link(call: Call) -> dict[str, Any]:
    """Ours: the task's share link (empty once revoked)."""
    return {"ShareURL": _share_url(call, _task(call))}


@action("RevokeShareLink")
def revoke_share_link(call: Call) -> dict[str, Any]:
    """Ours: the task's share link answers 404 from now on (the page's
    Revoke share link)."""
    removal.share_link_revoke(_task(call))
    return {"ShareURL": ""}


@action("RenewShareLink")
def renew_share_link(call: Call) -> dict[str, Any]:
    """Ours: a new share link for the task; any earlier one answers 404."""
    task = _task(call)
    removal.share_link_renew(task)
    task.refresh_from_db()
    return {"ShareURL": _share_url(call, task)}


def _share_url(call: Call, task: Task) -> str:
    if not task.share_key:
        return ""
    return call.request.build_absolute_uri(reverse("converter:shared", args=[task.share_key]))


STATUS_FILTER = {
    "Running": (Task.Status.QUEUED, Task.Status.RUNNING),
    "Succeeded": (Task.Status.SUCCEEDED,),
    "Failed": (Task.Status.FAILED,),
    # Ours: the reference's "Running" split in two.
    "Queued": (Task.Status.QUEUED,),
}


def _tag_pairs(call: Call) -> tuple[tuple[str, str], ...]:
    """``TagSelector`` as the reference writes it ("a=1,b=2"), or a ``Tags``
    object; every pair must match."""
    pairs: list[tuple[str, str]] = []
    selector = call.body.get("TagSelector")
    if selector not in (None, ""):
        parts = [p.partition("=") for p in selector.split(",")] if isinstance(selector, str) else []
        if not parts or any(not eq or not name.strip() for name, eq, _ in parts):
            raise invalid("TagSelector", "TagSelector must be a string like 'name=value,other=x'.")
        pairs.extend((name.strip(), value.strip()) for name, _, value in parts)
    tags = call.body.get("Tags")
    if tags is not None:
        if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
            raise invalid("Tags", "Tags must be an object of names to string values.")
        pairs.extend(tags.items())
    return tuple(pairs)


def _encode_token(cursor: selectors.Cursor, ascending: bool) -> str:
    raw = json.dumps({"t": cursor.created_at.isoformat(), "i": cursor.pk, "a": ascending})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_token(token: str, ascending: bool) -> selectors.Cursor | None:
    if not token:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        created = datetime.fromisoformat(data["t"])
        if data["a"] != ascending:
            raise ValueError("order changed")
        return selectors.Cursor(created, int(data["i"]))
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise invalid(
            "NextToken", "NextToken is not one this API gave (with this Order)."
        ) from None


@action("ListTasks")
def list_tasks(call: Call) -> dict[str, Any]:
    project = _project(call)
    _task_type(call)
    task_types = call.body.get("TaskTypes")
    if task_types is not None and (
        not isinstance(task_types, list) or any(t != TASK_TYPE for t in task_types)
    ):
        raise invalid("TaskTypes", f"TaskTypes must be a list of {TASK_TYPE} (the only type).")
    for name in ("SortBy", "Sort"):  # the reference's SDKs send "Sort"
        if _string(call, name) not in ("", "CreationTime"):
            raise invalid(name, f"{name} must be CreationTime (the only order kept).")
    status = _string(call, "Status")
    if status and status not in STATUS_FILTER:
        raise invalid("Status", f"Status must be one of: {', '.join(STATUS_FILTER)}.")
    order = _string(call, "Order", default="DESC").upper()
    if order not in ("ASC", "DESC"):
        raise invalid("Order", "Order must be ASC or DESC.")
    ranges = []
    for name, field in (
        ("CreationTimeRange", "created_at"),
        ("StartTimeRange", "started_at"),
        ("EndTimeRange", "finished_at"),
    ):
        start, end = _range(call, name)
        if start or end:
            ranges.append((field, start, end))
    filters = selectors.TaskFilter(
        statuses=STATUS_FILTER.get(status, ()),
        tags=_tag_pairs(call),
        ranges=tuple(ranges),
        ascending=order == "ASC",
    )
    limit = _integer(call, "MaxResults", MAX_RESULTS, 1, MAX_RESULTS)
    after = _decode_token(_string(call, "NextToken"), filters.ascending)
    rows, cursor = selectors.task_list_for_project(project, filters, limit=limit, after=after)
    definition = _boolean(call, "RequestDefinition")
    tasks: list[dict[str, Any]] = []
    budget = LIST_BUDGET_BYTES
    for n, row in enumerate(rows):
        task = task_to_imm(row, request_definition=definition)
        budget -= len(json.dumps(task, ensure_ascii=False).encode())
        if budget < 0 and tasks:  # the page ends early; the next one starts here
            cursor = selectors.Cursor(rows[n - 1].created_at, rows[n - 1].pk)
            break
        tasks.append(task)
    return {
        "ProjectName": project.name,
        "MaxResults": limit,
        "NextToken": _encode_token(cursor, filters.ascending) if cursor else "",
        "Tasks": tasks,
    }


# --- Sources --------------------------------------------------------------------------


@action("CreateUploadURL")
def create_upload_url(call: Call) -> dict[str, Any]:
    """A pre-signed PUT URL for a source object, so a program can put a video
    into the bucket without S3 credentials of its own."""
    project = _project(call)
    uri = ObjectUri.parse(call.body.get("URI"), "URI")
    expires = _integer(call, "ExpiresIn", settings.CONVERTER_UPLOAD_URL_EXPIRY_S, 60, 7 * 24 * 3600)
    storage.object_check_allowed(uri.bucket, uri.key, project.name)
    return {
        "URI": str(uri),
        "UploadURL": storage.object_upload_url(uri.bucket, uri.key, expires),
        "Method": "PUT",
        "Expiration": iso(timezone.now() + timedelta(seconds=expires)),
    }


@action("DetectMediaMeta")
def detect_media_meta(call: Call) -> dict[str, Any]:
    """The media facts of a bucket object, as the reference reports them."""
    project = _project(call)
    _ignored_object(call, "CredentialConfig")
    uri = ObjectUri.parse(call.body.get("SourceURI"), "SourceURI")
    return media_meta_to_imm(media.media_meta(uri, project_name=project.name))


# --- Metering -------------------------------------------------------------------------


@action("GetUsage")
def get_usage(call: Call) -> dict[str, Any]:
    """Frames billed (the reference's unit, MediaAnimation) per day or month."""
    project = _project(call)
    granularity = _string(call, "Granularity", default="Day").lower()
    if granularity not in ("day", "month"):
        raise invalid("Granularity", "Granularity must be Day or Month.")
    now = timezone.now()
    start = _time(call.body.get("StartTime"), "StartTime") or metering.month_start(now)
    end = _time(call.body.get("EndTime"), "EndTime") or now + timedelta(seconds=1)
    rows = selectors.usage_for_project(project, granularity=granularity, start=start, end=end)
    fmt = "%Y-%m-%d" if granularity == "day" else "%Y-%m"
    return {
        "ProjectName": project.name,
        "Granularity": granularity.capitalize(),
        "Usage": [
            {"Period": r["period"].strftime(fmt), "Frames": r["frames"], "Outputs": r["outputs"]}
            for r in rows
        ],
        "MonthlyFrameQuota": project.monthly_frame_quota,
        "FramesThisMonth": metering.project_frames_used(project),
    }
