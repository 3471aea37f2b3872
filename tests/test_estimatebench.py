"""The estimate benchmark's rows: the estimate beside the real size."""

from __future__ import annotations

import re

import pytest

from converter.bench import estimates
from converter.bench.workloads import workload_named


def test_a_row_puts_the_estimate_beside_the_real_size(tmp_path):
    line = estimates.row(workload_named("screen-gif"), tmp_path)
    numbers = r"\s+([\d,]+)\s+([\d,]+)\s+([+-][\d.]+)%\s+(yes|no)\s+([\d.]+)\s+([\d.]+)"
    match = re.match(rf"screen-gif{numbers}\s+(met|NOT MET)", line)
    assert match, line
    guess, real = (int(match.group(i).replace(",", "")) for i in (1, 2))
    assert real > 1000 and guess > 0
    assert float(match.group(3)) == pytest.approx(100 * (guess - real) / real, abs=0.1)
