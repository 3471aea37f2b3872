"""``python manage.py fuzzmedia``: the media fuzzer's longer run.

All the work is in the converter.mediafuzz package (also runnable as
``python -m converter.mediafuzz``); it needs no database, Redis or storage.
"""

from __future__ import annotations

from converter.management.passthrough import PassThroughCommand
from converter.mediafuzz import cli


class Command(PassThroughCommand):
    help = "Mutate valid clips of every container; count how probe and conversion end."
    main = staticmethod(cli.main)
    example = "--cases 20000 --seed 7"
