from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from converter.errors import LoopforgeError
from converter.services import projects


class Command(BaseCommand):
    help = "Create a project owned by a user (API tasks run in a project)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name")
        parser.add_argument("--owner", required=True, help="username of the owner")
        parser.add_argument(
            "--quota", type=int, default=None, help="monthly frame quota (default: none)"
        )

    def handle(self, *args, name: str, owner: str, quota: int | None, **options) -> None:
        user = get_user_model().objects.filter(username=owner).first()
        if user is None:
            raise CommandError(f"No user named {owner!r}.")
        try:
            project = projects.project_create(owner=user, name=name, monthly_frame_quota=quota)
        except LoopforgeError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"Created project {project.name} (owner {user.username}).")
