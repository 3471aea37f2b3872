"""Whole conversions on real clips: format, geometry, timing, loop, quality."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from converter.bench.decode import decode
from converter.bench.score import ssim
from converter.pipeline.convert import convert
from converter.pipeline.geometry import plan_geometry
from converter.pipeline.probe import probe
from converter.spec import AnimationSpec
from tests.media import decode_frame


# Floors measured on this clip (WebP q75 blurs its fine chroma: ~0.76; GIF ~0.99)
@pytest.mark.parametrize(("fmt", "floor"), [("webp", 0.70), ("gif", 0.90)])
def test_every_frame_looks_like_the_source_at_its_time(clips, fmt, floor):
    src = clips.moving(duration=3, size="320x240")
    animation = AnimationSpec.create(format=fmt, interval=0.25, frame_rate=12, width=160.0)
    result = convert(src, probe(src), animation, trim_start=0.5)
    image = decode(result.data)
    frames, durations = image.frames, image.durations
    assert image.format == fmt.upper()
    assert (image.size, len(frames)) == ((160, 120), 10)  # 0.5 .. 2.75 s
    assert image.info.get("loop") == 0  # loops forever
    unit = 10 if fmt == "gif" else 1
    assert all(abs(d - 1000 / 12) < unit for d in durations)
    assert abs(sum(durations) - 10 * 1000 / 12) <= unit
    scores = [
        ssim(f[..., :3], decode_frame(src, 0.5 + 0.25 * k, 160, 120, fps=25))
        for k, f in enumerate(frames)
    ]
    assert min(scores) >= floor, scores


@pytest.mark.parametrize("fmt", ["webp", "gif"])
def test_colours_come_out_where_they_were(clips, fmt):
    """Each encoder takes its frames in its own channel order (the WebP
    encoder BGR): red, green and blue bars must come out red, green and blue,
    in every frame of every run, the held blocks and the repainted ones."""
    src = clips.colour_bars()
    animation = AnimationSpec.create(format=fmt, interval=0.2, frame_rate=5, quality="best")
    result = convert(src, probe(src), animation)
    frames = decode(result.data).frames
    assert len(frames) == 20
    for frame in frames:
        for k, colour in enumerate([(255, 0, 0), (0, 255, 0), (0, 0, 255)]):
            bar = frame[24:, 96 * k + 8 : 96 * (k + 1) - 8, :3].reshape(-1, 3).mean(axis=0)
            assert np.abs(bar - colour).max() < 24, (k, bar)
        box = frame[:16, :, :3].min(axis=2).max()  # the white square, wherever it is
        assert box > 200


def test_portrait_frames_are_not_squashed(clips):
    src = clips.portrait()
    result = convert(
        src,
        probe(src),
        AnimationSpec.create(format="webp", interval=0.5, frame_rate=2, quality="best"),
    )
    frames = decode(result.data).frames
    assert frames[0].shape[:2] == (320, 180)
    # ffmpeg's own autorotated decode of the same moment is the reference
    assert ssim(frames[0][..., :3], decode_frame(src, 0, 180, 320)) > 0.85


@pytest.mark.parametrize(
    ("width", "height", "scale", "expected"),
    [
        (0.5, 0.5, "fit", (160, 90)),
        (100.0, 100.0, "stretch", (100, 100)),
        (100.0, 100.0, "crop", (100, 100)),
        (100.0, 100.0, "fill", (100, 100)),
        (100.0, 100.0, "fit", (100, 56)),
        (None, 90.0, "stretch", (160, 90)),
        (None, None, "stretch", (320, 180)),
    ],
)
def test_output_geometry_for_each_scale_type(width, height, scale, expected):
    g = plan_geometry(320, 180, width, height, scale, 10**7)
    assert (g.width, g.height) == expected


def test_fill_pads_with_black_and_crop_cuts_the_overflow(clips):
    src = clips.moving(duration=1, size="320x180", name="wide.mp4")
    info = probe(src)
    fill = convert(
        src,
        info,
        AnimationSpec.create(
            format="webp",
            interval=1,
            frame_rate=1,
            width=100.0,
            height=100.0,
            scale_type="fill",
            quality="best",
        ),
    )
    frames = decode(fill.data).frames
    top_band = frames[0][:15, :, :3]
    assert top_band.mean() < 8  # 100x56 picture centred in 100x100: 22 px black bands
    assert frames[0][30:70, :, :3].mean() > 40
    crop = convert(
        src,
        info,
        AnimationSpec.create(
            format="webp",
            interval=1,
            frame_rate=1,
            width=100.0,
            height=100.0,
            scale_type="crop",
            quality="best",
        ),
    )
    frames = decode(crop.data).frames
    # crop keeps the centre: compare with the source's centre 180x180 scaled to 100x100
    full = decode_frame(src, 0, 320, 180)

    def square(x0: int) -> np.ndarray:
        return np.asarray(Image.fromarray(full[:, x0 : x0 + 180]).resize((100, 100), Image.LANCZOS))

    centre, left = ssim(frames[0][..., :3], square(70)), ssim(frames[0][..., :3], square(0))
    assert centre > 0.7 and centre > left + 0.1, (centre, left)
