"""Uploads of other inputs in real Chromium, converted by a real worker: a
QuickTime MOV, a WebM, an HLS playlist chosen together with its segments,
an audio file refused (and drawn as a waveform when asked)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from converter.bench.decode import decode
from converter.bench.score import ssim
from tests.browser.steps import sign_up
from tests.media import reference_frames

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def convert_in_browser(
    page, base: str, files, shown_name: str, *, fmt: str = "webp", waveform: bool = False
):
    """Choose ``files``, ask for ``fmt`` at 4 fps original size, wait for the
    result and return the decoded image the page shows."""
    page.goto(f"{base}/")
    page.set_input_files("#id_video", files)
    expect(page.locator("#dz-file")).to_contain_text(shown_name)
    page.select_option("#id_format", fmt)
    page.fill("#id_fps", "4")
    page.check("input[name=size][value=original]")
    if waveform:
        page.check("#id_waveform")
    page.click("#submit")
    page.wait_for_url(re.compile(r".*/tasks/mc-[0-9a-f]+/$"))
    expect(page.locator("#status")).to_have_text("Succeeded", timeout=90_000)
    figure = page.locator("#outputs figure").first
    body = page.request.get(base + figure.locator("img").get_attribute("src")).body()
    return figure, body


@pytest.mark.parametrize(("kind", "name"), [("mov-h264", "h264.mov"), ("webm-vp9", "vp9.webm")])
def test_mov_and_webm_uploads_convert(page, live_server, worker, clips, kind, name):
    base = live_server.url
    sign_up(page, base, f"user-{kind}")
    src = clips.container(kind)
    figure, body = convert_in_browser(page, base, str(src), name)
    expect(figure.locator(".dims")).to_have_text("320 × 240")
    expect(figure.locator(".frames")).to_have_text("8")  # 2 s at 4 fps
    image = decode(body)
    frames = image.frames
    assert (image.format, image.size, len(frames)) == ("WEBP", (320, 240), 8)
    refs = reference_frames(src, [0.25 * k for k in range(8)], 320, 240)
    assert min(ssim(f[..., :3], r) for f, r in zip(frames, refs, strict=True)) > 0.7


def test_an_hls_playlist_with_its_segments_converts(page, live_server, worker, clips):
    base = live_server.url
    sign_up(page, base, "hls-user")
    playlist = clips.hls("mpegts")
    files = sorted(str(p) for p in playlist.parent.iterdir())
    figure, body = convert_in_browser(page, base, files, "index.m3u8 + 4 segments", fmt="gif")
    expect(figure.locator(".dims")).to_have_text("320 × 240")
    image = decode(body)
    frames = image.frames
    assert image.format == "GIF" and image.size == (320, 240) and len(frames) == 8
    refs = reference_frames(clips.container("mp4-h264"), [0.25 * k for k in range(8)], 320, 240)
    assert min(ssim(f[..., :3], r) for f, r in zip(frames, refs, strict=True)) > 0.6
    page.goto(f"{base}/tasks/")
    expect(page.locator("table.history tbody tr").first).to_contain_text("index.m3u8")


def test_a_playlist_without_its_segments_is_explained(page, live_server, clips):
    base = live_server.url
    sign_up(page, base, "lonely-playlist")
    page.set_input_files("#id_video", str(clips.hls("mpegts")))
    page.click("#submit")
    expect(page.locator("#upload-error")).to_contain_text("seg000.ts")
    expect(page.locator("#upload-error")).to_contain_text("together with all of its segments")


def test_audio_is_refused_unless_its_waveform_is_asked_for(page, live_server, worker, clips):
    base = live_server.url
    sign_up(page, base, "podcaster")
    src = clips.audio_only("mp3", rising=True)
    page.set_input_files("#id_video", str(src))
    page.click("#submit")
    expect(page.locator("#upload-error")).to_contain_text("no video picture")
    figure, body = convert_in_browser(page, base, str(src), src.name, fmt="gif", waveform=True)
    expect(figure.locator(".dims")).to_have_text("640 × 240")
    image = decode(body)
    assert (image.format, image.size, len(image.frames)) == ("GIF", (640, 240), 8)
