"""Names a client chooses never reach a name the system uses for itself:
a person's default project is found by a flag, and its name prefix is
reserved; one person cannot fill the tables with projects and keys."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from converter.errors import LoopforgeError
from converter.models import Project
from converter.services import access_keys, projects
from tests.api import call
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["default-1", "default-999", "Default-7", "DEFAULT-x"])
def test_no_one_may_choose_a_default_projects_name(name):
    with pytest.raises(LoopforgeError) as refused:
        projects.project_create(owner=make_user(), name=name)
    assert refused.value.code == "InvalidArgument.ProjectName"
    assert not Project.objects.filter(name=name).exists()


def test_the_api_refuses_a_default_name_too(client):
    owner = make_user()
    project = projects.project_create(owner=owner, name="mine")
    key, secret = access_keys.access_key_create(project)
    answer = call(
        client,
        "CreateProject",
        {"ProjectName": "default-12345"},
        key=(key.key_id, secret),
        expect=400,
    )
    assert answer["Code"] == "InvalidArgument.ProjectName"


def test_uploads_go_to_the_flagged_project_even_when_its_name_was_squatted():
    """A project named like a later user's default (made before the prefix
    was reserved, or by an administrator) does not receive their uploads."""
    squatter, victim = make_user(), make_user()
    squatted = Project.objects.create(owner=squatter, name=f"default-{victim.pk + 1}")
    later = make_user()
    assert squatted.name == f"default-{later.pk}"
    default = projects.project_default_for(later)
    assert default.owner == later and default.is_default and default.pk != squatted.pk
    assert projects.project_default_for(later).pk == default.pk  # found again, not made again
    assert projects.project_default_for(victim).owner == victim


def test_a_default_project_cannot_be_deleted():
    user = make_user()
    with pytest.raises(LoopforgeError) as refused:
        projects.project_delete(projects.project_default_for(user))
    assert refused.value.code == "Forbidden"


def test_a_person_may_hold_only_so_many_projects(settings):
    settings.CONVERTER_MAX_PROJECTS_PER_USER = 2
    owner = make_user()
    projects.project_default_for(owner)  # not counted
    projects.project_create(owner=owner, name="one")
    projects.project_create(owner=owner, name="two")
    with pytest.raises(LoopforgeError) as refused:
        projects.project_create(owner=owner, name="three")
    assert refused.value.code == "LimitExceeded" and refused.value.status == 403
    assert not Project.objects.filter(name="three").exists()
    projects.project_create(owner=make_user(), name="three")  # someone else still may


def test_a_person_may_hold_only_so_many_active_keys(settings):
    settings.CONVERTER_MAX_ACCESS_KEYS_PER_USER = 2
    owner = make_user()
    first = projects.project_create(owner=owner, name="first")
    second = projects.project_create(owner=owner, name="second")
    key, _ = access_keys.access_key_create(first)
    access_keys.access_key_create(second)
    with pytest.raises(LoopforgeError) as refused:
        access_keys.access_key_create(first)
    assert refused.value.code == "LimitExceeded"
    access_keys.access_key_revoke(key)
    access_keys.access_key_create(first)  # a revoked key frees its place


@pytest.mark.django_db(transaction=True)
def test_the_migration_flags_rightful_defaults_and_renames_squatted_ones():
    executor = MigrationExecutor(connection)
    executor.migrate([("converter", "0003_task_public_id")])
    old = executor.loader.project_state([("converter", "0003_task_public_id")]).apps
    User = old.get_model("auth", "User")
    OldProject = old.get_model("converter", "Project")
    alice = User.objects.create(username="alice-m")
    mallory = User.objects.create(username="mallory-m")
    OldProject.objects.create(owner_id=alice.pk, name=f"default-{alice.pk}")
    OldProject.objects.create(owner_id=mallory.pk, name=f"default-{alice.pk + 100}")
    OldProject.objects.create(owner_id=mallory.pk, name="plain")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    rows = {p.name: p for p in Project.objects.filter(owner_id__in=[alice.pk, mallory.pk])}
    assert rows[f"default-{alice.pk}"].is_default
    assert not rows["plain"].is_default
    renamed = [n for n in rows if n.startswith("renamed-")]
    assert len(renamed) == 1 and not rows[renamed[0]].is_default
    assert not any(n == f"default-{alice.pk + 100}" for n in rows)
