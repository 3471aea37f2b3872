"""API access keys: each belongs to one project. Its secret is kept as a hash
(the JSON API compares it) and encrypted (``converter.vault``; the SDKs'
signatures are HMACs, which only the secret itself can check), never in
plain text."""

from __future__ import annotations

import hmac

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from .. import vault
from ..errors import Code, LoopforgeError
from ..models import AccessKey, Project, hash_secret, new_access_key_secret

# last_used_at is informational: at most one write a minute per key.
LAST_USED_RESOLUTION_S = 60


def access_key_create(
    project: Project, *, may_create_projects: bool = False
) -> tuple[AccessKey, str]:
    """A new key for ``project`` and its secret, which is shown this once
    (it is stored only hashed and encrypted). A person has at most
    CONVERTER_MAX_ACCESS_KEYS_PER_USER active keys over all their projects.
    Only the owner (the project page, a management command) says whether the
    key ``may_create_projects``."""
    limit = settings.CONVERTER_MAX_ACCESS_KEYS_PER_USER
    secret = new_access_key_secret()
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=project.owner_id).first()
        active = AccessKey.objects.filter(
            project__owner_id=project.owner_id, revoked_at__isnull=True
        ).count()
        if active >= limit:
            raise LoopforgeError(
                Code.LIMIT_EXCEEDED,
                f"A person may have at most {limit} active access keys; revoke one first.",
            )
        key = AccessKey.objects.create(
            project=project,
            secret_hash=hash_secret(secret),
            secret_encrypted=vault.seal(secret),
            may_create_projects=may_create_projects,
        )
    return key, secret


def access_key_rekey(key: AccessKey) -> str:
    """A new secret for an active key, which keeps its id, project and
    rights; the old secret is refused from now on. Shown this once. This is
    how a key made before secrets were kept encrypted (JSON API only) gets
    one the SDKs can sign with."""
    secret = new_access_key_secret()
    n = AccessKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
        secret_hash=hash_secret(secret), secret_encrypted=vault.seal(secret)
    )
    if n != 1:
        raise LoopforgeError(Code.FORBIDDEN, f"Access key {key.key_id} is revoked.")
    key.refresh_from_db()
    return secret


def access_key_revoke(key: AccessKey) -> bool:
    """Revoke an active key; False if it already was. Its encrypted secret
    is dropped: nothing needs it again."""
    n = AccessKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), secret_encrypted=""
    )
    key.refresh_from_db()
    return n == 1


def access_key_secret(key: AccessKey) -> str | None:
    """The key's secret, to check a signature with; None for a key whose
    secret is not kept (made before it was, or revoked) or that none of
    CONVERTER_SECRET_ENCRYPTION_KEYS opens."""
    return vault.unseal(key.secret_encrypted)


def access_key_reseal_all() -> tuple[int, int]:
    """Encrypt every kept secret again under the first of
    CONVERTER_SECRET_ENCRYPTION_KEYS (after a new key was put first); the
    numbers of secrets resealed and of those no key opens (left as they are)."""
    done = unreadable = 0
    for key in AccessKey.objects.exclude(secret_encrypted="").only("pk", "secret_encrypted"):
        try:
            token = vault.reseal(key.secret_encrypted)
        except InvalidToken:
            unreadable += 1
            continue
        AccessKey.objects.filter(pk=key.pk, secret_encrypted=key.secret_encrypted).update(
            secret_encrypted=token
        )
        done += 1
    return done, unreadable


def access_key_authenticate(key_id: str, secret: str) -> AccessKey | None:
    """The active key with this id and secret, or None. The hash is compared
    even for an unknown id, so timing does not reveal which ids exist."""
    key = (
        AccessKey.objects.select_related("project", "project__owner").filter(key_id=key_id).first()
    )
    stored = key.secret_hash if key else hash_secret("no-such-key")
    matches = hmac.compare_digest(stored, hash_secret(secret))
    if key is None or not matches or not key.is_active:
        return None
    access_key_touch(key)
    return key


def access_key_touch(key: AccessKey) -> None:
    """Record that the key was used (at most one write a minute)."""
    now = timezone.now()
    if (
        key.last_used_at is None
        or (now - key.last_used_at).total_seconds() > LAST_USED_RESOLUTION_S
    ):
        AccessKey.objects.filter(pk=key.pk).update(last_used_at=now)
