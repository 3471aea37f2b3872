"""The fit benchmark's rows: fit under a cap beside the hand strategy
(keep the frame rate, shrink the width), both scored the same way."""

from __future__ import annotations

from converter.bench import fits
from converter.pipeline.probe import probe
from converter.spec import AnimationSpec


def test_fit_and_the_hand_strategy_both_end_under_the_cap_and_are_judged(clips):
    source = clips.moving(duration=4, size="480x270", name="fitbench.mp4")
    case = fits.Case("cap", "unused", 0.0, 3.0, {"Format": "gif", "FrameRate": 10})
    spec = AnimationSpec.parse({**case.request, "MaxBytes": 60_000})
    info = probe(source)
    ours = fits.by_fit(source, info, spec, case, 60_000)
    hand = fits.by_hand(source, info, spec, case, 60_000)
    assert ours.bytes is not None and hand.bytes is not None
    assert ours.bytes <= 60_000 and hand.bytes <= 60_000
    assert 0.3 < ours.ssim <= 1 and 0.3 < hand.ssim <= 1
    assert hand.tries > 1  # 480 px of motion is over 60 KB as asked
    assert hand.note.endswith(" px")
    word = "met" if ours.ssim >= hand.ssim else "NOT MET"
    assert fits.verdict(60_000, ours, hand).startswith(word)


def test_a_fit_over_its_cap_or_failing_where_the_hand_fits_is_not_met():
    fitted = fits.Outcome(70_000, 0.9, 2, 1.0)
    hand = fits.Outcome(50_000, 0.5, 5, 1.0)
    assert fits.verdict(60_000, fitted, hand) == "NOT MET: over the cap"
    failed = fits.Outcome(None, 0.0, 6, 1.0, "CannotFit")
    assert fits.verdict(60_000, failed, hand) == "CannotFit NOT MET: hand fits"


def test_every_preset_has_a_row_and_each_cap_a_gif_and_a_webp_row():
    names = [c.name for c in fits.cases([100_000], "bbb")]
    assert len(names) == len(set(names))
    assert sum(n.startswith("preset ") for n in names) == len(fits.PRESETS)
    assert {"cap 100 KB gif", "cap 100 KB webp"} <= set(names)
    for case in fits.cases([100_000], "bbb"):
        AnimationSpec.parse(case.request)  # every row's request is one the API takes
