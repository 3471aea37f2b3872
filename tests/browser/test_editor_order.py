"""Speed, Reverse and Boomerang chosen in the editor, in real Chromium,
checked on the converted frames: the clip's burnt-in frame counter (a grey
strip whose level is 8 x the source frame number) says which source frame
each output frame is."""

from __future__ import annotations

import re

import numpy as np
import pytest
from playwright.sync_api import expect

from converter.bench.decode import decode
from converter.models import Task
from tests.browser.steps import sign_up
from tests.media import X264, ffmpeg

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FORWARD = list(range(20))  # 2 s at 10 fps, every source frame


def counters(data: bytes) -> tuple[list[int], list[int]]:
    """(source frame numbers, display times in ms) of an animation's frames."""
    image = decode(data)
    numbers = [round(float(np.mean(f[114:126, :, :3])) / 8) for f in image.frames]
    return numbers, image.durations


@pytest.mark.parametrize(
    ("choices", "numbers"),
    [
        pytest.param({"reverse": True}, FORWARD[::-1], id="reverse"),
        pytest.param({"boomerang": True}, FORWARD + FORWARD[-2:0:-1], id="boomerang"),
        pytest.param({"speed": "2.0"}, FORWARD[::2], id="twice-as-fast"),
    ],
)
def test_the_order_and_speed_chosen_in_the_editor_reach_the_frames(
    page, live_server, worker, clips, tmp_path, choices, numbers
):
    clip = tmp_path / "counter.mp4"
    ffmpeg("-i", str(clips.quadrants(duration=2, fps=10)), *X264, "-crf", "12", str(clip))
    sign_up(page, live_server.url, f"order-{len(numbers)}-{choices.get('speed', '1')}")
    page.set_input_files("#id_video", str(clip))
    expect(page.locator("#source-facts")).to_contain_text("10 fps", timeout=30_000)
    page.fill("#id_fps", "10")
    page.check("input[name=size][value=original]")
    if choices.get("reverse"):
        page.check("#id_reverse")
    if choices.get("boomerang"):
        page.check("#id_boomerang")
    if "speed" in choices:
        page.select_option("#id_speed", choices["speed"])
    expect(page.locator("#output-facts")).to_contain_text(f"{len(numbers)} frames")
    page.click("#submit")
    page.wait_for_url(re.compile(r".*/tasks/mc-[0-9a-f]+/$"))
    expect(page.locator("#status")).to_have_text("Succeeded", timeout=90_000)
    output = Task.objects.get().outputs.get()
    assert output.frames == len(numbers)
    with output.file.open("rb") as f:
        got, durations = counters(f.read())
    assert got == numbers
    # At the same 10 fps, 2x speed makes half as many frames: half the time.
    assert sum(durations) == 100 * len(numbers)
