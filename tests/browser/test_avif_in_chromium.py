"""Our AVIF and MP4 as a browser reads them: Chromium's own decoders, through
WebCodecs' ImageDecoder (the frame count and loop count an <img> plays) and a
<video> element. No server: the page is served by Playwright's router."""

from __future__ import annotations

import base64

import pytest

from converter.pipeline import encode_avif, encode_mp4
from converter.pipeline.encoding import EncodeOptions
from tests.pipeline.frames import moving_scene, with_alpha

pytestmark = [pytest.mark.browser]

ORIGIN = "https://loopforge.test/"  # a secure context: ImageDecoder needs one

TRACK = """async (b64) => {
    const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
    const decoder = new ImageDecoder({data: bytes, type: 'image/avif'});
    await decoder.tracks.ready;
    await decoder.completed;
    const track = decoder.tracks.selectedTrack;
    const last = await decoder.decode({frameIndex: track.frameCount - 1});
    const count = track.repetitionCount;
    return [track.animated, track.frameCount, count === Infinity ? -1 : count,
            last.image.displayWidth, last.image.displayHeight];
}"""

VIDEO = """async (b64) => {
    const video = document.createElement('video');
    video.muted = true;
    video.src = 'data:video/mp4;base64,' + b64;
    await new Promise((ok, fail) => { video.onloadedmetadata = ok; video.onerror = fail; });
    return [video.videoWidth, video.videoHeight, video.duration];
}"""


@pytest.fixture
def blank(page):  # type: ignore[no-untyped-def]
    page.route(
        f"{ORIGIN}**",
        lambda route: route.fulfill(status=200, content_type="text/html", body="<html></html>"),
    )
    page.goto(ORIGIN)
    return page


@pytest.mark.parametrize("alpha", [False, True], ids=["opaque", "alpha"])
@pytest.mark.parametrize(("loop", "repeats"), [(0, -1), (1, 0), (3, 2)])
def test_chromium_plays_every_frame_the_asked_number_of_times(  # type: ignore[no-untyped-def]
    blank, alpha: bool, loop: int, repeats: int
) -> None:
    frames = with_alpha(5) if alpha else moving_scene(5)
    data = encode_avif.encode(iter(frames), EncodeOptions(frame_duration_ms=100, loop=loop)).data
    animated, count, got, width, height = blank.evaluate(TRACK, base64.b64encode(data).decode())
    assert (animated, count, got) == (True, 5, repeats)
    assert (width, height) == frames[0].shape[1::-1]


def test_chromium_plays_our_mp4(blank) -> None:  # type: ignore[no-untyped-def]
    frames = moving_scene(10, 161, 97)
    data = encode_mp4.encode(iter(frames), EncodeOptions(frame_duration_ms=100)).data
    width, height, duration = blank.evaluate(VIDEO, base64.b64encode(data).decode())
    assert (width, height) == (162, 98)
    assert abs(duration - 1.0) < 0.01
