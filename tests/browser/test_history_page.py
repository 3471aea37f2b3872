"""The history page in Chromium: the search form narrows the list, ticked
rows are deleted after a confirmation, and the page fits a desktop and a
phone."""

from __future__ import annotations

import os
import shutil

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from converter.services.projects import project_default_for
from tests.browser.steps import sign_up
from tests.factories import make_output, make_task_row

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    ("viewport", "name"),
    [({"width": 1280, "height": 800}, "desktop"), ({"width": 390, "height": 844}, "phone")],
)
def test_search_the_history_by_name_status_and_format(page, live_server, tmp_path, viewport, name):
    page.set_viewport_size(viewport)
    sign_up(page, live_server.url, f"history-{name}")
    project = project_default_for(User.objects.get(username=f"history-{name}"))
    for filename, status, fmt in [
        ("beach-sunset.mov", "succeeded", "gif"),
        ("beach-waves.mp4", "failed", "webp"),
        ("office-party.mp4", "succeeded", "webp"),
    ]:
        task = make_task_row(project, original_filename=filename, status=status)
        if status == "succeeded":
            output = make_output(task, frames=30, format=fmt)
            output.width, output.height, output.bytes, output.frame_duration_ms = (
                480,
                270,
                5_000,
                100,
            )
            output.save()
    page.goto(f"{live_server.url}/tasks/")
    rows = page.locator("table.history tbody tr")
    expect(rows).to_have_count(3)
    page.fill("#id_q", "BEACH")
    page.click(".history-search button[type=submit]")
    expect(rows).to_have_count(2)
    page.select_option("#id_status", "failed")
    page.click(".history-search button[type=submit]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("beach-waves.mp4")
    page.fill("#id_q", "")
    page.select_option("#id_status", "")
    page.select_option("#id_format", "webp")  # of the animations made: the failed one made none
    page.click(".history-search button[type=submit]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("office-party.mp4")
    page.click("text=Show all")
    expect(rows).to_have_count(3)
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    # Tick two, delete them after the confirmation.
    page.check("input[aria-label='Select office-party.mp4']")
    page.check("input[aria-label='Select beach-waves.mp4']")
    page.click("#bulk-delete")
    expect(page.locator("#confirm-bulk-delete h1")).to_have_text("Delete 2 animations?")
    page.click("#confirm-bulk-delete-button")
    expect(page.locator("body")).to_contain_text("Deleted 2 animation(s)")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("beach-sunset.mov")
    shot = tmp_path / f"history-{name}.png"
    page.screenshot(path=str(shot), full_page=True)
    if os.environ.get("LOOPFORGE_SCREENSHOTS"):
        shutil.copy(shot, os.path.join(os.environ["LOOPFORGE_SCREENSHOTS"], shot.name))
