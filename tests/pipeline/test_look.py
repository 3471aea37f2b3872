"""The quick look at the footage the adaptive defaults choose from
(converter/pipeline/look.py)."""

from __future__ import annotations

import numpy as np
import pytest

from converter.pipeline.look import Look, look
from tests.pipeline.frames import ffmpeg_clip, moving_scene, noisy


@pytest.mark.parametrize("sigma", [1.0, 3.0, 6.0])
def test_it_measures_the_noise_added_to_a_picture(sigma: float) -> None:
    picture = moving_scene(1, width=320, height=192)[0]
    seen = look(noisy([picture], sigma)[0])
    assert seen.noise == pytest.approx(sigma, rel=0.2)
    assert not seen.clean


def test_picture_detail_is_not_taken_for_noise() -> None:
    # testsrc2: sharp edges, text, gradients, and no noise at all
    seen = look(ffmpeg_clip(1, width=320, height=180)[0])
    assert seen.noise < 0.3


def test_a_drawn_picture_is_clean_and_a_camera_picture_is_not() -> None:
    drawn = moving_scene(1, width=320, height=192)[0]
    assert look(drawn).clean and look(drawn).noise == pytest.approx(0, abs=0.05)
    assert not look(noisy([drawn], 0.8)[0]).clean


@pytest.mark.parametrize(
    "frame",
    [
        np.zeros((90, 160, 3), np.uint8),  # black: a fade from black says nothing
        np.full((90, 160, 3), 255, np.uint8),  # blown out: clipping took the noise
        np.full((2, 2, 3), 128, np.uint8),  # too small to judge
    ],
)
def test_a_frame_with_nothing_to_judge_says_nothing(frame: np.ndarray) -> None:
    assert look(frame) == Look()


def test_alpha_is_ignored_and_a_large_frame_is_judged_from_its_centre() -> None:
    picture = noisy([np.full((1080, 1920, 3), 120, np.uint8)], 2.0)[0]
    rgba = np.dstack([picture, np.zeros(picture.shape[:2], np.uint8)])
    assert look(rgba).noise == pytest.approx(2.0, rel=0.2)
