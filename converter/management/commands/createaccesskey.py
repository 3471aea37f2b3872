from django.core.management.base import BaseCommand, CommandError

from converter.models import Project
from converter.services import access_keys


class Command(BaseCommand):
    help = "Create an API access key for a project; the secret is printed once."

    def add_arguments(self, parser) -> None:
        parser.add_argument("project")
        parser.add_argument(
            "--may-create-projects",
            action="store_true",
            help="let the key create projects, each answered with a first key of its own",
        )

    def handle(self, *args, project: str, may_create_projects: bool, **options) -> None:
        target = Project.objects.filter(name=project).first()
        if target is None:
            raise CommandError(f"No project named {project!r}.")
        key, secret = access_keys.access_key_create(target, may_create_projects=may_create_projects)
        self.stdout.write(f"AccessKeyId: {key.key_id}\nAccessKeySecret: {secret}\n")
        self.stderr.write("Store the secret now: it cannot be shown again.")
