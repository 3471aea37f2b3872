"""Black bars: the picture inside letterbox and pillarbox borders, on clips
made with known borders."""

from __future__ import annotations

import numpy as np
import pytest

from converter.pipeline import bars
from converter.pipeline.geometry import Box
from converter.pipeline.limits import DEFAULT_LIMITS
from converter.pipeline.probe import probe


@pytest.mark.parametrize(
    ("kind", "box"),
    [("letterbox", Box(0, 40, 320, 240)), ("pillarbox", Box(48, 0, 320, 240)), ("", None)],
)
def test_the_picture_inside_the_bars_is_found_to_the_pixel(clips, kind, box):
    src = clips.quadrants(bars=kind)
    assert bars.picture_box(src, probe(src), DEFAULT_LIMITS) == box


def test_a_moving_picture_without_bars_has_none(clips):
    src = clips.moving(duration=3)
    assert bars.picture_box(src, probe(src), DEFAULT_LIMITS) is None


def test_a_dark_scene_is_not_taken_for_a_border():
    """Rows dark on most frames but lit on one belong to the picture."""
    rows, cols = np.zeros(100), np.full(200, 0.5)
    rows[30:70] = 0.5
    rows[5] = 0.03  # lit on some frame: a dark scene, not a bar
    assert bars._box(rows, cols) == Box(0, 5, 200, 65)


def test_an_all_black_video_has_no_picture_to_keep():
    assert bars._box(np.zeros(100), np.zeros(200)) is None
