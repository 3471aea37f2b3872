from django.core.management.base import BaseCommand, CommandError

from converter.services import access_keys


class Command(BaseCommand):
    help = (
        "Encrypt every kept access key secret again under the first key of "
        "CONVERTER_SECRET_ENCRYPTION_KEYS (rotation: put a new key first, run this, then "
        "remove the old key)."
    )

    def handle(self, *args, **options) -> None:
        done, unreadable = access_keys.access_key_reseal_all()
        self.stdout.write(f"Resealed {done} secrets.")
        if unreadable:
            raise CommandError(
                f"{unreadable} secrets open with none of CONVERTER_SECRET_ENCRYPTION_KEYS "
                "(left as they are; their keys need manage.py rekeyaccesskey)."
            )
