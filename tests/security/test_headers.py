"""Every answer carries a Content-Security-Policy that allows no inline
script or style, no other origin and no framing; pages, refusals and the
API alike. (tests/conftest.py's ``page`` fails any browser test in which
Chromium refused something under it.)"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from converter.models import Task
from tests.factories import make_project, make_task_row

pytestmark = pytest.mark.django_db


def _policy(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no policy on {response.status_code} {response.request['PATH_INFO']}"
    return {name: values for name, *values in (d.split() for d in header.split(";") if d.strip())}


def _strict(policy: dict[str, list[str]]) -> None:
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"] and policy["form-action"] == ["'self'"]
    assert not any("unsafe" in v or v == "*" for values in policy.values() for v in values)


def test_every_page_has_the_policy(user_client):
    user = user_client.user
    project = make_project("shop", owner=user)
    task = make_task_row(project, status=Task.Status.SUCCEEDED)
    pages = [
        reverse("converter:upload"),
        reverse("converter:task-list"),
        reverse("converter:task-detail", args=[task.public_id]),
        reverse("converter:project-list"),
        reverse("converter:project-detail", args=["shop"]),
        reverse("converter:usage"),
        reverse("converter:shared", args=[task.share_key]),
        reverse("converter:api-openapi"),
        "/no-such-page/",
        "/admin/login/",
    ]
    for url in pages:
        response = user_client.get(url)
        assert response.status_code in (200, 404), (url, response.status_code)
        _strict(_policy(response))


def test_refusals_before_any_view_have_it_too(client, settings):
    _strict(_policy(client.get(reverse("login"))))
    lenient = Client(raise_request_exception=False)
    bad_host = lenient.get(reverse("login"), HTTP_HOST="evil.example")
    assert bad_host.status_code == 400
    _strict(_policy(bad_host))
    settings.CONVERTER_MAX_UPLOAD_BYTES = 10
    big = client.post(reverse("converter:upload"), data=b"x" * 100_000, content_type="video/mp4")
    assert big.status_code == 413
    _strict(_policy(big))
    api = client.post(reverse("converter:api"), data=b"{}", content_type="application/json")
    _strict(_policy(api))
