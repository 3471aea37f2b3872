"""The bounds every probe and conversion runs under, from the settings
(the pipeline takes them as a plain ``Limits``; it reads no settings)."""

from __future__ import annotations

from django.conf import settings

from ..pipeline.limits import Limits


def limits() -> Limits:
    return Limits(
        max_source_pixels=settings.CONVERTER_MAX_SOURCE_PIXELS,
        max_source_duration_s=settings.CONVERTER_MAX_SOURCE_DURATION_S,
        max_output_frames=settings.CONVERTER_MAX_OUTPUT_FRAMES,
        max_output_pixels=settings.CONVERTER_MAX_OUTPUT_PIXELS,
        task_timeout_s=settings.CONVERTER_TASK_TIMEOUT_S,
        ffmpeg_memory_bytes=settings.CONVERTER_FFMPEG_MEMORY_BYTES,
        probe_timeout_s=settings.CONVERTER_PROBE_TIMEOUT_S,
    )
