"""Secrets that must not be public, and the refusal to serve a network with
them. Read by ``manage.py up`` and by gunicorn's configuration before they
bind, and by ``manage.py check --deploy``."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

# Values that were once the defaults, and so are known to everyone.
PUBLIC_SECRETS = {
    "DJANGO_SECRET_KEY": "dev-only-insecure-key-change-me-for-production-0123456789",
    "CONVERTER_S3_SECRET_KEY": "loopforge-dev-secret",
}
_SETTING_OF = {
    "DJANGO_SECRET_KEY": "SECRET_KEY",
    "CONVERTER_S3_SECRET_KEY": "CONVERTER_S3_SECRET_KEY",
}


def public_secrets() -> list[str]:
    """The names of the secrets set to a publicly known value."""
    return [
        name
        for name, value in PUBLIC_SECRETS.items()
        if getattr(settings, _SETTING_OF[name]) == value
    ]


def is_loopback(host: str) -> bool:
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name, or 0.0.0.0: reachable from elsewhere


def refuse_public_secrets(hosts: list[str]) -> None:
    """Raise unless every host is loopback, DEBUG is on, or no secret is public."""
    names = public_secrets()
    exposed = [h for h in hosts if not is_loopback(h)]
    if names and exposed and not settings.DEBUG:
        raise ImproperlyConfigured(
            f"Refusing to serve {', '.join(exposed)} with the publicly known {', '.join(names)}: "
            "unset it (a random one is generated into CONVERTER_DATA_DIR) or set your own."
        )


@checks.register(checks.Tags.security, deploy=True)
def check_public_secrets(**kwargs) -> list[checks.CheckMessage]:
    return [
        checks.Error(f"{name} has a publicly known value.", id="loopforge.E001")
        for name in public_secrets()
    ]
