"""Login and sign-up are throttled before any password is hashed: per
client address, and per account from any address; all-digit passwords are
refused."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from converter import ratelimit
from tests.factories import make_user

pytestmark = pytest.mark.django_db
PASSWORD = "a-Long-passw0rd!"


@pytest.fixture(autouse=True)
def _one_window(monkeypatch):
    """The limits count per fixed window: hold the clock in the middle of
    one, so that no test straddles a window's end."""
    monkeypatch.setattr(ratelimit.time, "time", lambda: 1_800_000_030.0)


def _login(client, username: str, password: str, ip: str = "198.51.100.7"):
    return client.post(
        "/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def test_an_address_gets_only_so_many_login_attempts(client, settings):
    settings.CONVERTER_LOGINS_PER_MINUTE = 3
    make_user("alice", PASSWORD)
    for _ in range(3):
        assert _login(client, "alice", "wrong").status_code == 200  # the form again
    refused = _login(client, "alice", PASSWORD)  # right, but over the limit
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert "Too many login attempts" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    assert _login(client, "alice", PASSWORD, ip="198.51.100.8").status_code == 302


def test_an_account_gets_only_so_many_attempts_from_any_address(client, settings):
    settings.CONVERTER_LOGINS_PER_MINUTE = 0
    settings.CONVERTER_LOGINS_PER_USERNAME_PER_HOUR = 4
    make_user("bob", PASSWORD)
    make_user("carol", PASSWORD)
    for n in range(4):
        assert _login(client, "bob", "wrong", ip=f"203.0.113.{n}").status_code == 200
    assert _login(client, "BOB ", PASSWORD, ip="203.0.113.99").status_code == 429
    assert _login(client, "carol", PASSWORD, ip="203.0.113.99").status_code == 302


def test_an_address_makes_only_so_many_accounts(client, settings):
    settings.CONVERTER_SIGNUPS_PER_HOUR = 2
    for n in range(3):
        response = client.post(
            "/signup/",
            {"username": f"new{n}", "password1": PASSWORD, "password2": PASSWORD},
            REMOTE_ADDR="192.0.2.1",
        )
        client.logout()
        assert response.status_code == (302 if n < 2 else 429), n
    assert not get_user_model().objects.filter(username="new2").exists()


def test_an_all_digit_password_is_refused(client):
    response = client.post(
        "/signup/",
        {"username": "digits", "password1": "4817263950172", "password2": "4817263950172"},
    )
    assert response.status_code == 200 and "entirely numeric" in response.content.decode()
    assert not get_user_model().objects.filter(username="digits").exists()
