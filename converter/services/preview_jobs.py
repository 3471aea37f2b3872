"""The job that makes a draft's preview (the previews queue, right after
the editor's upload): the picture inside black bars ("Remove black bars"),
and, for a video a browser cannot play (AVI, WMV, FLV, MPEG-TS, HEVC...), a
small H.264 proxy the editor plays instead, so its player, filmstrip and
timeline work for every input. What the editor reads of it is in
``previews`` (light: a web process loads no encoder)."""

from __future__ import annotations

import dataclasses
import logging
import math
from pathlib import Path
from typing import Any

from django.core.files.base import ContentFile

from .. import storage
from ..errors import LoopforgeError
from ..models import Draft
from ..pipeline import bars, estimate, isolated, moments
from ..pipeline.convert import convert
from ..pipeline.probe import VideoInfo
from ..spec import AnimationSpec, ObjectUri, TaskSpec
from .limits import limits

log = logging.getLogger(__name__)

# What Chromium, Firefox and Safari all play: (container, codecs), by the
# probe's demuxer and codec names. Anything else gets a proxy.
PLAYABLE = {
    "mov": {"h264", "av1", "vp9"},
    "matroska": {"vp8", "vp9", "av1"},  # WebM is Matroska to ffmpeg
    "webm": {"vp8", "vp9", "av1"},
}
# The proxy: small and light, but smooth enough to find a moment in.
PROXY_SIDE_PX = 480
PROXY_FPS = 15.0
PROXY_MAX_S = 30 * 60.0  # a longer source is previewed for its first half hour


def draft_preview_make(draft: Draft) -> None:
    """Work out the draft's preview and record it (never raises for a bad
    source or a storage fault: the preview is then ``failed``)."""
    if draft.probe.get("audio_only"):
        _record(draft, {"state": "ready", "bars": None, "proxy": False})  # no picture
        return
    try:
        if not draft.source.name:
            raise storage.ObjectNotFound("")
        with storage.stored_source_copy(draft.source.name) as path:
            # Probed again, decoding a frame, in the sandbox: the upload's
            # header probe read no picture.
            info = isolated.probe(path, limits(), audio_only_ok=True)
            box = bars.picture_box(path, info, limits())
            proxy = None if playable(info) else _proxy(path, info)
    except storage.ObjectNotFound:
        _record(draft, {"state": "failed", "bars": None, "proxy": False, "code": "SourceNotFound"})
        return
    except LoopforgeError as exc:
        log.warning("draft %s: no preview: %s %s", draft.public_id, exc.code, exc.message)
        _record(draft, {"state": "failed", "bars": None, "proxy": False, "code": exc.code})
        return
    if proxy is not None:
        draft.proxy.save("proxy.mp4", ContentFile(proxy), save=False)
        Draft.objects.filter(pk=draft.pk).update(proxy=draft.proxy.name)
    found = None if box is None else dataclasses.asdict(box)
    _record(draft, {"state": "ready", "bars": found, "proxy": proxy is not None})


def playable(info: VideoInfo) -> bool:
    """Whether every current browser plays the source as it is."""
    return info.codec in PLAYABLE.get(info.demuxer, set()) and not info.interlaced


def _proxy(path: Path, info: VideoInfo) -> bytes:
    """An H.264 MP4 of the source at most PROXY_SIDE_PX on its longer side,
    PROXY_FPS frames a second, on the source's own clock (the proxy's time
    t is the source's time t), made by the conversion pipeline itself."""
    side = float(min(PROXY_SIDE_PX, max(info.width, info.height)))
    fps = min(PROXY_FPS, max(1.0, info.fps))
    span = min(info.duration, PROXY_MAX_S)
    spec = AnimationSpec.create(
        format="mp4",
        interval=1 / fps,
        frame_rate=fps,
        width=side,
        height=side,
        scale_type="fit",
        quality="low",
    )
    bounds = dataclasses.replace(limits(), max_output_frames=math.ceil(span * fps) + 1)
    return convert(path, info, spec, trim_duration=span, limits=bounds).data


def _record(draft: Draft, preview: dict[str, Any]) -> None:
    Draft.objects.filter(pk=draft.pk).update(preview=preview)


def draft_moments_make(draft: Draft, length_s: float) -> None:
    """Find the draft's best moments of ``length_s`` seconds and record them
    (never raises for a bad source or a storage fault: then ``failed``)."""
    base = {"length": length_s, "items": []}
    try:
        if not draft.source.name:
            raise storage.ObjectNotFound("")
        with storage.stored_source_copy(draft.source.name) as path:
            info = isolated.probe(path, limits(), audio_only_ok=False)
            found = moments.suggest(path, info, limits(), length_s)
    except storage.ObjectNotFound:
        _record_moments(draft, {**base, "state": "failed", "code": "SourceNotFound"})
        return
    except LoopforgeError as exc:
        log.warning("draft %s: no moments: %s %s", draft.public_id, exc.code, exc.message)
        _record_moments(draft, {**base, "state": "failed", "code": exc.code})
        return
    items = [dataclasses.asdict(m) for m in found]
    _record_moments(draft, {**base, "state": "ready", "items": items})


def _record_moments(draft: Draft, found: dict[str, Any]) -> None:
    Draft.objects.filter(pk=draft.pk).update(moments=found)


def object_moments(uri: str, project: str, length_s: float, count: int) -> list[dict[str, Any]]:
    """SuggestMoments' job: the best windows of a bucket object, as the API
    answers them. A bad source raises its ``LoopforgeError`` (the caller
    answers with its code)."""
    source = ObjectUri.parse(uri, "Sources.URI")
    with storage.source_copy(source, project) as path:
        info = isolated.probe(path, limits(), audio_only_ok=False)
        found = moments.suggest(path, info, limits(), length_s, count)
    return [
        {
            "StartTime": m.start,
            "EndTime": m.end,
            "Score": m.score,
            "StartsOnCut": m.on_cuts[0],
            "EndsOnCut": m.on_cuts[1],
        }
        for m in found
    ]


def object_estimate(uri: str, project: str, spec: dict[str, Any]) -> list[dict[str, Any]]:
    """EstimateMediaConvertTask's job: each animation of ``spec`` (a
    ``TaskSpec.to_dict()``) estimated on the bucket object."""
    with storage.source_copy(ObjectUri.parse(uri, "Sources.URI"), project) as path:
        return _estimates(path, TaskSpec.from_dict(spec))


def draft_estimate(draft: Draft, spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The editor's estimate: each animation of ``spec`` on the draft."""
    if not draft.source.name:
        raise storage.ObjectNotFound("")
    with storage.stored_source_copy(draft.source.name) as path:
        return _estimates(path, TaskSpec.from_dict(spec))


def _estimates(path: Path, spec: TaskSpec) -> list[dict[str, Any]]:
    info = isolated.probe(path, limits(), audio_only_ok=spec.wants_waveform)
    answers = []
    for index, animation in enumerate(spec.animations):
        found = estimate.estimate(
            path, info, animation, trim_start=spec.trim.start,
            trim_duration=spec.trim.duration, limits=limits(),
        )  # fmt: skip
        answers.append(
            {
                "Index": index,
                "Frames": found.frames,
                "Width": found.width,
                "Height": found.height,
                "EstimatedBytes": found.bytes,
                "EstimatedBytesLow": found.low,
                "EstimatedBytesHigh": found.high,
            }
        )
    return answers
