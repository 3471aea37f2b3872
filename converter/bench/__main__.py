"""``python -m converter.bench [options]``: the benchmark without Django."""

import sys

from converter.bench.cli import main

sys.exit(main(prog="python -m converter.bench"))
