"""Platform presets (``presets.json``): where an animation is going, and what
that place takes: a size cap and, where the platform requires it, the
formats, the largest picture and the longest duration.

Plain Python (no Django): the spec reads it, and the README's table of
presets is made from it (``readme_table``; a test compares the two).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).with_name("presets.json")


@dataclass(frozen=True)
class Preset:
    id: str
    name: str
    max_bytes: int
    formats: tuple[str, ...] = ()  # empty: any; the first is the default
    max_width: int | None = None
    max_height: int | None = None
    max_duration_s: float | None = None
    checked: str = ""  # when the figures were checked (YYYY-MM)
    source: str = ""  # where they come from, in words

    @property
    def default_format(self) -> str:
        return self.formats[0] if self.formats else "gif"

    @property
    def box(self) -> tuple[int, int] | None:
        """The largest (width, height) the platform takes, or None for any."""
        if self.max_width is None or self.max_height is None:
            return None
        return self.max_width, self.max_height

    def allows(self, fmt: str) -> bool:
        return not self.formats or fmt in self.formats


def _preset(entry: dict[str, Any]) -> Preset:
    duration = entry.get("max_duration_s")
    return Preset(
        id=str(entry["id"]),
        name=str(entry["name"]),
        max_bytes=int(entry["max_bytes"]),
        formats=tuple(str(f) for f in entry.get("formats", ())),
        max_width=entry.get("max_width"),
        max_height=entry.get("max_height"),
        max_duration_s=None if duration is None else float(duration),
        checked=str(entry.get("checked", "")),
        source=str(entry.get("source", "")),
    )


def load(path: Path = DATA_FILE) -> dict[str, Preset]:
    """The presets of the data file, by id, in the file's order."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {p.id: p for p in (_preset(e) for e in data["presets"])}


PRESETS: dict[str, Preset] = load()


def cap_words(n: int) -> str:
    """A cap as people read it: 10 MiB, 256 KB, 1 MB."""
    if n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MiB"
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000} MB"
    if n % 1000 == 0:
        return f"{n // 1000} KB"
    return f"{n:,} bytes"


def readme_table(presets: dict[str, Preset] = PRESETS) -> str:
    """The README's table of presets (Markdown), made from the data file."""
    lines = [
        "| Preset | For | Cap (bytes) | Formats | Largest picture | Longest | Checked |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for p in presets.values():
        box = f"{p.max_width}x{p.max_height}" if p.box else "any"
        duration = f"{p.max_duration_s:g} s" if p.max_duration_s else "any"
        formats = ", ".join(p.formats) if p.formats else "any"
        lines.append(
            f"| `{p.id}` | {p.name} | {cap_words(p.max_bytes)} ({p.max_bytes:,}) | {formats} "
            f"| {box} | {duration} | {p.checked} |"
        )
    return "\n".join(lines)
