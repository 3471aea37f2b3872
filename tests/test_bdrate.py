"""The benchmark's BD-rate (converter/bench/bdrate.py) and its curve table."""

from __future__ import annotations

import math

import pytest

from converter.bench import curves
from converter.bench.bdrate import Point, bd_rate, bound_when_above, frontier, overlap, ssim_db
from converter.bench.workloads import workload_named

# VCEG-M33's worked example (G. Bjøntegaard, "Calculation of average PSNR
# differences between RD-curves", ITU-T SG16/Q6 VCEG-M33, 2001, "Sample 1":
# kbit/s against PSNR dB). Its formula, a cubic polynomial of log-rate
# against quality integrated over the overlap, gives +31.40%.
ANCHOR = [(686.76, 40.28), (309.58, 37.18), (157.11, 34.24), (85.95, 31.42)]
TEST = [(893.34, 40.39), (407.8, 37.21), (204.93, 34.17), (112.75, 31.24)]
VCEG_M33_SAMPLE_1 = 31.397


def _as_points(curve: list[tuple[float, float]]) -> list[Point]:
    """Points whose SSIM is ``db`` on ``ssim_db``'s scale, so the PSNR
    example reads as it was published."""
    return [Point(round(rate * 1000), 1 - 10 ** (-db / 10)) for rate, db in curve]


def test_it_reproduces_the_published_example() -> None:
    anchor, test = _as_points(ANCHOR), _as_points(TEST)
    assert bd_rate(anchor, test, method="cubic") == pytest.approx(VCEG_M33_SAMPLE_1, abs=0.01)
    # The standard's PCHIP differs from the polynomial by a few hundredths.
    assert bd_rate(anchor, test) == pytest.approx(VCEG_M33_SAMPLE_1, abs=0.1)
    assert bd_rate(test, anchor) < 0  # the other way round, fewer bytes


def test_a_curve_that_costs_a_quarter_more_everywhere_is_plus_25_percent() -> None:
    anchor = _as_points(ANCHOR)
    dearer = [Point(round(p.bytes * 1.25), p.ssim) for p in anchor]
    assert bd_rate(anchor, dearer) == pytest.approx(25, abs=0.01)
    assert bd_rate(anchor, anchor) == pytest.approx(0, abs=1e-9)


def test_ssim_is_taken_in_decibels() -> None:
    assert ssim_db(0.99) == pytest.approx(20)
    assert ssim_db(0.999) == pytest.approx(30)
    assert math.isfinite(ssim_db(1.0))


def test_a_setting_that_costs_more_for_less_is_left_out() -> None:
    points = [Point(100, 0.90), Point(200, 0.95), Point(300, 0.94), Point(400, 0.97)]
    assert [p.bytes for p in frontier(points)] == [100, 200, 400]


def test_curves_that_do_not_overlap_in_quality_have_no_bd_rate() -> None:
    low = [Point(100, 0.80), Point(200, 0.85)]
    high = [Point(150, 0.90), Point(300, 0.95)]
    assert overlap(low, high) == 0
    assert bd_rate(low, high) is None
    assert bd_rate(low, low[:1]) is None  # one point is no curve


def test_a_curve_better_throughout_is_bounded_where_it_cannot_be_measured() -> None:
    reference = [Point(2000, 0.80), Point(4000, 0.85)]
    ours = [Point(1000, 0.90), Point(3000, 0.95)]
    assert bd_rate(reference, ours) is None
    assert bound_when_above(reference, ours) == pytest.approx(-75)
    assert bound_when_above(ours, reference) is None  # the reference is not the better one
    (row,) = curves.summarise(workload_named("social-gif"), {"ours": ours, "ffmpeg": reference})
    assert row.note.startswith("MET: ours better at every size, BD-rate below -75%")


def test_the_table_judges_each_reference_by_its_goal() -> None:
    wl = workload_named("social-gif")
    reference = _as_points(ANCHOR)
    better = [Point(round(p.bytes * 0.8), p.ssim) for p in reference]  # -20%
    worse = [Point(round(p.bytes * 0.95), p.ssim) for p in reference]  # -5%
    rows = {
        s.reference: s
        for s in curves.summarise(wl, {"ours": better, "gifski": reference, "ffmpeg-nodither": []})
    }
    assert rows["gifski"].bd_rate == pytest.approx(-20, abs=0.01)
    assert rows["gifski"].note.startswith("MET")
    assert (
        rows["ffmpeg-nodither"].bd_rate is None and "not comparable" in rows["ffmpeg-nodither"].note
    )
    rows = {s.reference: s for s in curves.summarise(wl, {"ours": worse, "gifski": reference})}
    assert rows["gifski"].note.startswith("NOT MET by 5.0 points")


def test_every_format_with_curves_has_at_least_four_points_per_tool() -> None:
    for fmt, by_tool in curves.CURVES.items():
        assert {c.tool for c in by_tool} >= {"ours", "ffmpeg"}, fmt
        assert all(len(c.points) >= 4 for c in by_tool), fmt
