"""Suggest moments in the editor, in Chromium: the server's job finds the
three busy, loud stretches of a clip made with them; they are marked on
the timeline with thumbnails, and one click selects one."""

from __future__ import annotations

import os
import shutil

import pytest
from playwright.sync_api import expect

from tests.browser.steps import sign_up
from tests.poll import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    ("viewport", "name"),
    [({"width": 1280, "height": 900}, "desktop"), ({"width": 390, "height": 844}, "phone")],
)
def test_suggested_moments_are_marked_and_selected_with_a_click(
    page, live_server, worker, clips, tmp_path, viewport, name
):
    page.set_viewport_size(viewport)
    sign_up(page, live_server.url, f"moments-{name}")
    page.set_input_files("#id_video", str(clips.highlights()))
    expect(page.locator("#source-facts")).to_contain_text("25 fps", timeout=30_000)
    expect(page.locator("#timeline")).to_be_visible()
    page.fill("#id_duration", "4")  # the length of the moments asked for
    page.click("#suggest-moments")
    expect(page.locator("#moments-status")).to_contain_text("3 moments of 4.00 s", timeout=60_000)
    expect(page.locator("#track .moment-mark")).to_have_count(3)
    choices = page.locator("#moments button.moment")
    expect(choices).to_have_count(3)
    spans = {
        tuple(c.get_attribute("aria-label").split(": ")[1].split(" to ")) for c in choices.all()
    }
    assert spans == {("3.00 s", "7.00 s"), ("13.00 s", "17.00 s"), ("23.00 s", "27.00 s")}
    wait_until(
        lambda: all(c.evaluate("b => b.querySelector('canvas').width > 0") for c in choices.all()),
        what="the moments' thumbnails",
    )
    target = next(c for c in choices.all() if "13.00 s to" in c.get_attribute("aria-label"))
    target.click()
    assert float(page.input_value("#id_start")) == pytest.approx(13, abs=0.01)
    assert float(page.input_value("#id_duration")) == pytest.approx(4, abs=0.01)
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.locator("#timeline").scroll_into_view_if_needed()
    shot = tmp_path / f"editor-moments-{name}.png"
    page.screenshot(path=str(shot), full_page=True)
    if os.environ.get("LOOPFORGE_SCREENSHOTS"):
        shutil.copy(shot, os.path.join(os.environ["LOOPFORGE_SCREENSHOTS"], shot.name))
