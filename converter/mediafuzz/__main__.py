"""``python -m converter.mediafuzz``: the media fuzzer's longer run (see ``cli``)."""

from __future__ import annotations

from .cli import main

raise SystemExit(main())
