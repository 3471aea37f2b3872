"""The footage the benchmark's newer workloads run on (converter/bench/footage.py)."""

from __future__ import annotations

from converter.bench import footage
from converter.bench.workloads import WORKLOADS
from converter.pipeline.probe import probe


def test_the_new_footage_runs_at_a_social_setting_in_gif_and_webp() -> None:
    for name in footage.MAKERS:
        made = [w for w in WORKLOADS if w.source == name]
        assert {w.fmt for w in made} == {"gif", "webp"}, name
        assert all(10 <= w.fps <= 15 and 320 <= w.width <= 480 for w in made), name


def test_the_phone_clip_is_portrait_as_shown_but_landscape_as_coded(tmp_path) -> None:
    clip = tmp_path / "portrait.mp4"
    footage.make_portrait(clip)
    info = probe(clip)
    assert (info.rotation, info.width, info.height) == (90, 720, 1280)
    assert [p.name for p in tmp_path.iterdir()] == ["portrait.mp4"]  # no coded copy left
