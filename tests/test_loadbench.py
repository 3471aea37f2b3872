"""``manage.py loadbench``'s CPU accounting, without a stack: a process
tree's CPU counts its descendants, running and reaped. (The load client it
drives is tested in test_load_client.py and, for real, in
test_multimachine.py.)"""

from __future__ import annotations

import subprocess
import sys
import time

from converter.management.commands.loadbench import Command, machine_cpu_s, tree_cpu_s
from tests.poll import wait_until

BUSY = "import time\nend = time.process_time() + 0.4\nwhile time.process_time() < end: pass"


def test_a_trees_cpu_counts_its_reaped_and_its_running_descendants():
    # sh runs one busy child (0.4 s of CPU) to its end, reaped (sh's
    # cutime has it), then a second in the background: 0.8 s in all, which
    # neither alone reaches (on a busy machine, later than 0.8 s of wall).
    script = f'"{sys.executable}" -c "$0"; "{sys.executable}" -c "$0" & sleep 30'
    shell = subprocess.Popen(["sh", "-c", script, BUSY])
    try:
        seen = wait_until(lambda: (t := tree_cpu_s(shell.pid)) >= 0.8 and t, 20, 0.05)
        assert seen < 1.5  # not counted twice
    finally:
        shell.kill()
        shell.wait()
    assert tree_cpu_s(shell.pid) == 0.0  # gone: nothing to count


def test_the_machine_cpu_grows_with_work():
    before = machine_cpu_s()
    end = time.process_time() + 0.3
    while time.process_time() < end:
        pass
    assert machine_cpu_s() - before >= 0.25


def test_the_table_has_a_row_per_worker_count():
    row = {
        "workers": 2, "tasks": 40, "succeeded": 40, "lost": 0, "errors": 0,
        "tasks_per_minute": 70.8, "page_latency_s": {"p50": 0.02, "p95": 0.3},
        "api_latency_s": {"p50": 0.02, "p95": 0.07}, "completion_s": {"p50": 4.1, "p95": 5.2},
        "worker_cpu_s_per_task": 0.45, "stack_cpu_s_per_task": 0.3, "machine_cpu_s_per_task": 2.4,
    }  # fmt: skip
    lines = Command._table([row, {**row, "workers": 4}]).splitlines()
    assert len(lines) == 4 and lines[0].count("|") == lines[2].count("|") == 13
    assert lines[2].startswith("| 2 | 40 | 40 | 0 | 0 | 70.8 | 0.02 / 0.3 |")
    assert lines[2].endswith("| 0.45 | 0.3 | 2.4 |") and lines[3].startswith("| 4 |")
