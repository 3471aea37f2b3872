"""The editor's picture controls in real Chromium: a crop box drawn, moved
and resized with the mouse over the playing video, in sync with the Crop
number fields; aspect presets; the captions' rows, their JSON for the form
and their preview over the video where the output draws them."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from converter.bench.decode import decode
from converter.models import Task
from tests.browser.steps import sign_up
from tests.media import X264, ffmpeg
from tests.poll import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CROP = ("#id_crop_x", "#id_crop_y", "#id_crop_width", "#id_crop_height")


def choose(page, path) -> None:
    """Choose a video and wait until it plays and the server has probed it."""
    page.set_input_files("#id_video", str(path))
    expect(page.locator("#player")).to_be_visible()
    expect(page.locator("#source-facts")).to_contain_text("fps", timeout=30_000)
    wait_until(lambda: page.evaluate("document.getElementById('player').currentTime") > 0)


def crop_values(page) -> list[int]:
    return [int(page.input_value(f)) for f in CROP]


def picture(page) -> dict:
    """Where the video's picture is on the page (the crop layer covers it)."""
    return page.locator("#crop-layer").bounding_box()


def mouse_drag(page, start: tuple[float, float], end: tuple[float, float]) -> None:
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=8)
    page.mouse.up()


def at(box: dict, fx: float, fy: float) -> tuple[float, float]:
    return box["x"] + box["width"] * fx, box["y"] + box["height"] * fy


def start_cropping(page, base: str, clips, name: str, size: str = "320x240") -> dict:
    """Sign up, choose a clip and turn the crop tool on; answers the picture's box."""
    sign_up(page, base, name)
    choose(page, clips.moving(duration=3, size=size, name=f"{name}.mp4"))
    page.click("#crop-toggle")
    expect(page.locator("#crop-toggle")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#crop-layer")).to_be_visible()
    return picture(page)


def test_drawing_moving_and_resizing_the_box_fill_the_fields(page, live_server, clips):
    area = start_cropping(page, live_server.url, clips, "draw")
    assert area["width"] / area["height"] == pytest.approx(320 / 240, abs=0.02)
    assert page.input_value("#id_crop_width") == ""  # no crop until one is drawn

    mouse_drag(page, at(area, 0.25, 0.25), at(area, 0.75, 0.75))
    x, y, w, h = crop_values(page)
    assert (x, y, w, h) == pytest.approx((80, 60, 160, 120), abs=3)
    box = page.locator("#crop-box").bounding_box()  # drawn where the numbers say
    assert box["x"] == pytest.approx(area["x"] + area["width"] * x / 320, abs=2)
    assert box["width"] == pytest.approx(area["width"] * w / 320, abs=2)
    expect(page.locator("#output-facts")).to_contain_text(f"Output: {round(w / 2)} × ")

    # Dragged inside: it moves, keeping its size, and stops at the picture's edge.
    mouse_drag(page, at(area, 0.5, 0.5), at(area, 0.5 + 0.1, 0.5))
    moved = crop_values(page)
    assert moved[0] == pytest.approx(x + 32, abs=3) and moved[1:] == [y, w, h]
    mouse_drag(page, at(area, 0.6, 0.5), at(area, 1.2, 0.5))
    assert crop_values(page)[0] + w == 320

    # The bottom-right corner handle resizes it from the top-left corner.
    before = crop_values(page)
    handle = page.locator("#crop-box .crop-handle.se").bounding_box()
    centre = (handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    mouse_drag(page, centre, (centre[0] - area["width"] * 0.25, centre[1] + area["height"] * 0.1))
    after = crop_values(page)
    assert after[:2] == before[:2]
    assert after[2] == pytest.approx(before[2] - 80, abs=3)
    assert after[3] == pytest.approx(before[3] + 24, abs=3)

    # From the keyboard: one source pixel a press, ten with Shift.
    page.focus("#crop-box")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Shift+ArrowUp")
    assert crop_values(page) == [after[0] - 1, after[1] - 10, after[2], after[3]]

    page.click("#crop-reset")
    assert [page.input_value(f) for f in CROP] == ["", "", "", ""]
    expect(page.locator("#crop-box")).to_be_hidden()
    expect(page.locator("#output-facts")).to_contain_text("Output: 160 × 120")


def test_an_aspect_preset_constrains_the_box(page, live_server, clips):
    area = start_cropping(page, live_server.url, clips, "aspect")
    page.select_option("#crop-aspect", "1:1")  # the largest square, centred
    assert crop_values(page) == [40, 0, 240, 240]
    expect(page.locator("#output-facts")).to_contain_text("Output: 120 × 120")

    page.select_option("#crop-aspect", "16:9")
    area = picture(page)
    mouse_drag(page, at(area, 0.1, 0.1), at(area, 0.6, 0.3))  # the wider span wins
    x, y, w, h = crop_values(page)
    assert (x, y) == pytest.approx((32, 24), abs=2)
    assert w == pytest.approx(160, abs=3) and w / h == pytest.approx(16 / 9, abs=0.03)

    page.select_option("#crop-aspect", "9:16")  # the current box, made portrait inside it
    x2, y2, w2, h2 = crop_values(page)
    assert y2 >= y and y2 + h2 <= y + h + 1
    assert h2 == pytest.approx(h, abs=1) and w2 / h2 == pytest.approx(9 / 16, abs=0.03)
    assert x < x2 and x2 + w2 <= x + w


def test_the_crop_tools_work_from_the_keyboard(page, live_server, clips):
    sign_up(page, live_server.url, "keys")
    choose(page, clips.moving(duration=3, size="320x240", name="keys.mp4"))
    page.focus("#crop-toggle")
    page.keyboard.press("Enter")
    expect(page.locator("#crop-toggle")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Tab")
    expect(page.locator("#crop-aspect")).to_be_focused()
    page.select_option("#crop-aspect", "4:3")  # the whole 4:3 picture
    assert crop_values(page) == [0, 0, 320, 240]
    page.keyboard.press("Tab")
    expect(page.locator("#crop-reset")).to_be_focused()
    page.keyboard.press("Tab")  # Remove black bars is disabled until the server has looked
    expect(page.locator("#crop-box")).to_be_focused()
    assert page.evaluate("document.getElementById('crop-box').matches(':focus-visible')")
    outline = page.evaluate("getComputedStyle(document.getElementById('crop-box')).outlineWidth")
    assert outline == "3px"  # the visible focus
    page.keyboard.press("Shift+ArrowRight")  # a box as wide as the picture does not move
    assert crop_values(page) == [0, 0, 320, 240]
    page.select_option("#crop-aspect", "1:1")
    page.focus("#crop-box")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("ArrowDown")
    assert crop_values(page) == [50, 0, 240, 240]
    expect(page.locator("#crop-status")).to_contain_text("Keeping 240 × 240 at 50, 0.")


def test_typing_in_the_fields_moves_the_box(page, live_server, clips):
    area = start_cropping(page, live_server.url, clips, "typed")
    for field, v in zip(CROP, ("160", "0", "160", "120"), strict=True):
        page.fill(field, v)
    area = picture(page)  # measured again: the fields may have scrolled the page
    box = page.locator("#crop-box").bounding_box()  # the top-right quadrant
    assert box["x"] == pytest.approx(area["x"] + area["width"] / 2, abs=2)
    assert box["y"] == pytest.approx(area["y"], abs=2)
    assert box["width"] == pytest.approx(area["width"] / 2, abs=2)
    assert box["height"] == pytest.approx(area["height"] / 2, abs=2)
    expect(page.locator("#output-facts")).to_contain_text("Output: 80 × 60")

    page.fill("#id_crop_x", "300")  # the box stays inside: cut at the edge
    area = picture(page)
    box = page.locator("#crop-box").bounding_box()
    assert box["x"] == pytest.approx(area["x"] + area["width"] * 300 / 320, abs=2)
    assert box["x"] + box["width"] == pytest.approx(area["x"] + area["width"], abs=2)
    assert crop_values(page) == [300, 0, 20, 120]
    page.fill("#id_crop_width", "500")
    page.locator("#id_crop_width").blur()
    assert crop_values(page) == [300, 0, 20, 120]

    for field in CROP:
        page.fill(field, "")
    expect(page.locator("#crop-box")).to_be_hidden()
    expect(page.locator("#output-facts")).to_contain_text("Output: 160 × 120")


def test_remove_black_bars_finds_the_letterboxed_picture(page, live_server, clips, worker):
    sign_up(page, live_server.url, "bars")
    # A lossless clip Chromium cannot play: the numbers are the crop here.
    page.set_input_files("#id_video", str(clips.quadrants(bars="letterbox")))
    button = page.locator("#crop-bars")
    expect(page.locator("#picture-tools")).to_be_visible(timeout=30_000)
    expect(page.locator("#crop-toggle")).to_be_hidden()  # no player to draw on
    expect(button).to_be_enabled(timeout=60_000)  # once the server has looked
    button.click()
    assert crop_values(page) == [0, 40, 320, 240]
    expect(page.locator("#output-facts")).to_contain_text("Output: 160 × 120")


def test_a_clip_without_bars_says_so(page, live_server, clips, worker):
    sign_up(page, live_server.url, "nobars")
    choose(page, clips.moving(duration=2, size="320x240", name="nobars.mp4"))
    expect(page.locator("#crop-status")).to_have_text("No black bars found.", timeout=60_000)
    page.click("#crop-toggle")
    expect(page.locator("#crop-status")).to_have_text(
        "Drag on the video to draw the part to keep. No black bars found."
    )
    page.click("#crop-bars")
    assert page.input_value("#id_crop_width") == ""


def test_the_crop_and_a_caption_reach_the_output(page, live_server, clips, worker):
    """Remove black bars, then the top-right quadrant by the numbers, with
    a caption in the top band: the output is that quadrant at its size,
    the caption drawn above its middle and nowhere below."""
    sign_up(page, live_server.url, "e2e")
    page.set_input_files("#id_video", str(clips.quadrants(bars="letterbox")))
    expect(page.locator("#crop-bars")).to_be_enabled(timeout=60_000)
    page.click("#crop-bars")
    page.fill("#id_crop_x", "160")
    page.fill("#id_crop_width", "160")
    page.fill("#id_crop_height", "100")
    assert crop_values(page) == [160, 40, 160, 100]
    page.check("input[name=size][value=original]")
    expect(page.locator("#output-facts")).to_contain_text("Output: 160 × 100")
    page.click("#add-caption")
    page.keyboard.type("你好 Hi")
    page.select_option("#caption-1-size", "0.14")
    page.fill("#caption-1-color", "#ff00ff")
    page.select_option("#caption-1-position", "top")
    page.click("#submit")
    page.wait_for_url(re.compile(r".*/tasks/mc-[0-9a-f]+/$"))
    expect(page.locator("#status")).to_have_text("Succeeded", timeout=90_000)
    figure = page.locator("#outputs figure").first
    expect(figure.locator(".dims")).to_have_text("160 × 100")
    image = decode(
        page.request.get(live_server.url + figure.locator("img").get_attribute("src")).body()
    )
    frame = image.frames[0].astype(int)
    assert frame.shape[:2] == (100, 160)
    assert all(abs(frame[60, 10] - (0, 255, 0)) <= 12)  # the lime quadrant, no black bar
    assert all(abs(frame[2, 2] - (0, 255, 0)) <= 12)  # its top row: the bar is cut off
    magenta = (frame[..., 0] > 200) & (frame[..., 1] < 60) & (frame[..., 2] > 200)
    rows = magenta.any(axis=1).nonzero()[0]
    assert rows.size and rows.min() >= 2 and rows.max() < 40  # the top band only


def test_edit_again_opens_the_crop_and_captions_of_the_task(page, live_server, clips, worker):
    sign_up(page, live_server.url, "again")
    choose(page, clips.moving(duration=2, size="320x240", name="again.mp4"))
    for field, v in zip(CROP, ("160", "0", "160", "120"), strict=True):
        page.fill(field, v)
    page.click("#add-caption")
    page.keyboard.type("Again")
    page.select_option("#caption-1-outline", "none")
    page.click("#submit")
    page.wait_for_url(re.compile(r".*/tasks/mc-[0-9a-f]+/$"))
    expect(page.locator("#status")).to_have_text("Succeeded", timeout=90_000)

    page.click("#edit-again")
    expect(page.locator("#player")).to_be_visible(timeout=30_000)  # the stored source plays
    assert page.evaluate("document.getElementById('player').currentSrc").endswith("/source")
    wait_until(lambda: page.evaluate("document.getElementById('player').currentTime") > 0)
    assert crop_values(page) == [160, 0, 160, 120]
    expect(page.locator("#crop-box")).to_be_visible()  # the box over the picture, from the fields
    box = page.locator("#crop-box").bounding_box()
    area = picture(page)
    assert box["x"] == pytest.approx(area["x"] + area["width"] / 2, abs=2)
    assert page.input_value("#caption-1-text") == "Again"
    assert page.input_value("#caption-1-outline") == "none"
    expect(page.locator(".caption-preview")).to_have_text("Again")
    expect(page.locator("#output-facts")).to_contain_text("Output: 80 × 60")

    page.fill("#caption-1-text", "Variant")  # a variant, converted from the stored draft
    with page.expect_request(lambda r: r.method == "POST" and "/drafts/" not in r.url) as convert:
        page.click("#submit")
    page.wait_for_url(re.compile(r".*/tasks/mc-[0-9a-f]+/$"))
    assert b'name="video"; filename' not in convert.value.post_data_buffer
    expect(page.locator("#status")).to_have_text("Succeeded", timeout=90_000)
    expect(page.locator("#outputs figure .dims").first).to_have_text("80 × 60")
    first, variant = (t.spec["animations"][0] for t in Task.objects.order_by("id"))
    assert variant["crop"] == first["crop"] == {"x": 160, "y": 0, "width": 160, "height": 120}
    assert [c["text"] for c in variant["captions"]] == ["Variant"]
    assert variant["captions"][0]["outline"] == 0


def captions(page) -> list[dict]:
    text = page.input_value("#id_captions")
    return json.loads(text) if text else []


def test_a_caption_is_written_for_the_form_and_shown_over_the_video(page, live_server, clips):
    sign_up(page, live_server.url, "caption")
    choose(page, clips.moving(duration=3, size="320x240", name="caption.mp4"))
    page.click("#add-caption")
    expect(page.locator("#caption-1-text")).to_be_focused()
    assert captions(page) == []  # an empty row is not a caption yet
    page.keyboard.type("你好 Hello")
    assert captions(page) == [
        {"Text": "你好 Hello", "Size": 0.1, "Color": "#ffffff", "OutlineColor": "#000000",
         "Position": "bottom"}
    ]  # fmt: skip

    page.select_option("#caption-1-size", "0.14")
    page.select_option("#caption-1-outline", "none")
    page.fill("#caption-1-color", "#ffff00")
    page.select_option("#caption-1-position", "top")
    page.fill("#caption-1-end", "2.5")
    assert captions(page) == [
        {"Text": "你好 Hello", "Size": 0.14, "Color": "#ffff00", "OutlineColor": "#000000",
         "Position": "top", "Outline": 0, "EndTime": 2.5}
    ]  # fmt: skip

    page.fill("#caption-1-end", "")  # shown all the time again (it hides after 2.5 s)

    # Over the video, in the top band, at its size on the displayed picture.
    page.locator("#player").scroll_into_view_if_needed()
    shown = page.locator(".caption-preview")
    expect(shown).to_be_visible()
    expect(shown).to_have_text("你好 Hello")
    area = page.locator("#player").bounding_box()
    text = shown.bounding_box()
    font = float(shown.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))
    assert font == pytest.approx(0.14 * area["height"], rel=0.05)
    assert text["x"] + text["width"] / 2 == pytest.approx(area["x"] + area["width"] / 2, abs=3)
    assert area["y"] < text["y"] < area["y"] + 0.15 * area["height"]
    assert shown.evaluate("e => getComputedStyle(e).color") == "rgb(255, 255, 0)"

    # Dragged with the mouse: X and Y, fractions of the output, for its centre.
    centre = (text["x"] + text["width"] / 2, text["y"] + text["height"] / 2)
    mouse_drag(page, centre, (centre[0], area["y"] + area["height"] * 0.6))
    placed = captions(page)[0]
    assert placed["X"] == pytest.approx(0.5, abs=0.02)
    assert placed["Y"] == pytest.approx(0.6, abs=0.03)
    assert page.input_value("#caption-1-position") == "dragged"
    page.select_option("#caption-1-position", "bottom")  # back to a band
    assert "X" not in captions(page)[0]

    # Only while the player is within its time: from 10 s, never in 3 s.
    page.fill("#caption-1-start", "10")
    assert captions(page)[0]["StartTime"] == 10 and "EndTime" not in captions(page)[0]
    expect(shown).to_be_hidden()
    page.fill("#caption-1-start", "")
    expect(shown).to_be_visible()
    # From 3 s: on the way back of a boomerang (3 s out, 3 s back) every
    # frame the player shows carries it; without one, none.
    page.check("#id_boomerang")
    page.fill("#caption-1-start", "3")
    expect(shown).to_be_visible()
    page.uncheck("#id_boomerang")
    expect(shown).to_be_hidden()
    page.fill("#caption-1-start", "")

    page.click("#add-caption")
    page.fill("#caption-2-text", "second")
    assert [c["Text"] for c in captions(page)] == ["你好 Hello", "second"]
    page.click("#caption-1-text >> xpath=ancestor::li//button[contains(@class, 'remove')]")
    assert [c["Text"] for c in captions(page)] == ["second"]
    expect(page.locator(".caption-preview")).to_have_count(1)


def test_a_caption_is_sized_to_the_crop_box(page, live_server, clips):
    area = start_cropping(page, live_server.url, clips, "capcrop")
    for field, v in zip(CROP, ("0", "0", "160", "120"), strict=True):
        page.fill(field, v)
    page.click("#add-caption")
    page.keyboard.type("Cropped")
    page.locator("#player").scroll_into_view_if_needed()
    area = picture(page)
    shown = page.locator(".caption-preview")
    font = float(shown.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))
    assert font == pytest.approx(0.1 * area["height"] / 2, rel=0.05)
    text = shown.bounding_box()  # in the bottom band of the box, not of the picture
    assert text["x"] + text["width"] / 2 == pytest.approx(area["x"] + area["width"] / 4, abs=3)
    assert (
        area["y"] + area["height"] * 0.3
        < text["y"] + text["height"]
        < area["y"] + area["height"] * 0.5
    )


def playable_quadrants(clips, tmp_path: Path) -> Path:
    """The quadrants clip in H.264, which Chromium plays (its FFV1 it does not)."""
    playable = tmp_path / "quadrants.mp4"
    ffmpeg("-i", str(clips.quadrants(duration=2)), *X264, str(playable))
    return playable


def test_a_box_drawn_over_a_quadrant_makes_an_output_of_that_quadrant(
    page, live_server, clips, worker, tmp_path
):
    sign_up(page, live_server.url, "quadrant")
    choose(page, playable_quadrants(clips, tmp_path))
    page.click("#crop-toggle")
    area = picture(page)
    mouse_drag(page, at(area, 0.55, 0.05), at(area, 0.95, 0.4))  # inside the lime one
    x, y, w, h = crop_values(page)
    assert x > 160 and x + w <= 320 and y + h < 112  # above the frame counter
    page.check("input[name=size][value=original]")
    expect(page.locator("#output-facts")).to_contain_text(f"Output: {w} × {h}")
    page.click("#submit")
    page.wait_for_url(re.compile(r".*/tasks/mc-[0-9a-f]+/$"))
    expect(page.locator("#status")).to_have_text("Succeeded", timeout=90_000)
    figure = page.locator("#outputs figure").first
    expect(figure.locator(".dims")).to_have_text(f"{w} × {h}")
    src = figure.locator("img").get_attribute("src")
    for frame in decode(page.request.get(live_server.url + src).body()).frames:
        assert frame.shape[:2] == (h, w)
        assert (abs(frame[..., :3].astype(int) - (0, 255, 0)) <= 16).all()  # lime only


def test_a_portrait_phone_video_is_cropped_as_it_is_shown(page, live_server, clips, worker):
    sign_up(page, live_server.url, "upright")
    choose(page, clips.portrait())
    page.select_option("#crop-aspect", "9:16")  # the whole upright picture
    assert crop_values(page) == [0, 0, 180, 320]
    page.select_option("#crop-aspect", "1:1")
    assert crop_values(page) == [0, 70, 180, 180]
    page.check("input[name=size][value=original]")
    expect(page.locator("#output-facts")).to_contain_text("Output: 180 × 180")
    page.click("#submit")
    page.wait_for_url(re.compile(r".*/tasks/mc-[0-9a-f]+/$"))
    expect(page.locator("#status")).to_have_text("Succeeded", timeout=90_000)
    expect(page.locator("#outputs figure .dims").first).to_have_text("180 × 180")


def magenta_box(pixels) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) of the magenta pixels, fractions of the picture."""
    rgb = pixels[..., :3].astype(int)
    mask = (rgb[..., 0] > 180) & (rgb[..., 1] < 90) & (rgb[..., 2] > 180)
    rows, cols = mask.any(axis=1).nonzero()[0], mask.any(axis=0).nonzero()[0]
    assert rows.size and cols.size, "no magenta caption found"
    h, w = mask.shape
    return cols[0] / w, rows[0] / h, (cols[-1] + 1) / w, (rows[-1] + 1) / h


def test_the_caption_preview_is_where_and_as_large_as_the_output_draws_it(
    page, live_server, clips, worker, tmp_path
):
    """The preview over a crop box, read from a screenshot, against the
    converted frame: the caption's text covers the same part of each."""
    sign_up(page, live_server.url, "same")
    choose(page, playable_quadrants(clips, tmp_path))
    for field, v in zip(CROP, ("0", "0", "240", "180"), strict=True):
        page.fill(field, v)
    page.check("input[name=size][value=original]")
    page.click("#add-caption")
    page.keyboard.type("你好 Hello")
    page.fill("#caption-1-color", "#ff00ff")
    page.select_option("#caption-1-size", "0.14")
    page.click("#play-toggle")  # a still picture for the screenshot
    page.locator("#player").scroll_into_view_if_needed()
    box = page.locator("#crop-box").bounding_box()
    shot = tmp_path / "preview.png"
    page.screenshot(path=str(shot), clip=box)
    preview = magenta_box(np.asarray(Image.open(shot).convert("RGB")))

    page.click("#submit")
    page.wait_for_url(re.compile(r".*/tasks/mc-[0-9a-f]+/$"))
    expect(page.locator("#status")).to_have_text("Succeeded", timeout=90_000)
    figure = page.locator("#outputs figure").first
    expect(figure.locator(".dims")).to_have_text("240 × 180")
    src = figure.locator("img").get_attribute("src")
    output = magenta_box(decode(page.request.get(live_server.url + src).body()).frames[0])
    assert preview == pytest.approx(output, abs=0.015)  # within 1.5% of a side


SHOT_LAYOUTS = [
    pytest.param({"width": 1280, "height": 900}, "desktop", id="desktop"),
    pytest.param({"width": 390, "height": 844}, "phone", id="phone"),
    pytest.param({"width": 390, "height": 844}, "phone-portrait", id="phone-portrait"),
]


@pytest.mark.parametrize(("viewport", "name"), SHOT_LAYOUTS)
def test_crop_and_captions_at_desktop_and_phone_width(
    page, live_server, clips, viewport, name, tmp_path
):
    page.set_viewport_size(viewport)
    sign_up(page, live_server.url, f"shot{name}")
    portrait = name.endswith("portrait")
    choose(page, clips.portrait() if portrait else clips.moving(size="640x360", name="wide.mp4"))
    page.click("#crop-toggle")
    if portrait:  # cropped in the picture as shown: upright, 180 x 320
        page.select_option("#crop-aspect", "1:1")
        assert crop_values(page) == [0, 70, 180, 180]
        page.select_option("#crop-aspect", "free")
    area = picture(page)
    mouse_drag(page, at(area, 0.2, 0.1), at(area, 0.8, 0.9))
    page.click("#add-caption")
    page.keyboard.type("你好 Hello")
    expect(page.locator(".caption-preview")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    for selector in ("#picture-tools", "#crop-fields", "#captions"):
        box = page.locator(selector).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
    page.locator("#player").scroll_into_view_if_needed()
    page.focus("#crop-box")
    shot = tmp_path / f"editor-picture-{name}.png"
    page.screenshot(path=str(shot), full_page=True)
    # LOOPFORGE_SCREENSHOTS=docs keeps them as the documentation's pictures.
    if os.environ.get("LOOPFORGE_SCREENSHOTS"):
        shutil.copy(shot, os.path.join(os.environ["LOOPFORGE_SCREENSHOTS"], shot.name))
