from django.core.management.base import BaseCommand, CommandError

from converter.errors import LoopforgeError
from converter.selectors import access_key_find
from converter.services import access_keys


class Command(BaseCommand):
    help = (
        "Give an active API access key a new secret (same id, project and rights); the old "
        "secret is refused from now on. The new one is printed once. A key made before "
        "secrets were kept encrypted needs this before Alibaba Cloud's SDKs can use it."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("key_id")

    def handle(self, *args, key_id: str, **options) -> None:
        key = access_key_find(key_id)
        if key is None:
            raise CommandError(f"No access key {key_id!r}.")
        try:
            secret = access_keys.access_key_rekey(key)
        except LoopforgeError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"AccessKeyId: {key.key_id}\nAccessKeySecret: {secret}\n")
        self.stderr.write("Store the secret now: it cannot be shown again.")
