"""Secrets kept encrypted at rest: authenticated encryption (Fernet: AES-128
in CBC mode with an HMAC-SHA256 over it) under the keys of
``CONVERTER_SECRET_ENCRYPTION_KEYS``. The first key encrypts; every key
decrypts, so a key can be rotated (``manage.py resealsecrets``)."""

from __future__ import annotations

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.CONVERTER_SECRET_ENCRYPTION_KEYS))


def seal(secret: str) -> str:
    """``secret`` encrypted under the first key, as text for a column."""
    return _current().encrypt(secret.encode()).decode()


def unseal(token: str) -> str | None:
    """The secret in ``token``; None when it is empty or no key opens it (a
    token of a key since removed, or altered)."""
    if not token:
        return None
    try:
        return _current().decrypt(token.encode()).decode()
    except InvalidToken:
        return None


def reseal(token: str) -> str:
    """``token`` encrypted again under the first key (raises InvalidToken
    when no key opens it)."""
    return _current().rotate(token.encode()).decode()
