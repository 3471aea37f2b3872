"""``python manage.py estimatebench``: the estimate against the real size, per workload."""

from __future__ import annotations

from converter.bench import estimates
from converter.management.passthrough import PassThroughCommand


class Command(PassThroughCommand):
    help = "Compare the size estimate with the real conversion on the benchmark's workloads."
    main = staticmethod(estimates.main)
    example = "--only social-gif,screen-webp"
