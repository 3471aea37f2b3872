"""``python manage.py fitbench``: fit under a cap beside the hand strategy, per preset."""

from __future__ import annotations

from converter.bench import fits
from converter.management.passthrough import PassThroughCommand


class Command(PassThroughCommand):
    help = "Fit under each preset's cap and under given caps, beside shrinking the width by hand."
    main = staticmethod(fits.main)
    example = "--caps 100000 --only emoji"
