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
