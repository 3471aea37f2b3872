"""The editor in real Chromium: the chosen video plays from the local file
while it uploads in the background; two handles on a timeline trim it, in
sync with the Start and Duration fields; the frame limit bounds the
selection; Convert sends the settings and the draft, never the file again."""

from __future__ import annotations

import os
import re
import shutil

import pytest
from playwright.sync_api import expect

from converter.models import Draft, Task
from tests.browser.steps import sign_up
from tests.poll import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FRAME = 1 / 25  # the clips' frame rate


def choose(page, path) -> None:
    """Choose a video and wait until it plays and the server has probed it."""
    page.set_input_files("#id_video", str(path))
    expect(page.locator("#player")).to_be_visible()
    expect(page.locator("#source-facts")).to_contain_text("25 fps", timeout=30_000)
    wait_until(lambda: page.evaluate("document.getElementById('player').currentTime") > 0)


def value(page, selector: str) -> float:
    return float(page.input_value(selector))


def drag(page, handle: str, fraction: float) -> None:
    """Drag a handle with the mouse to ``fraction`` of the track's width."""
    page.locator("#track").scroll_into_view_if_needed()
    track = page.locator("#track").bounding_box()
    box = page.locator(handle).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    target = track["x"] + track["width"] * fraction
    page.mouse.move(target, box["y"] + box["height"] / 2, steps=8)
    page.mouse.up()


def handle_fraction(page, handle: str) -> float:
    """Where the handle's centre is, as a fraction of the track's width."""
    track = page.locator("#track").bounding_box()
    box = page.locator(handle).bounding_box()
    return (box["x"] + box["width"] / 2 - track["x"]) / track["width"]


def test_the_handles_the_fields_and_the_player_stay_in_sync(page, live_server, clips):
    sign_up(page, live_server.url, "trim")
    choose(page, clips.moving(duration=3, size="320x240", name="three-seconds.mp4"))
    expect(page.locator("#filmstrip canvas")).to_have_count(8)
    assert page.input_value("#id_duration") == ""  # the whole video fits: "to the end"

    drag(page, "#handle-end", 0.5)
    assert value(page, "#id_duration") == pytest.approx(1.5, abs=2 * FRAME)
    assert value(page, "#id_start") == 0
    end = float(page.get_attribute("#handle-end", "aria-valuenow"))
    assert end == pytest.approx(value(page, "#id_duration"), abs=0.001)

    page.fill("#id_start", "1")  # typed: the handle moves, the length stays
    assert handle_fraction(page, "#handle-start") == pytest.approx(1 / 3, abs=0.02)
    assert float(page.get_attribute("#handle-end", "aria-valuenow")) == pytest.approx(
        1 + end, abs=0.001
    )

    # One source frame a press, once the probe has said the frame rate.
    duration = value(page, "#id_duration")
    page.focus("#handle-end")
    page.keyboard.press("ArrowLeft")
    assert value(page, "#id_duration") == pytest.approx(duration - FRAME, abs=0.001)
    page.focus("#handle-start")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert value(page, "#id_start") == pytest.approx(1 + 2 * FRAME, abs=0.001)
    assert value(page, "#id_duration") == pytest.approx(duration - 3 * FRAME, abs=0.001)

    start, length = value(page, "#id_start"), value(page, "#id_duration")
    frames = -(-round(length * 10 * 1000) // 1000)  # ceil at the form's 10 fps
    expect(page.locator("#output-facts")).to_have_text(f"Output: 160 × 120, {frames} frames")

    # The player loops the selection: it goes back to the start, never past the end.
    page.evaluate(
        """() => {
            const v = document.getElementById("player");
            window.loops = 0; window.latest = 0;
            v.addEventListener("seeked", () => window.loops++);
            v.addEventListener("timeupdate", () => {
                window.latest = Math.max(window.latest, v.currentTime);
            });
        }"""
    )
    wait_until(lambda: page.evaluate("window.loops") >= 2, timeout_s=30)
    assert page.evaluate("window.latest") <= start + length + 0.3
    assert page.evaluate("document.getElementById('player').currentTime") >= start - 0.3

    page.click("#play-toggle")  # moving pictures can be stopped
    expect(page.locator("#play-toggle")).to_have_text("Play")
    assert page.evaluate("document.getElementById('player').paused")
    page.focus("#handle-end")
    page.keyboard.press("ArrowLeft")  # trimming does not start it again
    assert page.evaluate("document.getElementById('player').paused")


def test_the_longest_selection_follows_the_frame_limit(page, live_server, clips, settings):
    settings.CONVERTER_MAX_OUTPUT_FRAMES = 20
    sign_up(page, live_server.url, "limit")
    page.fill("#id_fps", "15")
    choose(page, clips.moving(duration=3, size="320x240", name="three-seconds.mp4"))
    notice = page.locator("#max-length")
    expect(notice).to_have_text("At 15 fps, at most 1.3 s (20 frames).")
    assert value(page, "#id_duration") == pytest.approx(20 / 15, abs=0.001)
    drag(page, "#handle-end", 1.0)  # no further than the limit
    assert value(page, "#id_duration") == pytest.approx(20 / 15, abs=0.001)
    expect(page.locator("#output-facts")).to_contain_text("20 frames")

    page.fill("#id_fps", "10")  # a lower rate allows a longer selection
    expect(notice).to_be_hidden()
    drag(page, "#handle-end", 1.0)
    assert value(page, "#id_duration") == pytest.approx(2, abs=0.001)
    expect(notice).to_have_text("At 10 fps, at most 2 s (20 frames).")


def test_convert_waits_for_the_upload_and_sends_no_file_again(page, live_server, clips):
    sign_up(page, live_server.url, "waits")
    held = []
    page.route("**/drafts/", lambda route: held.append(route))  # the upload is held until released
    clip = clips.moving(duration=3, size="320x240", name="three-seconds.mp4")
    with page.expect_request("**/drafts/"):
        page.set_input_files("#id_video", str(clip))
    expect(page.locator("#player")).to_be_visible()  # plays before the upload ends
    page.fill("#id_duration", "1")
    page.click("#submit")
    expect(page.locator("#submit")).to_have_text("Waiting for the upload…")
    expect(page.locator("#submit")).to_be_disabled()
    assert not Task.objects.exists()

    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/")) as convert:
        held[0].continue_()
    page.wait_for_url(re.compile(r".*/tasks/mc-[0-9a-f]+/$"))
    body = convert.value.post_data_buffer
    assert b'name="draft"' in body and len(body) < clip.stat().st_size / 4
    task = Task.objects.get()
    draft = Draft.objects.get()
    assert draft.task == task and task.source.name == draft.source.name
    assert task.spec["trim"]["duration"] == 1.0


def test_a_format_the_browser_cannot_play_is_still_trimmed_by_the_numbers(page, live_server, clips):
    sign_up(page, live_server.url, "noplay")
    page.set_input_files("#id_video", str(clips.container("avi-mpeg4")))
    expect(page.locator("#no-preview")).to_be_visible(timeout=30_000)
    expect(page.locator("#player-box")).to_be_hidden()
    expect(page.locator("#timeline")).to_be_visible(timeout=30_000)  # from the probe's length
    page.focus("#handle-end")
    page.keyboard.press("ArrowLeft")
    assert value(page, "#id_duration") > 0


def test_an_avi_plays_from_the_servers_preview_with_a_filmstrip(page, live_server, clips, worker):
    """No browser plays AVI: the server's preview job makes an H.264 proxy,
    which the editor then plays, with its filmstrip and timeline, as if the
    file played locally; Convert still converts the AVI itself."""
    sign_up(page, live_server.url, "avi")
    page.set_input_files("#id_video", str(clips.container("avi-mpeg4")))
    expect(page.locator("#no-preview")).to_contain_text("the server is making a preview")
    expect(page.locator("#player-box")).to_be_visible(timeout=60_000)
    expect(page.locator("#filmstrip canvas")).to_have_count(8, timeout=30_000)
    assert "/proxy.mp4" in page.evaluate("document.getElementById('player').currentSrc")
    wait_until(lambda: page.evaluate("document.getElementById('player').currentTime") > 0.3)
    drag(page, "#handle-end", 0.5)
    assert value(page, "#id_duration") == pytest.approx(1, abs=0.1)  # half of 2 s
    page.fill("#id_fps", "10")
    page.click("#submit")
    page.wait_for_url(re.compile(r".*/tasks/mc-[0-9a-f]+/$"))
    expect(page.locator("#status")).to_have_text("Succeeded", timeout=90_000)
    task = Task.objects.get()
    assert task.outputs.get().frames == pytest.approx(10, abs=1)
    assert not Draft.objects.get().proxy.storage.exists(Draft.objects.get().proxy.name)


def test_an_hls_bundle_plays_from_the_servers_preview(page, live_server, clips, worker):
    sign_up(page, live_server.url, "bundle-preview")
    playlist = clips.hls("mpegts")
    page.set_input_files("#id_video", sorted(str(p) for p in playlist.parent.iterdir()))
    expect(page.locator("#no-preview")).to_contain_text("the server is making a preview")
    expect(page.locator("#player-box")).to_be_visible(timeout=60_000)
    expect(page.locator("#filmstrip canvas")).to_have_count(8, timeout=30_000)
    wait_until(lambda: page.evaluate("document.getElementById('player').currentTime") > 0.3)


def test_an_hls_bundle_is_trimmed_by_the_numbers(page, live_server, clips):
    sign_up(page, live_server.url, "bundle")
    playlist = clips.hls("mpegts")
    page.set_input_files("#id_video", sorted(str(p) for p in playlist.parent.iterdir()))
    expect(page.locator("#no-preview")).to_be_visible()
    expect(page.locator("#timeline")).to_be_visible(timeout=30_000)  # the joined video's length
    expect(page.locator("#source-facts")).to_contain_text("320 × 240")
    page.focus("#handle-end")
    page.keyboard.press("PageDown")  # one second back from the end
    assert value(page, "#id_duration") == pytest.approx(1, abs=0.05)


LAYOUTS = [
    pytest.param({"width": 1280, "height": 800}, "moving", "desktop", id="desktop"),
    pytest.param({"width": 390, "height": 844}, "portrait", "phone", id="phone-portrait"),
]


@pytest.mark.parametrize(("viewport", "clip", "name"), LAYOUTS)
def test_the_editor_layout_at_desktop_and_phone_width(
    page, live_server, clips, tmp_path, viewport, clip, name
):
    page.set_viewport_size(viewport)
    sign_up(page, live_server.url, f"layout{name}")
    path = (
        clips.moving(duration=3, size="640x360", name="wide.mp4")
        if clip == "moving"
        else clips.portrait()
    )
    choose(page, path)
    expect(page.locator("#filmstrip canvas")).to_have_count(8)
    drag(page, "#handle-end", 0.7)
    page.focus("#handle-start")  # the visible focus is in the picture too
    player = page.locator("#player").bounding_box()
    preview = page.locator(".preview-pane").bounding_box()
    settings_pane = page.locator(".settings-pane").bounding_box()
    if name == "desktop":
        assert settings_pane["x"] >= preview["x"] + preview["width"]  # side by side
        assert player["width"] > player["height"]
    else:
        assert settings_pane["y"] >= preview["y"] + preview["height"]  # stacked
        assert player["height"] > player["width"]  # a portrait clip, a portrait player
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    shot = tmp_path / f"editor-{name}.png"
    page.screenshot(path=str(shot), full_page=True)
    # LOOPFORGE_SCREENSHOTS=docs keeps them as the documentation's pictures.
    if os.environ.get("LOOPFORGE_SCREENSHOTS"):
        shutil.copy(shot, os.path.join(os.environ["LOOPFORGE_SCREENSHOTS"], shot.name))


def test_the_estimate_follows_the_settings(page, live_server, clips, worker):
    """The editor asks the server for an estimate as settings change
    (debounced) and shows the size in words; fewer frames, smaller file."""
    sign_up(page, live_server.url, "estimator")
    choose(page, clips.moving(duration=3, size="320x240", name="three-seconds.mp4"))
    facts = page.locator("#estimate-facts")
    expect(facts).to_contain_text("frames, about", timeout=30_000)
    first = int(facts.get_attribute("data-bytes"))
    page.fill("#id_fps", "4")
    expect(facts).not_to_have_attribute("data-bytes", str(first), timeout=30_000)
    expect(facts).to_contain_text("frames, about", timeout=30_000)
    assert int(facts.get_attribute("data-bytes")) < first


def test_the_discord_emoji_preset_verdict_follows_the_fps_and_the_file_fits(
    page, live_server, clips, worker
):
    """Issue 14's check: choose the Discord emoji preset (256 KB), see the
    estimate and the fit verdict change as the frame rate changes, convert,
    and the output is under 256 KB."""
    sign_up(page, live_server.url, "emoji")
    choose(page, clips.moving(duration=3, size="640x480", name="emoji-source.mp4"))
    page.select_option("#id_preset", "discord-emoji")
    page.check("input[name=size][value=original]")
    page.fill("#id_fps", "25")
    facts = page.locator("#estimate-facts")
    expect(facts).to_contain_text("cap", timeout=30_000)
    many = int(facts.get_attribute("data-bytes"))
    verdict_many = facts.get_attribute("data-verdict")
    page.fill("#id_fps", "2")
    expect(facts).not_to_have_attribute("data-bytes", str(many), timeout=30_000)
    expect(facts).to_contain_text("cap", timeout=30_000)
    assert int(facts.get_attribute("data-bytes")) < many
    assert verdict_many == "over" and facts.get_attribute("data-verdict") in ("fits", "likely fits")
    page.fill("#id_fps", "25")
    page.click("#submit")
    page.wait_for_url(re.compile(r".*/tasks/mc-[0-9a-f]+/$"))
    expect(page.locator("#status")).to_have_text("Succeeded", timeout=120_000)
    output = Task.objects.get().outputs.get()
    assert output.bytes <= 256_000, output.bytes
