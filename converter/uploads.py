"""Upload handling that never holds a large file in memory or on disk past the
size limit: bytes over ``CONVERTER_MAX_UPLOAD_BYTES`` stop the upload."""

from __future__ import annotations

import unicodedata

from django.conf import settings
from django.core.files.uploadhandler import (
    FileUploadHandler,
    StopUpload,
    TemporaryFileUploadHandler,
)
from django.http import HttpRequest, HttpResponse
from django.template.defaultfilters import filesizeformat

from .errors import Code, LoopforgeError
from .views.refusal import refusal_json

# Multipart framing and the form's other fields around the file.
FORM_OVERHEAD_BYTES = 64 * 1024


def too_large() -> LoopforgeError:
    """The refusal of an upload over ``CONVERTER_MAX_UPLOAD_BYTES``."""
    limit = filesizeformat(settings.CONVERTER_MAX_UPLOAD_BYTES).replace("\xa0", " ")
    return LoopforgeError(Code.UPLOAD_TOO_LARGE, f"The file is too large; the limit is {limit}.")


_TOO_LARGE = "loopforge_upload_too_large"  # set on a request whose upload was stopped


def mark_too_large(request: HttpRequest) -> None:
    setattr(request, _TOO_LARGE, True)


def is_too_large(request: HttpRequest) -> bool:
    """Whether the middleware or the upload handler stopped this request's upload."""
    return bool(getattr(request, _TOO_LARGE, False))


def upload_too_large_response(request: HttpRequest) -> HttpResponse:
    refusal = too_large()
    if "application/json" in request.headers.get("Accept", ""):
        return refusal_json(refusal)
    return HttpResponse(
        refusal.message, status=refusal.status, content_type="text/plain; charset=utf-8"
    )


class RequestSizeLimitMiddleware:
    """Refuses a request whose declared body is over the upload limit before
    anything reads it (it sits before the CSRF middleware, which would)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        # The JSON API reads bodies within DATA_UPLOAD_MAX_MEMORY_SIZE and
        # answers in its own error shape.
        limit = settings.CONVERTER_MAX_UPLOAD_BYTES + FORM_OVERHEAD_BYTES
        if length > limit and not request.path.startswith("/api/"):
            mark_too_large(request)
            return upload_too_large_response(request)
        return self.get_response(request)


class NoFilesBeforeLogin(FileUploadHandler):
    """The upload handler of a request from someone not logged in: the first
    file part stops the parsing, before a byte of it is read or written
    (form fields before it are kept; the login and sign-up forms have no
    files)."""

    def new_file(self, *args, **kwargs) -> None:
        raise StopUpload(connection_reset=True)  # and leave the rest unread

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        raise StopUpload(connection_reset=True)

    def file_complete(self, file_size: int) -> None:
        return None


class UploadNeedsLoginMiddleware:
    """Files are spooled only for people who are logged in. Otherwise the
    CSRF check, which reads the form before any view can say "log in", would
    write up to CONVERTER_MAX_UPLOAD_BYTES to disk for every anonymous
    request. Sits after the authentication middleware and before the CSRF
    middleware; the API takes no files."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.user.is_authenticated:
            request.upload_handlers = [NoFilesBeforeLogin(request)]
        return self.get_response(request)


class LimitedTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    """Streams each file to a temporary file and stops at the limit, deleting
    what it wrote; the view then answers 413. (Uploads never go to memory:
    this is the only upload handler.)"""

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if start + len(raw_data) > settings.CONVERTER_MAX_UPLOAD_BYTES:
            if self.request is not None:
                mark_too_large(self.request)
            self.file.close()  # the temporary file is deleted with it
            raise StopUpload(connection_reset=False)
        return super().receive_data_chunk(raw_data, start)


# The longest original name kept (the model's column is 255 characters).
MAX_DISPLAY_NAME_CHARS = 255


def display_filename(name: str) -> str:
    """The user's file name as display text only (never a storage key, so
    "../" in it is just text): NFC, without control or bidi-override
    characters (no log or header injection, no "gpj.exe" spoofing), at most
    255 characters keeping the extension. Templates still escape it."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in name)
    name = " ".join(name.split()).strip(" .")
    if len(name) > MAX_DISPLAY_NAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 16:
            name = stem[: MAX_DISPLAY_NAME_CHARS - len(ext) - 1] + "." + ext
        else:
            name = name[:MAX_DISPLAY_NAME_CHARS]
    return name or "upload"
