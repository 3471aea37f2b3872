"""The error vocabulary: every code a client or a person can meet, the HTTP
status it is answered with, and the one exception that carries it.

``Code`` is the only list of codes. The API's status map, the OpenAPI
document's ``Error.Code`` and the README's error table are derived from it
(a contract test compares the README with it). Plain Python: the pipeline
raises these too, and it imports nothing of Django.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Code(StrEnum):
    """A stable error code. ``InvalidArgument`` is sent with the field it is
    about, as ``InvalidArgument.<Field>`` (``InvalidArgument.Width``), and so
    is ``InvalidParameter``; the other dotted codes are whole names, as
    Alibaba Cloud writes them (``InvalidAccessKeyId.NotFound``)."""

    # The request itself
    INVALID_ARGUMENT = "InvalidArgument"
    INVALID_ACTION = "InvalidAction"
    MALFORMED_JSON = "MalformedJSON"
    INVALID_FORM = "InvalidForm"
    UNAUTHORIZED = "Unauthorized"
    FORBIDDEN = "Forbidden"
    RESOURCE_NOT_FOUND = "ResourceNotFound"
    ACTION_NOT_FOUND = "ActionNotFound"
    METHOD_NOT_ALLOWED = "MethodNotAllowed"
    RESOURCE_ALREADY_EXISTS = "ResourceAlreadyExists"
    DRAFT_USED = "DraftUsed"
    TASK_RUNNING = "TaskRunning"
    LIMIT_EXCEEDED = "LimitExceeded"
    REQUEST_TOO_LARGE = "RequestTooLarge"
    UPLOAD_TOO_LARGE = "UploadTooLarge"
    QUOTA_EXCEEDED = "QuotaExceeded"
    THROTTLING = "Throttling"
    INTERNAL_ERROR = "InternalError"
    SERVICE_UNAVAILABLE = "ServiceUnavailable"
    # Alibaba Cloud's RPC protocol (the SDKs' requests at the site root)
    INVALID_PARAMETER = "InvalidParameter"
    INVALID_VERSION = "InvalidVersion"
    INVALID_ACTION_NOT_FOUND = "InvalidAction.NotFound"
    INCOMPLETE_SIGNATURE = "IncompleteSignature"
    SIGNATURE_DOES_NOT_MATCH = "SignatureDoesNotMatch"
    SIGNATURE_NONCE_USED = "SignatureNonceUsed"
    INVALID_TIMESTAMP_EXPIRED = "InvalidTimeStamp.Expired"
    INVALID_TIMESTAMP_FORMAT = "InvalidTimeStamp.Format"
    INVALID_ACCESS_KEY_ID_NOT_FOUND = "InvalidAccessKeyId.NotFound"
    INVALID_ACCESS_KEY_ID_INACTIVE = "InvalidAccessKeyId.Inactive"
    INVALID_ACCESS_KEY_ID_NO_SECRET = "InvalidAccessKeyId.NoSecret"  # noqa: S105 (a code)
    # The source and its conversion: refused at upload, or a failed task's Code
    NO_VIDEO_STREAM = "NoVideoStream"
    NO_AUDIO_STREAM = "NoAudioStream"
    UNSUPPORTED_FORMAT = "UnsupportedFormat"
    SOURCE_UNREADABLE = "SourceUnreadable"
    DECODE_FAILED = "DecodeFailed"
    SOURCE_TOO_LARGE = "SourceTooLarge"
    SOURCE_TOO_LONG = "SourceTooLong"
    START_TIME_OUT_OF_RANGE = "StartTimeOutOfRange"
    CROP_OUT_OF_RANGE = "CropOutOfRange"
    TOO_MANY_FRAMES = "TooManyFrames"
    OUTPUT_TOO_LARGE = "OutputTooLarge"
    CANNOT_FIT = "CannotFit"
    INVALID_PLAYLIST = "InvalidPlaylist"
    UNSUPPORTED_PLAYLIST = "UnsupportedPlaylist"
    SEGMENT_MISSING = "SegmentMissing"
    TIMEOUT = "Timeout"
    SOURCE_NOT_FOUND = "SourceNotFound"
    STORAGE_UNAVAILABLE = "StorageUnavailable"
    WORKER_LOST = "WorkerLost"

    @property
    def status(self) -> int:
        """The HTTP status a request refused with this code is answered with."""
        return _STATUS[self]

    @property
    def retryable(self) -> bool:
        """Whether the failure says nothing about the source, so trying again
        later may succeed (a task failing with it is retried, and may be
        queued again by hand)."""
        return self in _RETRYABLE


# The codes that say the source is at fault: what a file that cannot be
# converted fails with (never retried, never an InternalError).
SOURCE_CODES: Final = frozenset(
    {
        Code.NO_VIDEO_STREAM,
        Code.NO_AUDIO_STREAM,
        Code.UNSUPPORTED_FORMAT,
        Code.SOURCE_UNREADABLE,
        Code.DECODE_FAILED,
        Code.SOURCE_TOO_LARGE,
        Code.SOURCE_TOO_LONG,
        Code.START_TIME_OUT_OF_RANGE,
        Code.CROP_OUT_OF_RANGE,
        Code.TOO_MANY_FRAMES,
        Code.OUTPUT_TOO_LARGE,
        Code.CANNOT_FIT,
        Code.INVALID_PLAYLIST,
        Code.UNSUPPORTED_PLAYLIST,
        Code.SEGMENT_MISSING,
        Code.TIMEOUT,
    }
)

_STATUS: Final[dict[Code, int]] = {
    Code.INVALID_ARGUMENT: 400,
    Code.INVALID_ACTION: 400,
    Code.MALFORMED_JSON: 400,
    Code.INVALID_FORM: 400,
    Code.UNAUTHORIZED: 401,
    Code.FORBIDDEN: 403,
    Code.RESOURCE_NOT_FOUND: 404,
    Code.ACTION_NOT_FOUND: 404,
    Code.METHOD_NOT_ALLOWED: 405,
    Code.RESOURCE_ALREADY_EXISTS: 409,
    Code.DRAFT_USED: 409,
    Code.TASK_RUNNING: 409,
    Code.LIMIT_EXCEEDED: 403,
    Code.REQUEST_TOO_LARGE: 413,
    Code.UPLOAD_TOO_LARGE: 413,
    Code.QUOTA_EXCEEDED: 429,
    Code.THROTTLING: 429,
    Code.INTERNAL_ERROR: 500,
    Code.SERVICE_UNAVAILABLE: 503,
    Code.INVALID_PARAMETER: 400,
    Code.INVALID_VERSION: 400,
    Code.INVALID_ACTION_NOT_FOUND: 404,
    Code.INCOMPLETE_SIGNATURE: 400,
    Code.SIGNATURE_DOES_NOT_MATCH: 400,
    Code.SIGNATURE_NONCE_USED: 400,
    Code.INVALID_TIMESTAMP_EXPIRED: 400,
    Code.INVALID_TIMESTAMP_FORMAT: 400,
    Code.INVALID_ACCESS_KEY_ID_NOT_FOUND: 404,
    Code.INVALID_ACCESS_KEY_ID_INACTIVE: 400,
    Code.INVALID_ACCESS_KEY_ID_NO_SECRET: 403,
    **dict.fromkeys(SOURCE_CODES, 400),
    Code.SOURCE_NOT_FOUND: 404,
    Code.STORAGE_UNAVAILABLE: 503,
    Code.WORKER_LOST: 500,
}
_RETRYABLE: Final = frozenset({Code.STORAGE_UNAVAILABLE, Code.WORKER_LOST})


class LoopforgeError(Exception):
    """A refusal or a failure with a stable code and a message for people.

    ``code`` is what clients match on (``InvalidArgument.Width``); ``kind``
    the ``Code`` it is made of; ``status`` the HTTP status to answer with.
    """

    def __init__(self, kind: Code, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.field = field
        self.code = f"{kind}.{field}" if field else str(kind)
        self.message = message

    @property
    def status(self) -> int:
        return self.kind.status

    @property
    def permanent(self) -> bool:
        """Whether trying again cannot help (see ``Code.retryable``)."""
        return not self.kind.retryable

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r})"


def invalid(field: str, message: str) -> LoopforgeError:
    """``InvalidArgument.<field>`` (bare ``InvalidArgument`` for the whole body)."""
    return LoopforgeError(Code.INVALID_ARGUMENT, message, field=field)


# The codes that are sent with the field they are about (``<Code>.<Field>``).
FIELD_CODES: Final = (Code.INVALID_ARGUMENT, Code.INVALID_PARAMETER)


def code_status(code: str) -> int:
    """The HTTP status of a code as sent (``InvalidArgument.Width`` is 400)."""
    try:
        return Code(code).status
    except ValueError:
        return Code(code.split(".", 1)[0]).status


def imm_code(exc: LoopforgeError) -> str:
    """The code as the RPC protocol answers it: IMM's ``InvalidArgument``
    names no field (its message does); every other code as it is."""
    return str(exc.kind) if exc.kind is Code.INVALID_ARGUMENT else exc.code
