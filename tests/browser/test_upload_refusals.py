"""Every refusal of an upload reaches the person on the upload page, with
the server's own message, as soon as the file is chosen (the editor uploads
it in the background): the page's script reads the web's one JSON error
shape ({code, message, errors})."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from converter.uploads import too_large
from tests.browser.steps import sign_up

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    "size",
    [
        pytest.param(8 * 1024, id="stopped-while-streaming"),
        # Past the limit plus the form's overhead: the middleware refuses it
        # from its Content-Length, before anything reads the body.
        pytest.param(512 * 1024, id="refused-before-reading"),
    ],
)
def test_an_upload_over_the_limit_shows_the_servers_message(
    page, live_server, tmp_path, settings, size
):
    settings.CONVERTER_MAX_UPLOAD_BYTES = 4096
    sign_up(page, live_server.url, f"big{size}")
    big = tmp_path / "big.mp4"
    big.write_bytes(b"\0" * size)
    # Refused by the background upload, as soon as the file is chosen...
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.set_input_files("#id_video", str(big))
    assert answer.value.status == 413
    expect(page.locator("#upload-error")).to_have_text(too_large().message)
    # ... and again when Convert is pressed, without another upload.
    page.click("#submit")
    expect(page.locator("#upload-error")).to_have_text(too_large().message)
    expect(page.locator("#submit")).to_be_enabled()


def test_a_file_that_is_no_video_shows_why(page, live_server, tmp_path):
    sign_up(page, live_server.url, "notvideo")
    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all\n" * 50)
    page.set_input_files("#id_video", str(text))
    expect(page.locator("#upload-error")).to_contain_text("not a video format we can read")
    page.click("#submit")
    expect(page.locator("#upload-error")).to_contain_text("not a video format we can read")
    expect(page.locator("#upload-error")).not_to_contain_text("HTTP")
