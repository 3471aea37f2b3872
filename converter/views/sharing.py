"""Share links, made to unfurl: the page anyone with the link opens
(``/s/<key>/``, with OpenGraph, Twitter card and oEmbed discovery in its
head, so Discord, Slack, X, Telegram and iMessage show the animation), the
player-only page chat apps frame (``embed``), the oEmbed answer, and the
direct media links (each output, its MP4 and its poster), which chat apps
animate when pasted alone.

Nothing here names the owner, the task or the source file: a share page's
title is generic, its files are called "animation".
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

from csp.decorators import csp_replace
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import Resolver404, resolve, reverse
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET, require_safe

from .. import selectors
from ..models import Output, Task
from ..pipeline.formats import EXTENSIONS
from . import media

SITE_NAME = "Loopforge"
TITLE = "An animation on Loopforge"
# oEmbed's largest size a consumer may ask for is honoured by scaling down.
OEMBED_VERSION = "1.0"


def _shared_task(share_key: str) -> Task:
    task = selectors.task_get_shared(share_key)
    if task is None:
        raise Http404("No such shared animation.")
    return task


def _first(task: Task) -> tuple[list[Output], Output]:
    outputs = selectors.output_list(task)
    if not outputs:
        raise Http404("No such shared animation.")
    return outputs, outputs[0]


def card(request: HttpRequest, task: Task, output: Output) -> dict[str, Any]:
    """What a link preview shows of the animation: absolute URLs, sizes."""

    def url(name: str, *args: object) -> str:
        return request.build_absolute_uri(reverse(f"converter:{name}", args=args))

    key = task.share_key
    seconds = output.frames * output.frame_duration_ms / 1000
    # Versioned, so that they may be cached long (``views.media``); an MP4
    # output is its own video.
    version = output.content_version
    video_version = version if output.format == "mp4" else f"{version}-video"
    page = url("shared", key)
    return {
        "title": TITLE,
        "description": f"A {seconds:.1f} s {output.format.upper()}, {output.width} × "
        f"{output.height}, {output.frames} frames.",
        "site_name": SITE_NAME,
        "page": page,
        "image": url("shared-output", key, output.index, "jpg") + f"?v={version}-poster",
        "image_width": output.video_width or output.width,
        "image_height": output.video_height or output.height,
        "video": url("shared-output", key, output.index, "mp4") + f"?v={video_version}",
        "video_width": output.video_width,
        "video_height": output.video_height,
        "embed": url("shared-embed", key),
        "oembed": request.build_absolute_uri(
            f"{reverse('converter:oembed')}?{urlencode({'url': page, 'format': 'json'})}"
        ),
        "direct": url("shared-output", key, output.index, EXTENSIONS[output.format])
        + f"?v={version}",
    }


@require_GET
def shared(request: HttpRequest, share_key: str) -> HttpResponse:
    task = _shared_task(share_key)
    outputs, first = _first(task)
    meta = card(request, task, first)
    context = {"task": task, "outputs": outputs, "card": meta, "snippets": _snippets(meta, first)}
    response = render(request, "converter/shared.html", context)
    response["Cache-Control"] = "public, max-age=60, s-maxage=30"
    return response


def _snippets(meta: dict[str, Any], output: Output) -> list[tuple[str, str, str]]:
    """(id, label, text) of what the page offers to copy."""
    w, h = meta["video_width"], meta["video_height"]
    video = (
        f'<video src="{meta["video"]}" poster="{meta["image"]}" width="{w}" height="{h}" '
        "autoplay loop muted playsinline></video>"
    )
    image = f'<img src="{meta["direct"]}" width="{output.width}" height="{output.height}" alt="">'
    return [
        ("copy-link", "Link", meta["page"]),
        ("copy-direct", f"Direct {output.format.upper()} file", meta["direct"]),
        ("copy-mp4", "Direct MP4 file", meta["video"]),
        ("copy-html-img", "HTML (image)", image),
        ("copy-html-video", "HTML (video: smaller)", video),
        ("copy-markdown", "Markdown", f"![animation]({meta['direct']})"),
        ("copy-bbcode", "BBCode", f"[img]{meta['direct']}[/img]"),
    ]


@require_GET
@xframe_options_exempt
@csp_replace({"frame-ancestors": ["*"]})  # type: ignore[arg-type]  # its stub is too narrow
def shared_embed(request: HttpRequest, share_key: str) -> HttpResponse:
    """The animation alone, for chat apps and pages to frame (twitter:player,
    oEmbed's html): its MP4, muted and looping, over its poster."""
    task = _shared_task(share_key)
    _, first = _first(task)
    response = render(request, "converter/shared_embed.html", {"card": card(request, task, first)})
    response["Cache-Control"] = "public, max-age=60, s-maxage=30"
    return response


@require_GET
def oembed(request: HttpRequest) -> HttpResponse:
    """oEmbed 1.0 for a share page's URL: type video, with the embed page
    framed in ``html``, its size (within maxwidth/maxheight when asked) and
    the poster as the thumbnail. Only JSON is offered (501 for XML, as the
    spec says for an unsupported format)."""
    if request.GET.get("format", "json") != "json":
        return JsonResponse({"error": "Only format=json is offered."}, status=501)
    task = _task_of(request.GET.get("url", ""))
    _, first = _first(task)
    meta = card(request, task, first)
    width, height = _within(
        meta["video_width"], meta["video_height"], request.GET.get("maxwidth"),
        request.GET.get("maxheight"),
    )  # fmt: skip
    html = (
        f'<iframe src="{meta["embed"]}" width="{width}" height="{height}" frameborder="0" '
        'allow="autoplay" allowfullscreen title="Animation"></iframe>'
    )
    answer = {
        "version": OEMBED_VERSION,
        "type": "video",
        "title": meta["title"],
        "provider_name": SITE_NAME,
        "provider_url": request.build_absolute_uri("/"),
        "html": html,
        "width": width,
        "height": height,
        "thumbnail_url": meta["image"],
        "thumbnail_width": meta["image_width"],
        "thumbnail_height": meta["image_height"],
        "cache_age": 300,
    }
    response = JsonResponse(answer)
    response["Cache-Control"] = "public, max-age=60, s-maxage=30"
    return response


def _task_of(url: str) -> Task:
    """The shared task a share page's URL names (404 for anything else)."""
    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:
        raise Http404("That is not a share link.") from None
    if match.view_name != "converter:shared":
        raise Http404("That is not a share link.")
    return _shared_task(match.kwargs["share_key"])


def _within(width: int, height: int, max_w: str | None, max_h: str | None) -> tuple[int, int]:
    scale = 1.0
    for limit, side in ((max_w, width), (max_h, height)):
        if limit and limit.isdigit() and 0 < int(limit) < side:
            scale = min(scale, int(limit) / side)
    return max(1, round(width * scale)), max(1, round(height * scale))


@require_safe
def shared_output(request: HttpRequest, share_key: str, index: int, ext: str) -> HttpResponseBase:
    """A direct media link: the output in its own format, its MP4 (the
    output itself when it is one) or its poster."""
    task = _shared_task(share_key)
    output = selectors.output_get(task, index)
    if output is None:
        raise Http404("No such animation.")
    if ext == EXTENSIONS[output.format]:
        stored = media.output_file(output, "animation")
    elif ext == "mp4":
        stored = media.rendition_file(output, "video", "animation")
    elif ext == "jpg":
        stored = media.rendition_file(output, "poster", "animation")
    else:
        raise Http404("No such file.")
    return media.respond(request, stored, shared=True)
