"""Crop and Captions on clips made with a known picture: four flat
quadrants and a frame counter (``Clips.quadrants``)."""

from __future__ import annotations

import numpy as np
import pytest

from converter.bench.decode import decode
from converter.pipeline import captions
from converter.pipeline.convert import convert
from converter.pipeline.errors import PipelineError
from converter.pipeline.probe import probe
from converter.spec import AnimationSpec, Caption, Crop

RED, LIME, BLUE, YELLOW = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)


def make(src, fmt: str = "gif", **kw):
    spec = AnimationSpec.create(format=fmt, interval=0.1, frame_rate=10, quality="best", **kw)
    return convert(src, probe(src), spec)


def colour_at(frame: np.ndarray, y: int, x: int) -> tuple[int, ...]:
    return tuple(int(v) for v in frame[y, x, :3])


def close(got: tuple[int, ...], want: tuple[int, ...], levels: int = 12) -> bool:
    return all(abs(a - b) <= levels for a, b in zip(got, want, strict=True))


@pytest.mark.parametrize("fmt", ["gif", "webp"])
def test_a_crop_box_over_one_quadrant_gives_that_quadrant_at_the_box_size(clips, fmt):
    result = make(clips.quadrants(), fmt, crop=Crop(160, 0, 160, 100))
    assert (result.width, result.height) == (160, 100)
    assert result.frames == 20
    # (WebP codes a frame that repaints nothing as a longer frame before.)
    for frame in decode(result.data).frames:
        assert frame.shape[:2] == (100, 160)
        for y, x in ((2, 2), (2, 157), (97, 2), (97, 157), (50, 80)):
            assert close(colour_at(frame, y, x), LIME), (y, x, colour_at(frame, y, x))


def test_fractions_crop_and_width_then_scales_the_cropped_picture(clips):
    # The bottom half, then half of that width: Width applies after the crop.
    result = make(clips.quadrants(), crop=Crop(0, 0.5, 0.9999, 0.5), width=0.5)
    assert (result.width, result.height) == (160, 60)
    frame = decode(result.data).frames[0]
    assert close(colour_at(frame, 40, 20), BLUE) and close(colour_at(frame, 40, 140), YELLOW)


def test_a_crop_past_the_edge_is_clamped_to_the_picture(clips):
    result = make(clips.quadrants(), crop=Crop(200, 150, 500, 500))
    assert (result.width, result.height) == (120, 90)
    assert close(colour_at(decode(result.data).frames[0], 45, 60), YELLOW)


def test_a_crop_starting_outside_the_picture_is_refused(clips):
    with pytest.raises(PipelineError) as caught:
        make(clips.quadrants(), crop=Crop(320, 0, 10, 10))
    assert caught.value.code == "CropOutOfRange"


def test_a_caption_in_chinese_and_latin_is_drawn_in_its_band_and_nowhere_else(clips):
    src = clips.quadrants()
    plain = decode(make(src, "webp").data).frames
    caption = Caption("你好 Hello", size=0.15, position="bottom")
    result = make(src, "webp", captions=(caption,))
    drawn = decode(result.data).frames
    band = captions.overlays([caption], 320, 240, 100, "rgb")[0]
    h, w = band.alpha.shape[:2]
    assert band.top + h <= 240 - 0.04 * 240 + 1 and band.top > 240 / 2  # the bottom band
    assert 0.1 * 240 <= h <= 0.3 * 240  # about the size asked for, with the outline
    for before, after in zip(plain, drawn, strict=True):
        diff = np.abs(before.astype(int) - after.astype(int)).max(axis=2) > 40
        inside = diff[band.top : band.top + h, band.left : band.left + w]
        assert inside.mean() > 0.15  # the text covers a good part of its box
        # Nothing outside it changed (lossy WebP smears an edge by a pixel or two).
        m = 4
        diff[band.top - m : band.top + h + m, band.left - m : band.left + w + m] = False
        assert not diff.any()
    # White text with a black outline: both are in the band.
    area = drawn[0][band.top : band.top + h, band.left : band.left + w].reshape(-1, 3)
    assert (area.min(axis=1) > 230).sum() > 100 and (area.max(axis=1) < 30).sum() > 100


def test_a_caption_with_a_time_range_shows_on_those_frames_only(clips):
    src = clips.quadrants()
    plain = decode(make(src).data).frames
    caption = Caption("Now", size=40, color="#00ffff", position="top", start_time=0.5, end_time=1.2)
    drawn = decode(make(src, captions=(caption,)).data).frames
    changed = [
        bool((np.abs(a.astype(int) - b.astype(int)) > 40).any())
        for a, b in zip(plain, drawn, strict=True)
    ]
    assert changed == [5 <= k < 12 for k in range(20)]


def test_a_dragged_caption_is_centred_where_it_was_dropped(clips):
    caption = Caption("x", size=30, x=0.25, y=0.25)
    band = captions.overlays([caption], 320, 240, 100, "rgb")[0]
    h, w = band.alpha.shape[:2]
    assert abs(band.left + w / 2 - 80) <= 1 and abs(band.top + h / 2 - 60) <= 1


def test_text_too_wide_for_the_frame_is_set_smaller_to_fit():
    caption = Caption("A caption far too long for a narrow animation", size=0.2)
    band = captions.overlays([caption], 160, 240, 100, "rgb")[0]
    assert band.alpha.shape[1] <= 160 * captions.MAX_WIDTH + 1


@pytest.mark.parametrize(
    ("text", "font"),
    [
        ("你好", "NotoSansCJK"),
        ("こんにちは", "NotoSansCJK"),
        ("안녕하세요", "NotoSansCJK"),
        ("Hello", "NotoSansCJK"),
        ("مرحبا بالعالم", "NotoSansArabic"),
        ("שלום עולם", "NotoSansHebrew"),
        ("สวัสดี", "NotoSansThai"),
        ("नमस्ते", "NotoSansDevanagari"),
    ],
)
def test_each_script_is_set_in_a_font_that_has_its_letters(text, font):
    path, index = captions.font_for(text)
    assert path.name.startswith(font)
    if font == "NotoSansCJK":  # Han characters in the language's own forms
        assert index == {"こ": 0, "안": 1}.get(text[0], 2)


def test_right_to_left_text_is_laid_out_right_to_left():
    """The first letter of a Hebrew word is drawn at its right end."""
    first = captions.overlays([Caption("ש", size=40)], 400, 100, 100, "rgb")[0]
    word = captions.overlays([Caption("שלום", size=40)], 400, 100, 100, "rgb")[0]
    letter = first.alpha[..., 0] > 0.5
    drawn = word.alpha[..., 0] > 0.5
    lw = letter.shape[1]
    # The letter alone matches the word's right end better than its left.
    h = min(letter.shape[0], drawn.shape[0])
    right = (drawn[:h, -lw:] == letter[:h]).mean()
    left = (drawn[:h, :lw] == letter[:h]).mean()
    assert right > left
