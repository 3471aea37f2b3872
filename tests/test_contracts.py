"""Promises the project keeps about itself."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def test_every_converter_setting_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    names = {name for name in dir(settings) if name.startswith("CONVERTER_")}
    assert names, "no CONVERTER_* settings found"
    missing = sorted(n for n in names if f"`{n}" not in readme)
    assert not missing, f"settings missing from README.md: {missing}"


def test_every_environment_variable_read_by_settings_is_documented():
    source = (ROOT / "project" / "settings.py").read_text()
    readme = (ROOT / "README.md").read_text()
    read = set(re.findall(r'env(?:str|bool|int|float|secret)\("([A-Z_]+)"', source))
    assert read and not sorted(v for v in read if f"`{v}" not in readme)
