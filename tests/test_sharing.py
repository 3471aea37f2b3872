"""Share links that unfurl: the share page's head as a chat app's crawler
reads it (OpenGraph, Twitter card, oEmbed discovery), the files it points
at (the MP4 rendition, the poster), the oEmbed answer, the embed page, the
direct media links, and what a share link never gives away."""

from __future__ import annotations

import io
import json
from fractions import Fraction
from html.parser import HTMLParser
from urllib.parse import urlsplit

import av
import numpy as np
import pytest
from django.test import Client
from PIL import Image

from converter.bench.decode import decode
from converter.models import Task
from converter.services import conversion
from tests.factories import make_task, make_user, task_spec

pytestmark = pytest.mark.django_db(transaction=True)

BASE = "http://testserver"


class Head(HTMLParser):
    """The <meta> and <link> tags of a page's head, as a crawler reads them."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.links: list[dict[str, str]] = []
        self.in_head = False

    def handle_starttag(self, tag, attrs):
        fields = {k: v or "" for k, v in attrs}
        if tag == "head":
            self.in_head = True
        elif tag == "meta" and self.in_head:
            key = fields.get("property") or fields.get("name")
            if key:
                self.meta[key] = fields.get("content", "")
        elif tag == "link" and self.in_head:
            self.links.append(fields)

    def handle_endtag(self, tag):
        if tag == "head":
            self.in_head = False


def head_of(html: str) -> Head:
    parser = Head()
    parser.feed(html)
    return parser


def body(response) -> bytes:
    if hasattr(response, "streaming_content"):
        return b"".join(response.streaming_content)
    return response.content


def get(client: Client, url: str):
    """GET an absolute URL of this server (what a crawler follows)."""
    assert url.startswith(BASE + "/"), url
    parts = urlsplit(url)
    return client.get(parts.path + (f"?{parts.query}" if parts.query else ""))


@pytest.fixture
def shared_gif(clips):
    """A finished GIF of a 2 s clip at 10 fps (20 frames, 320x240) and its
    share page as an anonymous visitor gets it."""
    owner = make_user("sharer")
    task = make_task(
        clips.quadrants(duration=2, fps=10),
        owner=owner,
        spec=task_spec(interval=0.1, frame_rate=10, width=None),
        original_filename="secret-holiday.mkv",
    )
    conversion.task_run(task)
    task.refresh_from_db()
    assert task.status == Task.Status.SUCCEEDED, (task.code, task.message)
    return task


def test_the_share_page_head_unfurls_with_absolute_urls_matching_the_files(shared_gif):
    client = Client()
    page = client.get(f"/s/{shared_gif.share_key}/")
    assert page.status_code == 200
    head = head_of(page.content.decode())
    meta = head.meta
    assert meta["og:type"] == "video.other"
    assert meta["og:site_name"] == "Loopforge" and meta["og:title"] and meta["og:description"]
    assert meta["og:url"] == f"{BASE}/s/{shared_gif.share_key}/"
    for key in ("og:url", "og:image", "og:video", "og:video:secure_url", "twitter:player",
                "twitter:player:stream", "twitter:image"):  # fmt: skip
        assert meta[key].startswith(BASE + "/"), key
    assert meta["og:video:type"] == "video/mp4" and meta["twitter:card"] == "player"

    # The poster: a small JPEG of the first frame, of the size the head says.
    poster = get(client, meta["og:image"])
    assert poster.status_code == 200 and poster["Content-Type"] == "image/jpeg"
    picture = Image.open(io.BytesIO(body(poster)))
    assert picture.format == "JPEG"
    assert picture.size == (int(meta["og:image:width"]), int(meta["og:image:height"]))
    gif = decode(shared_gif.outputs.get().file.open("rb").read())
    first = gif.frames[0][..., :3].astype(int)
    assert np.abs(np.asarray(picture.convert("RGB")).astype(int) - first).mean() < 4

    # The video: H.264, no sound, the animation's frames and duration, the size the head says.
    video = get(client, meta["og:video"])
    assert video.status_code == 200 and video["Content-Type"] == "video/mp4"
    with av.open(io.BytesIO(body(video))) as container:
        assert [s.type for s in container.streams] == ["video"]
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.codec_context.pix_fmt == "yuv420p"
        assert (stream.width, stream.height) == (
            int(meta["og:video:width"]),
            int(meta["og:video:height"]),
        )
        frames = sum(1 for _ in container.decode(stream))
        duration = Fraction(stream.duration) * stream.time_base
    output = shared_gif.outputs.get()
    assert frames == output.frames == 20
    assert duration == Fraction(20, 10)  # 20 frames of 100 ms
    assert get(client, meta["twitter:player:stream"]).status_code == 200


def test_oembed_is_discovered_and_answers_the_oembed_1_0_fields(shared_gif):
    client = Client()
    head = head_of(client.get(f"/s/{shared_gif.share_key}/").content.decode())
    (link,) = [x for x in head.links if x.get("type") == "application/json+oembed"]
    assert link["rel"] == "alternate"
    answer = get(client, link["href"])
    assert answer.status_code == 200 and answer["Content-Type"] == "application/json"
    data = json.loads(answer.content)
    # oEmbed 1.0, section 2.3.4: the required fields, and those of type video.
    assert data["version"] == "1.0" and data["type"] == "video"
    assert isinstance(data["width"], int) and isinstance(data["height"], int)
    assert '<iframe src="' + head.meta["twitter:player"] + '"' in data["html"]
    assert data["provider_name"] == "Loopforge" and data["title"]
    assert data["thumbnail_url"] == head.meta["og:image"]
    assert (data["thumbnail_width"], data["thumbnail_height"]) == (
        int(head.meta["og:image:width"]),
        int(head.meta["og:image:height"]),
    )
    assert (data["width"], data["height"]) == (320, 240)
    smaller = json.loads(get(client, link["href"] + "&maxwidth=160").content)
    assert (smaller["width"], smaller["height"]) == (160, 120)


@pytest.mark.parametrize(
    ("query", "status"),
    [("url=http://testserver/tasks/&format=json", 404), ("url=x&format=xml", 501), ("", 404)],
)
def test_oembed_refuses_what_is_not_a_share_link(shared_gif, query, status):
    assert Client().get(f"/oembed?{query}").status_code == status


def test_the_embed_page_only_plays_the_animation_and_may_be_framed(shared_gif):
    client = Client()
    page = client.get(f"/s/{shared_gif.share_key}/")
    embed = get(client, head_of(page.content.decode()).meta["twitter:player"])
    assert embed.status_code == 200
    html = embed.content.decode()
    assert html.count("<video") == 1 and "autoplay" in html and "muted" in html
    assert "<nav" not in html and "<form" not in html
    assert (
        "X-Frame-Options" not in embed and "frame-ancestors *" in embed["Content-Security-Policy"]
    )
    # The share page itself is not to be framed.
    assert page["X-Frame-Options"] == "DENY"


def test_direct_media_links_per_rendition_with_exact_types(shared_gif):
    client = Client()
    key = shared_gif.share_key
    for ext, kind in (("gif", "image/gif"), ("mp4", "video/mp4"), ("jpg", "image/jpeg")):
        response = client.get(f"/s/{key}/0.{ext}")
        assert response.status_code == 200 and response["Content-Type"] == kind, ext
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Cache-Control"].startswith("public")
    assert client.get(f"/s/{key}/0.webp").status_code == 404  # not made
    assert client.get(f"/s/{key}/1.gif").status_code == 404


def test_a_share_link_names_no_owner_no_task_and_no_file(shared_gif):
    client = Client()
    key = shared_gif.share_key
    texts = [
        client.get(f"/s/{key}/").content.decode(),
        client.get(f"/s/{key}/embed").content.decode(),
    ]
    oembed = client.get("/oembed", {"url": f"{BASE}/s/{key}/"})
    texts.append(oembed.content.decode())
    for text in texts:
        for secret in (shared_gif.public_id, "sharer", "secret-holiday", "sources/", "outputs/"):
            assert secret not in text, secret
    download = client.get(f"/s/{key}/0.gif", {"download": "1"})
    assert 'filename="animation.gif"' in download["Content-Disposition"]


def test_an_mp4_output_is_its_own_video(clips):
    task = make_task(
        clips.quadrants(duration=1, fps=10),
        spec=task_spec(format="mp4", interval=0.1, frame_rate=10, width=None),
    )
    conversion.task_run(task)
    task.refresh_from_db()
    output = task.outputs.get()
    assert not output.video and output.poster and output.video_bytes == output.bytes
    meta = head_of(Client().get(f"/s/{task.share_key}/").content.decode()).meta
    assert meta["og:video"].endswith(f"/0.mp4?v={output.content_version}")
    assert body(get(Client(), meta["og:video"])) == output.file.open("rb").read()


def test_renditions_are_not_billed(shared_gif):
    from converter.models import UsageRecord

    assert [u.frames for u in UsageRecord.objects.filter(task=shared_gif)] == [20]
