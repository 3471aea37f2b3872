"""Serving an animation and its renditions: streamed through us (the
default) or a redirect to a freshly signed storage URL. Either way the
links we hand out never expire. Owner URLs are private to the browser;
share URLs may be cached briefly by anyone (a revoked link must stop
working soon, also in caches)."""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, Any

from django.conf import settings
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header

from .. import storage
from ..models import Output
from ..pipeline.formats import CONTENT_TYPES, EXTENSIONS

PRIVATE = "private, max-age=3600"
# Shared media: a minute in shared caches, five in a browser.
SHARED = "public, max-age=300, s-maxage=60"


def output_response(
    request: HttpRequest, output: Output, stem: str, *, shared: bool
) -> HttpResponseBase:
    """The output's own file (``?download=1``: as an attachment named
    ``stem`` with the format's extension)."""
    return _respond(
        request,
        lambda: storage.output_open(output),
        lambda params: storage.output_signed_url(output, params),
        CONTENT_TYPES[output.format],
        f"{stem}.{EXTENSIONS[output.format]}",
        shared=shared,
    )


def rendition_response(
    request: HttpRequest, field: FieldFile, content_type: str, filename: str, *, shared: bool
) -> HttpResponseBase:
    """A rendition kept in our storage (the MP4, the poster)."""
    if not field.name:
        raise Http404("There is no such file.")
    storage_ = field.storage

    def signed(params: dict[str, str]) -> str:
        # S3Storage.url signs its parameters into the URL (redirect delivery is S3 only).
        return storage_.url(field.name, parameters=params) if params else field.url  # type: ignore[call-arg]

    return _respond(
        request, lambda: field.open("rb"), signed, content_type, filename, shared=shared
    )


def _respond(
    request: HttpRequest,
    opened: Callable[[], IO[bytes] | Any],
    signed_url: Callable[[dict[str, str]], str],
    content_type: str,
    filename: str,
    *,
    shared: bool,
) -> HttpResponseBase:
    download = request.GET.get("download") == "1"
    if settings.CONVERTER_DELIVERY == "redirect":
        # The signed URL pins both: storage must not answer with a type or a
        # name of its own (an object's stored metadata).
        disposition = content_disposition_header(download, filename) or ""
        params = {"ResponseContentType": content_type, "ResponseContentDisposition": disposition}
        return HttpResponseRedirect(signed_url(params))
    response = FileResponse(
        opened(), as_attachment=download, filename=filename, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = SHARED if shared else PRIVATE
    return response
