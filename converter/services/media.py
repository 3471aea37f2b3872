"""What the API reports of a bucket object without converting it
(DetectMediaMeta): the object is read as a task's source is, into a private
folder, and described by the pipeline."""

from __future__ import annotations

from .. import storage
from ..errors import Code, LoopforgeError
from ..pipeline.mediameta import MediaMeta, describe
from ..spec import ObjectUri


def media_meta(uri: ObjectUri, *, project_name: str) -> MediaMeta:
    """The media facts of the object ``uri`` (its keys checked as the API
    checks every key, for ``project_name``); ``ResourceNotFound`` when there
    is no such object. Reading it is bounded by CONVERTER_MAX_UPLOAD_BYTES."""
    storage.object_check_allowed(uri.bucket, uri.key, project_name)
    try:
        with storage.source_copy(uri, project_name) as path:
            return describe(path)
    except storage.ObjectNotFound:
        raise LoopforgeError(Code.RESOURCE_NOT_FOUND, f"The object {uri} does not exist.") from None
