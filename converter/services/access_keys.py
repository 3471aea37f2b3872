"""API access keys: each belongs to one project; only its hash is stored."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from ..errors import Code, LoopforgeError
from ..models import AccessKey, Project, hash_secret, new_access_key_secret

# last_used_at is informational: at most one write a minute per key.
LAST_USED_RESOLUTION_S = 60


def access_key_create(
    project: Project, *, may_create_projects: bool = False
) -> tuple[AccessKey, str]:
    """A new key for ``project`` and its secret, which is never stored or
    shown again. A person has at most CONVERTER_MAX_ACCESS_KEYS_PER_USER
    active keys over all their projects. Only the owner (the project page, a
    management command) says whether the key ``may_create_projects``."""
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
            may_create_projects=may_create_projects,
        )
    return key, secret


def access_key_revoke(key: AccessKey) -> bool:
    """Revoke an active key; False if it already was."""
    n = AccessKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    key.refresh_from_db()
    return n == 1


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
    now = timezone.now()
    if (
        key.last_used_at is None
        or (now - key.last_used_at).total_seconds() > LAST_USED_RESOLUTION_S
    ):
        AccessKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key
