"""The reference service's JSON shapes for our rows: one place, shared by the
API's answers and the completion messages, so both always agree."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from .models import Output, Task
from .pipeline.mediameta import MediaMeta

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
        # Our extension: what fitting under MaxBytes changed (only then).
        **({"FitReport": output.fit_report} if output.fit_report else {}),
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


def media_meta_to_imm(meta: MediaMeta) -> dict[str, Any]:
    """DetectMediaMeta's answer, with the reference's field names."""
    return {
        "FormatName": meta.format_name,
        "FormatLongName": meta.format_long_name,
        "Size": meta.size,
        "Duration": meta.duration,
        "StartTime": meta.start_time,
        "Bitrate": meta.bitrate,
        "StreamCount": meta.stream_count,
        "ProgramCount": meta.program_count,
        "Title": meta.title,
        "Artist": meta.artist,
        "Album": meta.album,
        "AlbumArtist": meta.album_artist,
        "Composer": meta.composer,
        "Performer": meta.performer,
        "Language": meta.language,
        "ProduceTime": meta.produce_time,
        "VideoWidth": meta.video_width,
        "VideoHeight": meta.video_height,
        "VideoStreams": [
            {
                "Index": v.index,
                "CodecName": v.codec_name,
                "CodecLongName": v.codec_long_name,
                "CodecTagString": v.codec_tag_string,
                "Profile": v.profile,
                "Width": v.width,
                "Height": v.height,
                "PixelFormat": v.pixel_format,
                "FrameRate": v.frame_rate,
                "AverageFrameRate": v.average_frame_rate,
                "TimeBase": v.time_base,
                "SampleAspectRatio": v.sample_aspect_ratio,
                "DisplayAspectRatio": v.display_aspect_ratio,
                "Rotate": v.rotate,
                "Duration": v.duration,
                "StartTime": v.start_time,
                "FrameCount": v.frame_count,
                "Bitrate": v.bitrate,
                "BitDepth": v.bit_depth,
                "Language": v.language,
                "HasBFrames": v.has_bframes,
            }
            for v in meta.video_streams
        ],
        "AudioStreams": [
            {
                "Index": a.index,
                "CodecName": a.codec_name,
                "CodecLongName": a.codec_long_name,
                "CodecTagString": a.codec_tag_string,
                "SampleRate": a.sample_rate,
                "Channels": a.channels,
                "ChannelLayout": a.channel_layout,
                "SampleFormat": a.sample_format,
                "TimeBase": a.time_base,
                "Duration": a.duration,
                "StartTime": a.start_time,
                "FrameCount": a.frame_count,
                "Bitrate": a.bitrate,
                "Language": a.language,
            }
            for a in meta.audio_streams
        ],
        "Subtitles": [
            {
                "Index": s.index,
                "CodecName": s.codec_name,
                "CodecLongName": s.codec_long_name,
                "Language": s.language,
                "Duration": s.duration,
                "StartTime": s.start_time,
                "Width": s.width,
                "Height": s.height,
            }
            for s in meta.subtitles
        ],
    }
