"""Steps a person takes in the browser, shared by the Playwright tests."""

from __future__ import annotations

from playwright.sync_api import expect


def sign_up(page, base: str, username: str) -> None:
    """Create an account on the sign-up page; lands on the upload form."""
    page.goto(f"{base}/signup/")
    page.fill("#id_username", username)
    page.fill("#id_password1", "a-Long-passw0rd!")
    page.fill("#id_password2", "a-Long-passw0rd!")
    page.click("button[type=submit]")
    expect(page.locator("#upload-form")).to_be_visible()
