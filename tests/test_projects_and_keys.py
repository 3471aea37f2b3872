"""Projects and access keys: the services and the management commands."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from converter.errors import LoopforgeError
from converter.models import AccessKey, Project
from converter.services import access_keys, projects
from tests.factories import make_project, make_user

pytestmark = pytest.mark.django_db


def test_a_key_authenticates_with_its_secret_only():
    key, secret = access_keys.access_key_create(make_project("alpha"))
    assert access_keys.access_key_authenticate(key.key_id, secret) == key
    assert access_keys.access_key_authenticate(key.key_id, secret + "x") is None
    assert access_keys.access_key_authenticate("LFNOSUCHKEY", secret) is None
    assert secret not in key.secret_hash and len(key.secret_hash) == 64


def test_a_revoked_key_is_refused():
    key, secret = access_keys.access_key_create(make_project("beta"))
    assert access_keys.access_key_revoke(key)
    assert access_keys.access_key_authenticate(key.key_id, secret) is None
    assert not access_keys.access_key_revoke(key)


def test_project_names_are_unique_and_checked():
    owner = make_user()
    projects.project_create(owner=owner, name="gamma")
    with pytest.raises(LoopforgeError) as exc:
        projects.project_create(owner=owner, name="gamma")
    assert exc.value.code == "ResourceAlreadyExists"
    with pytest.raises(LoopforgeError) as exc:
        projects.project_create(owner=owner, name="9 bad name")
    assert exc.value.code == "InvalidArgument.ProjectName"


def test_management_commands_create_a_project_and_a_key_then_revoke_it():
    make_user("carol")
    call_command(
        "createproject", "delta", "--owner", "carol", "--quota", "500", stdout=io.StringIO()
    )
    project = Project.objects.get(name="delta")
    assert project.owner.username == "carol" and project.monthly_frame_quota == 500
    out = io.StringIO()
    call_command("createaccesskey", "delta", stdout=out, stderr=io.StringIO())
    lines = dict(line.split(": ", 1) for line in out.getvalue().strip().splitlines())
    key = AccessKey.objects.get(key_id=lines["AccessKeyId"])
    assert access_keys.access_key_authenticate(key.key_id, lines["AccessKeySecret"]) == key
    assert not key.may_create_projects
    out = io.StringIO()
    call_command("createaccesskey", "delta", "--may-create-projects", stdout=out, stderr=out)
    assert AccessKey.objects.get(key_id=out.getvalue().split()[1]).may_create_projects
    call_command("revokeaccesskey", key.key_id, stdout=io.StringIO())
    assert access_keys.access_key_authenticate(key.key_id, lines["AccessKeySecret"]) is None
    with pytest.raises(CommandError):
        call_command("createproject", "epsilon", "--owner", "nobody", stdout=io.StringIO())


def test_a_secret_is_kept_encrypted_never_in_plain_text():
    key, secret = access_keys.access_key_create(make_project("sealed"))
    stored = AccessKey.objects.get(pk=key.pk)
    assert secret not in stored.secret_encrypted and secret not in stored.secret_hash
    assert access_keys.access_key_secret(stored) == secret
    tampered = stored.secret_encrypted[:-4] + (
        "AAAA" if stored.secret_encrypted[-4:] != "AAAA" else "BBBB"
    )
    stored.secret_encrypted = tampered  # authenticated: an altered token opens to nothing
    assert access_keys.access_key_secret(stored) is None


def test_revoking_a_key_drops_its_encrypted_secret():
    key, _ = access_keys.access_key_create(make_project("dropped"))
    access_keys.access_key_revoke(key)
    assert key.secret_encrypted == "" and access_keys.access_key_secret(key) is None


def test_a_key_made_before_secrets_were_kept_works_with_the_json_api_and_can_be_rekeyed():
    key, secret = access_keys.access_key_create(make_project("legacy"))
    AccessKey.objects.filter(pk=key.pk).update(secret_encrypted="")  # as the migration left it
    key.refresh_from_db()
    assert access_keys.access_key_authenticate(key.key_id, secret) == key
    assert access_keys.access_key_secret(key) is None

    out = io.StringIO()
    call_command("rekeyaccesskey", key.key_id, stdout=out, stderr=io.StringIO())
    new_secret = out.getvalue().split("AccessKeySecret: ")[1].strip()
    key.refresh_from_db()
    assert new_secret != secret and access_keys.access_key_secret(key) == new_secret
    assert access_keys.access_key_authenticate(key.key_id, secret) is None
    assert access_keys.access_key_authenticate(key.key_id, new_secret) == key

    access_keys.access_key_revoke(key)
    with pytest.raises(CommandError):
        call_command("rekeyaccesskey", key.key_id, stdout=io.StringIO(), stderr=io.StringIO())


def test_secrets_are_resealed_under_a_new_first_key(settings):
    from cryptography.fernet import Fernet

    from converter import vault

    old = list(settings.CONVERTER_SECRET_ENCRYPTION_KEYS)
    key, secret = access_keys.access_key_create(make_project("rotated"))
    new = Fernet.generate_key().decode()
    settings.CONVERTER_SECRET_ENCRYPTION_KEYS = [new, *old]
    assert access_keys.access_key_secret(key) == secret  # the old key still decrypts
    call_command("resealsecrets", stdout=io.StringIO())
    settings.CONVERTER_SECRET_ENCRYPTION_KEYS = [new]  # the old key removed
    key.refresh_from_db()
    assert access_keys.access_key_secret(key) == secret
    settings.CONVERTER_SECRET_ENCRYPTION_KEYS = old  # and without the new one: unreadable
    assert vault.unseal(key.secret_encrypted) is None
