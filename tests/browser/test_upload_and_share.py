"""A person's whole path in real Chromium: sign up, upload, watch the task,
open the share link logged out; a second person sees none of it."""

from __future__ import annotations

import os
import re
import shutil

import pytest
from playwright.sync_api import expect

from converter.bench.decode import decode
from tests.browser.steps import sign_up
from tests.poll import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_upload_convert_share_and_privacy(page, browser, live_server, worker, clips):
    base = live_server.url
    sign_up(page, base, "alice")

    page.set_input_files("#id_video", str(clips.moving(duration=3, size="320x240")))
    expect(page.locator("#dz-file")).to_contain_text("moving.mp4")
    page.select_option("#id_format", "gif")
    page.fill("#id_start", "0.5")
    page.fill("#id_duration", "2")
    page.fill("#id_fps", "5")
    expect(page.locator("#id_width")).to_be_hidden()  # only asked for with "Width in pixels"
    page.check("input[name=size][value=pixels]")
    page.fill("#id_width", "160")
    page.click("#submit")

    page.wait_for_url(re.compile(r".*/tasks/mc-[0-9a-f]+/$"))
    task_url = page.url
    expect(page.locator("#status")).to_have_text("Succeeded", timeout=90_000)
    figure = page.locator("#outputs figure").first
    expect(figure.locator(".dims")).to_have_text("160 × 120")
    expect(figure.locator(".frames")).to_have_text("10")  # 0.5 .. 2.3 s at 5 fps

    # The image the page shows decodes with the asked size and frame count.
    src = figure.locator("img").get_attribute("src")
    shown = page.request.get(base + src)
    image = decode(shown.body())
    assert (image.format, image.size, len(image.frames)) == ("GIF", (160, 120), 10)
    assert figure.locator(".bytes").get_attribute("data-bytes") == str(len(shown.body()))
    assert "?v=" in src  # versioned: it may be cached for a year
    expect(figure.locator("a.download")).to_have_attribute(
        "href", src.split("?")[0] + "?download=1"
    )

    page.click("#copy-share")
    expect(page.locator("#copy-share")).to_have_text("Copied!")
    share_url = page.input_value("#share-url")
    assert re.search(r"/s/[A-Za-z0-9_-]{32,}/$", share_url)

    page.goto(f"{base}/tasks/")
    row = page.locator("table.history tbody tr").first
    expect(row).to_contain_text("moving.mp4")
    expect(row.locator(".badge")).to_have_text("Succeeded")
    expect(row.locator("img")).to_be_visible()

    # Anyone with the link, logged out, sees the animation play (as its MP4,
    # a fraction of the GIF's bytes) and gets the GIF by its direct link.
    stranger = browser.new_context()
    shared = stranger.new_page()
    shared.goto(share_url)
    video = shared.locator("video.animation")
    expect(video).to_be_visible()
    wait_until(lambda: video.evaluate("v => v.currentTime") > 0.2, what="the shared MP4 to play")
    direct = shared.locator("a.direct").get_attribute("href")
    body = shared.request.get(share_url.split("/s/")[0] + direct).body()
    assert len(decode(body).frames) == 10

    # A second user sees nothing of alice's.
    other = browser.new_context().new_page()
    sign_up(other, base, "bob")
    other.goto(f"{base}/tasks/")
    expect(other.locator("body")).not_to_contain_text("moving.mp4")
    assert other.goto(task_url).status == 404
    assert other.request.get(base + src).status == 404
    stranger.close()


def test_a_dropped_file_uploads_and_converts_to_webp(page, live_server, worker, clips):
    base = live_server.url
    sign_up(page, base, "carol")
    clip = clips.moving(duration=2, size="320x240", name="dropped.mp4")
    payload = list(clip.read_bytes())
    page.evaluate(
        """([bytes, name]) => {
            const dt = new DataTransfer();
            dt.items.add(new File([new Uint8Array(bytes)], name, {type: "video/mp4"}));
            const zone = document.getElementById("dropzone");
            const how = {dataTransfer: dt, bubbles: true, cancelable: true};
            zone.dispatchEvent(new DragEvent("dragover", how));
            zone.dispatchEvent(new DragEvent("drop", how));
        }""",
        [payload, clip.name],
    )
    expect(page.locator("#dz-file")).to_contain_text("dropped.mp4")
    page.select_option("#id_format", "webp")
    page.check("input[name=size][value=original]")
    page.fill("#id_fps", "4")
    page.click("#submit")
    page.wait_for_url(re.compile(r".*/tasks/mc-[0-9a-f]+/$"))
    expect(page.locator("#status")).to_have_text("Succeeded", timeout=90_000)
    expect(page.locator("#outputs .dims")).to_have_text("320 × 240")
    expect(page.locator("#outputs .frames")).to_have_text("8")
    expect(page.locator(".filename")).to_have_text("dropped.mp4")


@pytest.mark.worker_env(CONVERTER_MAX_OUTPUT_FRAMES="20")
def test_a_failed_task_shows_a_readable_reason(page, live_server, worker, clips):
    base = live_server.url
    sign_up(page, base, "dave")
    page.set_input_files(
        "#id_video", str(clips.moving(duration=2, size="320x240", name="short.mp4"))
    )
    page.fill("#id_fps", "50")
    page.fill("#id_duration", "")
    # 2 s at 50 fps is 100 frames; a worker limit of 20 frames makes the task fail.
    page.click("#submit")
    page.wait_for_url(re.compile(r".*/tasks/mc-[0-9a-f]+/$"))
    expect(page.locator("#status")).to_have_text("Failed", timeout=90_000)
    expect(page.locator("#failure-code")).to_have_text("TooManyFrames")
    expect(page.locator("#failure-message")).to_contain_text("limit is 20")


def test_an_mp4_output_plays_on_the_task_and_share_pages(page, browser, live_server, worker, clips):
    """An MP4 is shown in a muted looping <video>, not an <img>: on the task
    page as it finishes, when the page is loaded again, and on the share page."""
    base = live_server.url
    sign_up(page, base, "mp4-viewer")
    page.set_input_files("#id_video", str(clips.moving(duration=2, name="to-mp4.mp4")))
    page.select_option("#id_format", "mp4")
    page.fill("#id_fps", "10")
    page.click("#submit")
    page.wait_for_url(re.compile(r".*/tasks/mc-[0-9a-f]+/$"))
    expect(page.locator("#status")).to_have_text("Succeeded", timeout=90_000)

    def plays(where) -> None:
        video = where.locator("video.animation")
        expect(video).to_have_count(1)
        assert where.locator("img.animation").count() == 0
        assert video.evaluate("v => v.muted && v.loop")
        wait_until(lambda: video.evaluate("v => v.currentTime") > 0.2, what="the MP4 to play")

    plays(page)
    page.reload()
    plays(page)
    share = page.input_value("#share-url")
    stranger = browser.new_context()
    other = stranger.new_page()
    other.goto(share)
    plays(other)
    stranger.close()


SHARE_LAYOUTS = [
    pytest.param({"width": 1280, "height": 800}, "desktop", id="desktop"),
    pytest.param({"width": 390, "height": 844}, "phone", id="phone"),
]


@pytest.mark.parametrize(("viewport", "name"), SHARE_LAYOUTS)
def test_the_share_page_copies_every_snippet_and_fits_the_screen(
    page, browser, live_server, worker, clips, tmp_path, viewport, name
):
    """A logged-out visitor's share page at desktop and phone width: the
    animation plays, nothing overflows, and each copy button puts its own
    text on the clipboard (the link, the files, HTML, Markdown, BBCode)."""
    base = live_server.url
    sign_up(page, base, f"copier-{name}")
    page.set_input_files("#id_video", str(clips.moving(duration=2, name="to-share.mp4")))
    page.fill("#id_fps", "5")
    page.click("#submit")
    page.wait_for_url(re.compile(r".*/tasks/mc-[0-9a-f]+/$"))
    expect(page.locator("#status")).to_have_text("Succeeded", timeout=90_000)
    page.set_viewport_size(viewport)
    page.screenshot(path=str(tmp_path / f"task-{name}.png"), full_page=True)
    share_url = page.input_value("#share-url")

    context = browser.new_context(
        viewport=viewport, permissions=["clipboard-read", "clipboard-write"]
    )
    visitor = context.new_page()
    visitor.goto(share_url)
    video = visitor.locator("video.animation")
    wait_until(lambda: video.evaluate("v => v.currentTime") > 0.2, what="the MP4 to play")
    assert visitor.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    expected = {
        "copy-link": share_url,
        "copy-markdown": f"![animation]({visitor.input_value('#copy-direct')})",
        "copy-bbcode": f"[img]{visitor.input_value('#copy-direct')}[/img]",
    }
    for snippet in visitor.locator(".snippet input").all():
        field = snippet.get_attribute("id")
        visitor.click(f"button[data-copy='#{field}']")
        copied = visitor.evaluate("navigator.clipboard.readText()")
        assert copied == visitor.input_value(f"#{field}"), field
        if field in expected:
            assert copied == expected[field], field
    html_video = visitor.input_value("#copy-html-video")
    assert html_video.startswith("<video ") and "autoplay loop muted playsinline" in html_video
    shot = tmp_path / f"share-{name}.png"
    visitor.screenshot(path=str(shot), full_page=True)
    if os.environ.get("LOOPFORGE_SCREENSHOTS"):
        for each in (shot, tmp_path / f"task-{name}.png"):
            shutil.copy(each, os.path.join(os.environ["LOOPFORGE_SCREENSHOTS"], each.name))
    context.close()
