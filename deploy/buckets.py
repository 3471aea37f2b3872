"""Create the buckets Loopforge writes to, if they are missing:
``CONVERTER_S3_BUCKET`` and every bucket of ``CONVERTER_API_BUCKETS``.
``python deploy/buckets.py`` (compose's ``migrate`` runs it after the
migrations). Retries for up to a minute while the S3 server comes up; on a
service where buckets are made by hand (AWS, OSS), it only checks them."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

import django

ATTEMPTS = 30


def main() -> int:
    django.setup()
    from botocore.exceptions import BotoCoreError, ClientError
    from django.conf import settings

    from converter.storage import s3_client

    wanted = [settings.CONVERTER_S3_BUCKET, *settings.CONVERTER_API_BUCKETS]
    for attempt in range(1, ATTEMPTS + 1):
        try:
            client = s3_client()
            existing = {b["Name"] for b in client.list_buckets()["Buckets"]}
            for name in wanted:
                if name not in existing:
                    client.create_bucket(Bucket=name)
                    print(f"created bucket {name}")
            return 0
        except (BotoCoreError, ClientError) as exc:
            print(f"S3 not ready ({attempt}/{ATTEMPTS}): {exc}", file=sys.stderr)
            time.sleep(2)
    return 1


if __name__ == "__main__":
    sys.exit(main())
