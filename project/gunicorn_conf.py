"""gunicorn's configuration, from the Django settings (CONVERTER_WEB_*):
``gunicorn -c project/gunicorn_conf.py --bind HOST:PORT``. ``manage.py up``
and the deployment in deploy/ both start it this way."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

from django.conf import settings

from project import safety

wsgi_app = "project.wsgi:application"
worker_class = "gthread"
workers = settings.CONVERTER_WEB_WORKERS
threads = settings.CONVERTER_WEB_THREADS
timeout = settings.CONVERTER_WEB_TIMEOUT_S
graceful_timeout = settings.CONVERTER_WEB_GRACEFUL_TIMEOUT_S
keepalive = settings.CONVERTER_WEB_KEEPALIVE_S
limit_request_line = settings.CONVERTER_WEB_LIMIT_REQUEST_LINE
limit_request_fields = settings.CONVERTER_WEB_LIMIT_REQUEST_FIELDS
limit_request_field_size = settings.CONVERTER_WEB_LIMIT_REQUEST_FIELD_SIZE
accesslog = "-"
# Behind a proxy that sets X-Forwarded-Proto (DJANGO_HTTPS): gunicorn trusts
# it from any address only when told to; Django reads it (SECURE_PROXY_SSL_HEADER).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")


def on_starting(server) -> None:
    """Before binding: refuse a network address with public secrets."""
    hosts = [address.rsplit(":", 1)[0] for address in server.cfg.bind if ":" in address]
    safety.refuse_public_secrets(hosts)
