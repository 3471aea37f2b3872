"""Suggested moments on a clip made with three busy, loud stretches between
still, quiet ones: the three are found, best windows first, with their
edges on the shot cuts."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from converter.pipeline import moments
from converter.pipeline.limits import DEFAULT_LIMITS
from converter.pipeline.probe import probe

STRETCHES = [(3.0, 7.0), (13.0, 17.0), (23.0, 27.0)]


def test_the_three_busy_loud_stretches_are_found_with_edges_on_the_cuts(clips):
    src = clips.highlights()
    energies = moments.measure(src, probe(src), DEFAULT_LIMITS)
    assert energies.cuts == [t for stretch in STRETCHES for t in stretch]
    found = moments.best_windows(energies, 4.0, 3)
    assert sorted((m.start, m.end) for m in found) == STRETCHES
    assert all(m.on_cuts == (True, True) for m in found)
    assert [m.score for m in found] == sorted((m.score for m in found), reverse=True)


@pytest.mark.parametrize("length", [3.0, 5.0])
def test_other_lengths_still_land_in_the_stretches(clips, length):
    src = clips.highlights()
    found = moments.suggest(src, probe(src), DEFAULT_LIMITS, length)
    assert len(found) == 3
    for m in found:
        assert any(a - 0.01 <= m.start and m.end <= b + 0.01 for a, b in STRETCHES), m
        assert any(m.on_cuts)  # a 3 s window in a 4 s stretch: one edge on a cut


def test_without_sound_motion_alone_decides():
    motion = np.zeros(300)
    motion[100:140] = 20.0  # busy from 10 s to 14 s
    energies = moments.Energies(motion, np.zeros(300), [], has_sound=False)
    (best,) = moments.best_windows(energies, 4.0, 1)
    assert (best.start, best.end) == (10.0, 14.0)


def test_windows_never_overlap_and_a_short_video_gives_what_fits():
    energies = moments.Energies(np.ones(50), np.ones(50), [], has_sound=True)
    found = moments.best_windows(energies, 2.0, 3)
    spans = sorted((m.start, m.end) for m in found)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
    assert len(moments.best_windows(energies, 10.0, 3)) == 1  # 5 s of video, 10 s asked
