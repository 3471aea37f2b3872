"""``python manage.py benchmark``: our encoders against the reference tools.

All the work is in the converter.bench package (also runnable as
``python -m converter.bench``); it needs no database, Redis or storage.
"""

from __future__ import annotations

from converter.bench import cli
from converter.management.passthrough import PassThroughCommand


class Command(PassThroughCommand):
    help = "Benchmark our GIF/WebP encoders against ffmpeg, gifski and MoviePy."
    main = staticmethod(cli.main)
    example = "--quick, --only NAME (see --help); also after --"
