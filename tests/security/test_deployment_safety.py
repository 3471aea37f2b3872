"""Safe by default, loud when not: no publicly known secret on a network,
secrets generated on the first start, and HTTPS behind a proxy."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from converter.models import Task
from project import env, safety
from tests.factories import make_project, make_task_row
from tests.processes import ROOT

PUBLIC_KEY = safety.PUBLIC_SECRETS["DJANGO_SECRET_KEY"]


def _manage(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CONVERTER_S3_SECRET"))
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **extra},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_secret_is_generated_once_and_kept_private(tmp_path, monkeypatch):
    monkeypatch.delenv("LF_TEST_SECRET", raising=False)
    path = tmp_path / "secrets" / "key"
    first = env.envsecret_or_generated("LF_TEST_SECRET", path)
    assert len(first) >= 64 and env.envsecret_or_generated("LF_TEST_SECRET", path) == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    monkeypatch.setenv("LF_TEST_SECRET", "given")
    assert env.envsecret_or_generated("LF_TEST_SECRET", path) == "given"


def test_the_settings_use_no_public_secret_by_default(settings):
    assert safety.public_secrets() == []


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "example.com", "[::]"])  # noqa: S104
def test_public_secrets_are_refused_on_a_network(settings, host):
    settings.SECRET_KEY = PUBLIC_KEY
    with pytest.raises(ImproperlyConfigured, match="DJANGO_SECRET_KEY"):
        safety.refuse_public_secrets([host])


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_loopback_may_use_them(settings, host):
    settings.SECRET_KEY = PUBLIC_KEY
    settings.CONVERTER_S3_SECRET_KEY = safety.PUBLIC_SECRETS["CONVERTER_S3_SECRET_KEY"]
    safety.refuse_public_secrets([host])


def test_start_refuses_to_serve_a_network_with_a_public_key(tmp_path):
    done = _manage(
        "up",
        "--addr",
        "0.0.0.0:18999",
        CONVERTER_DATA_DIR=str(tmp_path),
        DJANGO_SECRET_KEY=PUBLIC_KEY,
    )
    assert done.returncode != 0 and "Refusing to serve 0.0.0.0" in done.stderr, done.stderr


def test_gunicorn_refuses_too(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "project/gunicorn_conf.py",
            "--bind",
            "0.0.0.0:18998",
        ],
        cwd=ROOT,
        env={**os.environ, "CONVERTER_DATA_DIR": str(tmp_path), "DJANGO_SECRET_KEY": PUBLIC_KEY},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0 and "Refusing to serve 0.0.0.0" in done.stderr, done.stderr[-2000:]


def test_the_deploy_check_passes_in_https_mode(tmp_path):
    https = {
        "CONVERTER_DATA_DIR": str(tmp_path),
        "DJANGO_HTTPS": "True",
        "DJANGO_ALLOWED_HOSTS": "gifs.example.com",
    }
    done = _manage("check", "--deploy", "--fail-level", "WARNING", **https)
    assert done.returncode == 0, done.stdout + done.stderr
    public = _manage("check", "--deploy", **https, DJANGO_SECRET_KEY=PUBLIC_KEY)
    assert public.returncode != 0 and "loopforge.E001" in public.stderr, public.stderr
    plain = _manage(
        "check", "--deploy", "--fail-level", "WARNING", CONVERTER_DATA_DIR=str(tmp_path)
    )
    assert plain.returncode != 0  # without HTTPS the check says what is missing


@pytest.mark.django_db
def test_share_links_are_https_behind_a_tls_proxy(user_client, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    task = make_task_row(make_project(owner=user_client.user), status=Task.Status.SUCCEEDED)
    page = user_client.get(
        reverse("converter:task-detail", args=[task.public_id]),
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_HOST="localhost",  # as the proxy passes it on
    ).content.decode()
    assert f'value="https://localhost/s/{task.share_key}/"' in page
