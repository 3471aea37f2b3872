"""Strict readers for environment variables: a bad value fails at start-up,
never as a surprise in the middle of a request."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured


def envstr(name: str, default: str) -> str:
    return os.getenv(name, default)


def envbool(name: str, default: str) -> bool:
    value = os.getenv(name, default)
    if value not in ("True", "False"):
        raise ImproperlyConfigured(f"{name}={value!r}; use True or False")
    return value == "True"


def envint(name: str, default: str) -> int:
    value = os.getenv(name, default)
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r}; use a whole number") from None


def envfloat(name: str, default: str) -> float:
    value = os.getenv(name, default)
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r}; use a number") from None


def envsecret(name: str, default: str) -> str:
    """A secret from ``NAME`` or from the file named by ``NAME_FILE``."""
    path = os.getenv(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return os.getenv(name, default)


def envsecret_or_generated(name: str, path: Path) -> str:
    """``envsecret(name)``, or else a random secret kept in ``path``: made on
    the first start (readable by its owner only) and read on every later
    one, so an installation never runs on a value everyone knows."""
    given = envsecret(name, "")
    if given:
        return given
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    # Written whole under another name, then linked into place: a process
    # of the same start racing this one reads either nothing or all of it.
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")
    try:
        os.link(draft, path)
    except FileExistsError:
        value = path.read_text().strip()
    finally:
        draft.unlink()
    return value


def redis_next_database(url: str) -> str:
    """The same Redis server as ``url``, the database after its own
    (``redis://h:6379/0`` -> ``redis://h:6379/1``; 15 wraps to 0)."""
    parts = urlsplit(url)
    current = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(current + 1) % 16}"))
