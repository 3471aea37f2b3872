"""The reference service's JSON shapes for our rows: one place, shared by the
API's answers and the completion messages, so both always agree."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from .models import Output, Task

# Status as the reference has it: queued tasks are "Running" there, so ported
# clients keep working; ``State`` (ours) tells queued from running.
IMM_STATUS: dict[str, str] = {
    Task.Status.QUEUED: "Running",
    Task.Status.RUNNING: "Running",
    Task.Status.SUCCEEDED: "Succeeded",
    Task.Status.FAILED: "Failed",
}
STATE: dict[str, str] = {
    Task.Status.QUEUED: "Queued",
    Task.Status.RUNNING: "Running",
    Task.Status.SUCCEEDED: "Succeeded",
    Task.Status.FAILED: "Failed",
}
TASK_TYPE = "MediaConvert"


def iso(value: datetime | None) -> str:
    """UTC with milliseconds and a Z, as the reference writes times; "" when unset."""
    if value is None:
        return ""
    return (
        value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    )


def output_to_imm(output: Output) -> dict[str, Any]:
    return {
        "Index": output.index,
        "URI": output.uri,
        "Format": output.format,
        "Width": output.width,
        "Height": output.height,
        "Frames": output.frames,
        "Bytes": output.bytes,
        "FrameDuration": round(output.frame_duration_ms / 1000, 6),
    }


def task_to_imm(task: Task, *, request_definition: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "ProjectName": task.project.name,
        "TaskId": task.public_id,
        "TaskType": TASK_TYPE,
        "Status": IMM_STATUS[task.status],
        "State": STATE[task.status],
        "Code": task.code,
        "Message": task.message,
        "Progress": task.progress,
        "CreationTime": iso(task.created_at),
        "StartTime": iso(task.started_at),
        "EndTime": iso(task.finished_at),
        "UserData": task.user_data,
        "Tags": task.tags or {},
        "Sources": _sources(task),
        "Outputs": [output_to_imm(o) for o in task.outputs.all() if o.is_done],
    }
    if request_definition:
        request = _redacted(task.request or {})
        data["RequestDefinition"] = request
        # The reference returns the original request as a JSON string.
        data["TaskRequestDefinition"] = json.dumps(request, ensure_ascii=False)
    return data


def _redacted(request: dict[str, Any]) -> dict[str, Any]:
    """The request as sent, but never the webhook's signing secret."""
    hook = (request.get("Notification") or {}).get("Webhook") if isinstance(request, dict) else None
    if not isinstance(hook, dict) or not hook.get("Secret"):
        return request
    copy = json.loads(json.dumps(request))
    copy["Notification"]["Webhook"]["Secret"] = "******"  # noqa: S105 (a mask, not a password)
    return copy


def _sources(task: Task) -> list[dict[str, Any]]:
    trim = (task.spec or {}).get("trim", {})
    return [
        {
            "URI": task.source_uri,
            "StartTime": trim.get("start", 0.0),
            "Duration": trim.get("duration", 0.0),
        }
    ]
