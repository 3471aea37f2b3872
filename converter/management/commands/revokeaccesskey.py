from django.core.management.base import BaseCommand, CommandError

from converter.models import AccessKey
from converter.services import access_keys


class Command(BaseCommand):
    help = "Revoke an API access key: every later call with it is refused."

    def add_arguments(self, parser) -> None:
        parser.add_argument("key_id")

    def handle(self, *args, key_id: str, **options) -> None:
        key = AccessKey.objects.filter(key_id=key_id).first()
        if key is None:
            raise CommandError(f"No access key {key_id!r}.")
        if not access_keys.access_key_revoke(key):
            raise CommandError(f"Access key {key_id} was already revoked.")
        self.stdout.write(f"Revoked {key_id} (project {key.project.name}).")
