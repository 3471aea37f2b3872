"""Projects: the API's unit of ownership, quota and keys. A person's browser
uploads belong to their default project."""

from __future__ import annotations

import re
import secrets

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from ..errors import Code, LoopforgeError, invalid
from ..models import Project
from . import removal

# The reference's rule, roughly; checked with fullmatch (a "$" would let a
# trailing newline through).
PROJECT_NAME_RE = re.compile(r"[a-zA-Z][a-zA-Z0-9_-]{0,127}")
# Names the system gives default projects; no client may choose one.
DEFAULT_PREFIX = "default-"


def project_default_for(user: User) -> Project:
    """The project a user's browser uploads belong to, made on first use.
    Found by its flag: a project's name is the client's choice."""
    project = Project.objects.filter(owner=user, is_default=True).first()
    if project is not None:
        return project
    name = f"{DEFAULT_PREFIX}{user.pk}"
    if Project.objects.filter(name=name).exists():  # made by an administrator, say
        name = f"{name}-{secrets.token_hex(4)}"
    try:
        with transaction.atomic():
            return Project.objects.create(owner=user, name=name, is_default=True)
    except IntegrityError:  # another request made it first
        return Project.objects.get(owner=user, is_default=True)


def project_create(
    *, owner: User, name: str, description: str = "", monthly_frame_quota: int | None = None
) -> Project:
    """A new project owned by ``owner``. Names are unique per installation."""
    if not isinstance(name, str) or not PROJECT_NAME_RE.fullmatch(name):
        raise invalid(
            "ProjectName",
            "ProjectName must start with a letter and hold up to 128 letters, digits, '-' or '_'.",
        )
    if name.lower().startswith(DEFAULT_PREFIX):
        raise invalid(
            "ProjectName", f"Names starting with {DEFAULT_PREFIX!r} are kept for browser uploads."
        )
    try:
        with transaction.atomic():
            _lock_owner(owner)
            if Project.objects.filter(owner=owner, is_default=False).count() >= (
                settings.CONVERTER_MAX_PROJECTS_PER_USER
            ):
                raise LoopforgeError(
                    Code.LIMIT_EXCEEDED,
                    f"A person may have at most {settings.CONVERTER_MAX_PROJECTS_PER_USER} "
                    "projects; delete one first.",
                )
            return Project.objects.create(
                owner=owner,
                name=name,
                description=description[:256],
                monthly_frame_quota=monthly_frame_quota,
            )
    except IntegrityError:
        raise LoopforgeError(
            Code.RESOURCE_ALREADY_EXISTS, f"A project named {name!r} already exists."
        ) from None


def project_delete(project: Project) -> None:
    """Delete a project with its tasks, outputs, keys and usage. Objects
    written to API buckets stay: they belong to whoever owns the bucket.
    A user's default project (their browser history) is not deleted this way."""
    if project.is_default:
        raise LoopforgeError(
            Code.FORBIDDEN,
            "A user's default project holds their browser uploads; it cannot be deleted.",
        )
    with transaction.atomic():
        for task in project.tasks.all():
            removal.task_files_discard(task)
        project.delete()


def _lock_owner(owner: User) -> None:
    """Serialise, per person, the checks of how many projects and keys they
    have (inside the caller's transaction)."""
    User.objects.select_for_update().filter(pk=owner.pk).first()


def project_update(
    project: Project, *, description: str | None = None, quota: tuple[int | None] | None = None
) -> Project:
    """Change what the client may change of a project: its description, and
    its monthly frame quota when ``quota`` holds one (``(None,)``: none)."""
    fields = ["updated_at"]
    if description is not None:
        project.description = description[:256]
        fields.append("description")
    if quota is not None:
        project.monthly_frame_quota = quota[0]
        fields.append("monthly_frame_quota")
    project.save(update_fields=fields)
    return project


def project_set_quota(project: Project, *, monthly_frame_quota: int | None) -> Project:
    project.monthly_frame_quota = monthly_frame_quota
    project.save(update_fields=["monthly_frame_quota", "updated_at"])
    return project
