"""Promises the project keeps about itself."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from django.conf import settings
from django.utils.deprecation import RemovedAfterNextVersionWarning, RemovedInNextVersionWarning

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


def test_the_readme_lists_every_error_code_with_its_status():
    from converter.errors import Code

    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Errors\n", 1)[1].split("\n## ", 1)[0]
    rows = set(re.findall(r"^\| `([\w.]+)` \| (\d{3}) \|", section, re.MULTILINE))
    assert rows == {(str(code), str(code.status)) for code in Code}


def test_the_openapi_document_admits_exactly_the_codes_of_the_vocabulary():
    from converter.errors import Code
    from converter.openapi import document

    schema = document()["components"]["schemas"]["Error"]["properties"]["Code"]
    for code in Code:
        assert re.search(schema["pattern"], str(code)), code
        assert schema["x-http-status"][str(code)] == code.status
    assert re.search(schema["pattern"], "InvalidArgument.Targets.URI")
    assert re.search(schema["pattern"], "InvalidParameter.MaxResults")
    for stranger in (
        "Throttled",
        "NoVideoStream.Width",
        "",
        "internalerror",
        "InvalidAccessKeyId.NotFound.X",
        "InvalidAccessKeyIdXNotFound",
    ):
        assert not re.search(schema["pattern"], stranger), stranger


def test_web_processes_do_not_load_the_encoders():
    """The pages and the API import the services, never MoviePy or the
    encoders' libraries: only a worker converting loads them."""
    script = (
        "import django, sys; django.setup(); import project.urls;"
        "print(sorted(m for m in ('moviepy', 'imagequant', 'converter.pipeline.convert')"
        " if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "project.settings"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


@pytest.mark.parametrize("category", [RemovedInNextVersionWarning, RemovedAfterNextVersionWarning])
def test_a_warning_about_a_feature_django_removes_fails_the_test(category):
    """pyproject.toml's filterwarnings: using what Django is about to remove
    is an error, not a line in the summary."""
    with pytest.raises(category):
        warnings.warn("this goes in a later Django", category, stacklevel=1)


@pytest.mark.parametrize("value", ["not-a-key", "c2hvcnQ=", "!" * 44])
def test_a_wrong_secret_encryption_key_stops_the_start(value):
    from django.core.exceptions import ImproperlyConfigured

    from project.settings import _fernet_key

    with pytest.raises(ImproperlyConfigured):
        _fernet_key(value, "CONVERTER_SECRET_ENCRYPTION_KEYS")
