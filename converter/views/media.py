"""Serving an animation and its renditions like a media host: streamed
through us (the default) or a redirect to a freshly signed storage URL;
either way the links we hand out never expire.

Streamed, a file answers with its exact type, ``nosniff``, an ETag and
Last-Modified (a revalidation gets 304), byte ranges (206, so players can
seek in an MP4), and an RFC 6266 ``Content-Disposition`` (``inline``, or
``attachment`` with ``?download=1``). Cache lifetimes: a URL that carries
the file's version (``?v=``, as the pages write them) may be kept a year;
owner URLs are ``private``; share URLs are cached by shared caches for a
minute at most, so a revoked link stops working there too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from django.conf import settings
from django.db.models.fields.files import FieldFile
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.utils.cache import get_conditional_response
from django.utils.http import content_disposition_header, http_date

from .. import storage
from ..models import Output
from ..pipeline.formats import CONTENT_TYPES, EXTENSIONS

YEAR_S = 365 * 24 * 3600
# Unversioned URLs: an hour in the owner's browser; shared ones five
# minutes in a browser and one in shared caches.
PRIVATE = "private, max-age=3600"
SHARED = "public, max-age=300, s-maxage=60"
PRIVATE_VERSIONED = f"private, max-age={YEAR_S}, immutable"
SHARED_VERSIONED = f"public, max-age={YEAR_S}, s-maxage=60, immutable"
CHUNK = 64 * 1024
_RANGE_RE = re.compile(r"bytes=(\d*)-(\d*)")


@dataclass(frozen=True)
class Stored:
    """One file to serve: how to read it, its size and version, and how to
    sign a URL to it (redirect delivery)."""

    open: Callable[[], IO[bytes] | Any]
    signed_url: Callable[[dict[str, str]], str]
    size: int
    version: str  # changes whenever the content could
    modified: datetime
    content_type: str
    filename: str  # for Content-Disposition

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


def version_of(output: Output, kind: str = "") -> str:
    """The content version of an output's file (``kind``: "", "video" or
    "poster"), for ETags and the ``?v=`` of versioned URLs."""
    return output.content_version + (f"-{kind}" if kind else "")


def output_file(output: Output, stem: str) -> Stored:
    """The output's own file, named ``stem`` with the format's extension."""
    return Stored(
        open=lambda: storage.output_open(output),
        signed_url=lambda params: storage.output_signed_url(output, params),
        size=output.bytes,
        version=version_of(output),
        modified=output.created_at,
        content_type=CONTENT_TYPES[output.format],
        filename=f"{stem}.{EXTENSIONS[output.format]}",
    )


def rendition_file(output: Output, kind: str, stem: str) -> Stored:
    """The output's MP4 (``kind`` "video") or poster ("poster"), kept in our storage."""
    field: FieldFile = output.video if kind == "video" else output.poster
    if not field.name:
        raise Http404("There is no such file.")
    kind_type, ext = ("video/mp4", "mp4") if kind == "video" else ("image/jpeg", "jpg")
    storage_ = field.storage

    def signed(params: dict[str, str]) -> str:
        # S3Storage.url signs its parameters into the URL (redirect delivery is S3 only).
        return storage_.url(field.name, parameters=params)  # type: ignore[call-arg]

    return Stored(
        open=lambda: field.open("rb"),
        signed_url=signed,
        size=output.video_bytes if kind == "video" else field.size,
        version=version_of(output, kind),
        modified=output.created_at,
        content_type=kind_type,
        filename=f"{stem}.{ext}",
    )


def respond(request: HttpRequest, stored: Stored, *, shared: bool) -> HttpResponseBase:
    download = request.GET.get("download") == "1"
    disposition = content_disposition_header(download, stored.filename) or ""
    if settings.CONVERTER_DELIVERY == "redirect":
        # The signed URL pins both: storage must not answer with a type or a
        # name of its own (an object's stored metadata).
        params = {"ResponseContentType": stored.content_type}
        params["ResponseContentDisposition"] = disposition
        return HttpResponseRedirect(stored.signed_url(params))
    modified = int(stored.modified.timestamp())
    response: HttpResponseBase | None = get_conditional_response(
        request, etag=stored.etag, last_modified=modified
    )
    if response is None:  # not a revalidation answered 304 (or 412)
        response = _body(request, stored)
        if response.status_code != 416:
            response["Content-Disposition"] = disposition
            response["Content-Type"] = stored.content_type
    response["ETag"] = stored.etag
    response["Last-Modified"] = http_date(modified)
    response["Accept-Ranges"] = "bytes"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = _lifetime(request, stored, shared)
    return response


def _lifetime(request: HttpRequest, stored: Stored, shared: bool) -> str:
    versioned = request.GET.get("v") == stored.version
    if shared:
        return SHARED_VERSIONED if versioned else SHARED
    return PRIVATE_VERSIONED if versioned else PRIVATE


def _body(request: HttpRequest, stored: Stored) -> HttpResponseBase:
    """The whole file, or the one byte range asked for (206; 416 when it
    lies past the end). A Range with If-Range for another version, or
    several ranges, gets the whole file, as RFC 9110 allows."""
    wanted = request.headers.get("Range", "")
    if_range = request.headers.get("If-Range")
    match = _RANGE_RE.fullmatch(wanted.strip())
    if not match or (if_range is not None and if_range != stored.etag):
        return FileResponse(stored.open())
    first, last = _bounds(match.group(1), match.group(2), stored.size)
    if first is None or last is None:
        refused = HttpResponse(status=416)
        refused["Content-Range"] = f"bytes */{stored.size}"
        return refused
    response = StreamingHttpResponse(_slice(stored.open(), first, last), status=206)
    response["Content-Range"] = f"bytes {first}-{last}/{stored.size}"
    response["Content-Length"] = str(last - first + 1)
    return response


def _bounds(start: str, end: str, size: int) -> tuple[int | None, int | None]:
    """(first, last) byte of a ``bytes=start-end`` range in a file of
    ``size`` bytes, or (None, None) when it is not satisfiable."""
    if not start and not end:
        return None, None
    if not start:  # the last ``end`` bytes
        length = int(end)
        return (max(0, size - length), size - 1) if length and size else (None, None)
    first = int(start)
    last = min(int(end), size - 1) if end else size - 1
    if first >= size or last < first:
        return None, None
    return first, last


def _slice(stream: IO[bytes] | Any, first: int, last: int) -> Iterator[bytes]:
    try:
        try:
            stream.seek(first)
        except (AttributeError, OSError, ValueError):
            _skip(stream, first)  # a stream that cannot seek (an S3 body)
        left = last - first + 1
        while left > 0:
            chunk = stream.read(min(CHUNK, left))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk
    finally:
        stream.close()


def _skip(stream: IO[bytes] | Any, count: int) -> None:
    while count > 0:
        chunk = stream.read(min(CHUNK, count))
        if not chunk:
            return
        count -= len(chunk)
