"""Loopforge settings. This module is the only reader of the environment;
every variable has a working default for the embedded development set-up
(see README.md, "Settings")."""

from __future__ import annotations

import base64
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from csp.constants import NONE as CSP_NONE
from csp.constants import SELF as CSP_SELF
from django.core.exceptions import ImproperlyConfigured

from .env import (
    envbool,
    envfloat,
    envint,
    envsecret,
    envsecret_or_generated,
    envstr,
    redis_next_database,
)

BASE_DIR = Path(__file__).resolve().parent.parent
# Where the embedded services keep their data (database, Redis, S3 volumes).
DATA_DIR = Path(envstr("CONVERTER_DATA_DIR", str(BASE_DIR / ".run")))

# Given, or generated into the data folder on the first start (never a value
# everyone knows; project/safety.py refuses those on a network). Several
# machines must be given the same one.
SECRET_KEY = envsecret_or_generated("DJANGO_SECRET_KEY", DATA_DIR / "secrets" / "django-secret-key")


def _fernet_key(value: str, name: str) -> str:
    """A Fernet key as the setting gives it: 32 bytes, URL-safe base64."""
    try:
        ok = len(base64.urlsafe_b64decode(value.encode())) == 32
    except ValueError:
        ok = False
    if not ok:
        raise ImproperlyConfigured(
            f"{name} holds a key that is not a Fernet key (32 bytes, URL-safe base64); make "
            "one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'"
        )
    return value


def _derived_fernet_key(secret: str) -> str:
    """A Fernet key derived from SECRET_KEY, for installations that set none."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"loopforge:key-secrets")
    return base64.urlsafe_b64encode(hkdf.derive(secret.encode())).decode()


# API access key secrets are kept encrypted (the RPC signatures are HMACs:
# checking one needs the secret itself). The first key encrypts, every key
# decrypts (rotation: put the new key first, run ``manage.py resealsecrets``,
# then drop the old one). The key derived from SECRET_KEY always comes last,
# for decryption only once keys are set, so setting them first changes nothing.
CONVERTER_SECRET_ENCRYPTION_KEYS = [
    _fernet_key(k.strip(), "CONVERTER_SECRET_ENCRYPTION_KEYS")
    for k in envsecret("CONVERTER_SECRET_ENCRYPTION_KEYS", "").split(",")
    if k.strip()
] + [_derived_fernet_key(SECRET_KEY)]

DEBUG = envbool("DJANGO_DEBUG", "False")
ALLOWED_HOSTS = [
    h for h in envstr("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",") if h
]
CSRF_TRUSTED_ORIGINS = [o for o in envstr("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

# Behind a TLS proxy (DJANGO_HTTPS=True): cookies only over HTTPS, HSTS, the
# proxy's X-Forwarded-Proto trusted for request.is_secure() (so share links
# get https://), plain HTTP redirected. The proxy must set that header and
# strip it from what clients send.
HTTPS = envbool("DJANGO_HTTPS", "False")
if HTTPS:
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = envint("DJANGO_HSTS_SECONDS", str(365 * 24 * 3600))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", "True")
    SECURE_HSTS_PRELOAD = envbool("DJANGO_HSTS_PRELOAD", "True")
# Health checks come over plain HTTP from inside the deployment.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_rq",
    "converter",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files, before anything else runs
    "csp.middleware.CSPMiddleware",  # outside the rest: refusals they answer get it too
    # Alibaba Cloud's RPC calls at "/" go to their own view (the SDKs' endpoint has no path).
    "converter.views.rpc.RpcRoutingMiddleware",
    "converter.uploads.RequestSizeLimitMiddleware",  # 413 before anything reads the body
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before the CSRF check, which reads the body: an upload from someone not
    # logged in is refused before a byte of it is spooled.
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "converter.uploads.UploadNeedsLoginMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# Content-Security-Policy on every response: scripts, styles and everything
# else only from this site (no inline script or style, no eval), no plugins,
# no framing, forms post only here. Images and video may also be blobs (the
# upload page previews the chosen file) and, where images are redirected to
# signed S3 URLs (CONVERTER_DELIVERY=redirect), come from the S3 endpoint.

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "converter.context_processors.site",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        envstr("DATABASE_URL", f"sqlite:///{DATA_DIR / 'db.sqlite3'}"), conn_max_age=0
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the worker write at the same time: WAL lets readers
    # go on, IMMEDIATE makes writers queue instead of failing with "locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "converter:upload"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"

# Prometheus metrics at /metrics for "Authorization: Bearer <token>"; empty:
# no metrics.
CONVERTER_METRICS_TOKEN = envsecret("CONVERTER_METRICS_TOKEN", "")

# Conversion worker processes `start` runs on this machine (each converts one
# task at a time; ffmpeg in each uses several cores), and how long a stopping
# worker may take to finish the conversion it is running.
CONVERTER_CONVERT_WORKERS = envint("CONVERTER_CONVERT_WORKERS", "1")
CONVERTER_WORKER_GRACE_S = envfloat("CONVERTER_WORKER_GRACE_S", "60")

# --- The web server (gunicorn; project/gunicorn_conf.py) --------------------
# Worker processes, each with threads (a thread can sit on a slow upload
# while the others answer; the worker's heartbeat stays on time).
CONVERTER_WEB_WORKERS = envint("CONVERTER_WEB_WORKERS", "2")
CONVERTER_WEB_THREADS = envint("CONVERTER_WEB_THREADS", "4")
CONVERTER_WEB_TIMEOUT_S = envint("CONVERTER_WEB_TIMEOUT_S", "60")  # silent worker -> restarted
CONVERTER_WEB_GRACEFUL_TIMEOUT_S = envint("CONVERTER_WEB_GRACEFUL_TIMEOUT_S", "30")
CONVERTER_WEB_KEEPALIVE_S = envint("CONVERTER_WEB_KEEPALIVE_S", "5")
# Request limits before Django sees anything: the request line, the number
# of header fields and the size of each.
CONVERTER_WEB_LIMIT_REQUEST_LINE = envint("CONVERTER_WEB_LIMIT_REQUEST_LINE", "8190")
CONVERTER_WEB_LIMIT_REQUEST_FIELDS = envint("CONVERTER_WEB_LIMIT_REQUEST_FIELDS", "100")
CONVERTER_WEB_LIMIT_REQUEST_FIELD_SIZE = envint("CONVERTER_WEB_LIMIT_REQUEST_FIELD_SIZE", "8190")

# --- Redis and RQ -----------------------------------------------------------
REDIS_URL = envstr("REDIS_URL", "redis://127.0.0.1:6390/0")
# Jobs are JSON (their arguments are ids and names): the job Redis never
# holds a pickle, which anyone able to write to it could make run code.
RQ_SERIALIZER = "rq.serializers.JSONSerializer"
RQ_QUEUES = {
    "convert": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 1800, "SERIALIZER": RQ_SERIALIZER},
    # Completion messages: short jobs, on their own queue and their own
    # worker process (``manage.py worker --queue notify``).
    "notify": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 60, "SERIALIZER": RQ_SERIALIZER},
    # The editor's previews of a draft (``manage.py worker --queue previews``).
    "previews": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 300, "SERIALIZER": RQ_SERIALIZER},
}
RQ = {"COMMIT_MODE": "on_db_commit"}

# --- Notifications --------------------------------------------------------------
# Notification.MNS.TopicName is a Redis stream (XADD) on this server, under
# loopforge:mns:<project>:<topic>. Never the job queue's database: a topic
# is named by clients, and a stream where RQ keeps a key breaks the queue.
CONVERTER_NOTIFY_REDIS_URL = envstr("CONVERTER_NOTIFY_REDIS_URL", redis_next_database(REDIS_URL))
if CONVERTER_NOTIFY_REDIS_URL.rstrip("/") == REDIS_URL.rstrip("/"):
    raise ImproperlyConfigured(
        "CONVERTER_NOTIFY_REDIS_URL must not be the job queue's REDIS_URL: "
        "give it another database or server."
    )
# Streams are trimmed to about this many messages so unread topics stay bounded.
CONVERTER_NOTIFY_STREAM_MAXLEN = envint("CONVERTER_NOTIFY_STREAM_MAXLEN", "10000")
# Seconds between webhook attempts after a failure (one more attempt per entry).
CONVERTER_WEBHOOK_RETRY_INTERVALS_S = [
    int(v) for v in envstr("CONVERTER_WEBHOOK_RETRY_INTERVALS_S", "10,60,300,1800").split(",") if v
]
# Webhooks to private, loopback or link-local addresses are refused unless True
# (the server would otherwise call into its own network for any API client).
CONVERTER_WEBHOOK_ALLOW_PRIVATE = envbool("CONVERTER_WEBHOOK_ALLOW_PRIVATE", "False")
# Deliveries of one project in flight at once; more wait their turn, so one
# project's slow receivers cannot hold every notification worker.
CONVERTER_WEBHOOK_CONCURRENCY_PER_PROJECT = envint("CONVERTER_WEBHOOK_CONCURRENCY_PER_PROJECT", "2")

# --- Storage ------------------------------------------------------------------
# "s3": django-storages on an S3-compatible server (SeaweedFS in development).
# "local": files under CONVERTER_DATA_DIR/media (a fallback with no S3 server).
CONVERTER_STORAGE = envstr("CONVERTER_STORAGE", "s3")
CONVERTER_S3_ENDPOINT = envstr("CONVERTER_S3_ENDPOINT", "http://127.0.0.1:8333")
CONVERTER_S3_BUCKET = envstr("CONVERTER_S3_BUCKET", "loopforge")
CONVERTER_S3_ACCESS_KEY = envstr("CONVERTER_S3_ACCESS_KEY", "loopforge")
# The embedded SeaweedFS is configured with this secret at every start.
CONVERTER_S3_SECRET_KEY = envsecret_or_generated(
    "CONVERTER_S3_SECRET_KEY", DATA_DIR / "secrets" / "s3-secret-key"
)
CONVERTER_S3_REGION = envstr("CONVERTER_S3_REGION", "us-east-1")
# Pre-signed URLs live this long; share links stay valid because they are our
# own URLs that sign a fresh storage URL on every visit.
CONVERTER_SIGNED_URL_EXPIRY_S = envint("CONVERTER_SIGNED_URL_EXPIRY_S", "300")

# Whether anyone may create an account on the sign-up page; closed, accounts
# are made by an administrator (``manage.py createsuperuser``, the admin).
CONVERTER_SIGNUP_OPEN = envbool("CONVERTER_SIGNUP_OPEN", "True")
# Each login costs a password hash (~0.5 s of CPU): a few requests a second
# would keep every core busy. Per address a minute, per account an hour.
CONVERTER_LOGINS_PER_MINUTE = envint("CONVERTER_LOGINS_PER_MINUTE", "10")
CONVERTER_LOGINS_PER_USERNAME_PER_HOUR = envint("CONVERTER_LOGINS_PER_USERNAME_PER_HOUR", "20")
CONVERTER_SIGNUPS_PER_HOUR = envint("CONVERTER_SIGNUPS_PER_HOUR", "5")
# What one person may hold, so that one account cannot fill the tables (each
# project and key is a row, and keys are checked on every API call).
CONVERTER_MAX_PROJECTS_PER_USER = envint("CONVERTER_MAX_PROJECTS_PER_USER", "20")
CONVERTER_MAX_ACCESS_KEYS_PER_USER = envint("CONVERTER_MAX_ACCESS_KEYS_PER_USER", "50")

# Buckets whose objects API requests may read (Sources[].URI) and write
# (Animations[].URI), comma-separated. By default a bucket of their own, not
# the app's: what a client names then never shares a bucket with other
# people's uploads and animations (the app's own prefixes stay off limits
# even where an installation lists the app's bucket here).
CONVERTER_API_BUCKETS = [
    b for b in envstr("CONVERTER_API_BUCKETS", f"{CONVERTER_S3_BUCKET}-api").split(",") if b
]
# Which keys of those buckets a project may name: "installation" (any: the
# people of one installation share its buckets, as an IMM project reaches
# every bucket of its account) or "project" (only keys under
# "<ProjectName>/": each project its own folder, where strangers can sign up).
CONVERTER_API_OBJECT_SCOPE = envstr("CONVERTER_API_OBJECT_SCOPE", "installation")
# The S3 address clients use for pre-signed upload URLs (the server's own
# endpoint may be an internal address).
CONVERTER_S3_PUBLIC_ENDPOINT = envstr("CONVERTER_S3_PUBLIC_ENDPOINT", CONVERTER_S3_ENDPOINT)
CONVERTER_UPLOAD_URL_EXPIRY_S = envint("CONVERTER_UPLOAD_URL_EXPIRY_S", "3600")

# How images reach browsers: "proxy" streams them through the web server (works
# whatever the network between browser and S3); "redirect" sends a freshly
# signed storage URL (less load; S3 must be reachable by browsers).
CONVERTER_DELIVERY = envstr("CONVERTER_DELIVERY", "proxy")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _s3(prefix: str) -> dict:
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": CONVERTER_S3_BUCKET,
            "location": prefix,
            "endpoint_url": CONVERTER_S3_ENDPOINT,
            "access_key": CONVERTER_S3_ACCESS_KEY,
            "secret_key": CONVERTER_S3_SECRET_KEY,
            "region_name": CONVERTER_S3_REGION,
            "addressing_style": "path",
            "signature_version": "s3v4",
            "querystring_auth": True,
            "querystring_expire": CONVERTER_SIGNED_URL_EXPIRY_S,
            "file_overwrite": False,
            "default_acl": None,
        },
    }


def _local(prefix: str) -> dict:
    return {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(DATA_DIR / "media" / prefix)},
    }


_media_sources = [CSP_SELF, "data:", "blob:"]
if CONVERTER_DELIVERY == "redirect":
    _media_sources.append(_origin(CONVERTER_S3_PUBLIC_ENDPOINT))
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [CSP_SELF],
        "script-src": [CSP_SELF],
        "style-src": [CSP_SELF],
        "img-src": _media_sources,
        "media-src": _media_sources,
        "connect-src": [CSP_SELF],
        "font-src": [CSP_SELF],
        "object-src": [CSP_NONE],
        "base-uri": [CSP_NONE],
        "form-action": [CSP_SELF],
        "frame-ancestors": [CSP_NONE],
    }
}

if CONVERTER_STORAGE not in ("s3", "local"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("CONVERTER_STORAGE must be 's3' or 'local'")
if CONVERTER_DELIVERY not in ("proxy", "redirect") or (
    CONVERTER_DELIVERY == "redirect" and CONVERTER_STORAGE != "s3"
):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("CONVERTER_DELIVERY must be 'proxy', or 'redirect' with S3 storage")
if CONVERTER_API_OBJECT_SCOPE not in ("installation", "project"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("CONVERTER_API_OBJECT_SCOPE must be 'installation' or 'project'")
_backend = _s3 if CONVERTER_STORAGE == "s3" else _local
STORAGES = {
    "default": _backend("misc"),
    "sources": _backend("sources"),
    "outputs": _backend("outputs"),
    # Compressed, with content hashes in the names, so WhiteNoise serves
    # them with a far-future cache; `up` (and a deployment) collects them.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Limits (see converter/pipeline/limits.py for the reasons) -----------------
CONVERTER_MAX_UPLOAD_BYTES = envint("CONVERTER_MAX_UPLOAD_BYTES", str(1024 * 1024 * 1024))
CONVERTER_MAX_SOURCE_PIXELS = envint("CONVERTER_MAX_SOURCE_PIXELS", str(4096 * 2304))
CONVERTER_MAX_SOURCE_DURATION_S = envfloat("CONVERTER_MAX_SOURCE_DURATION_S", str(4 * 3600))
CONVERTER_MAX_OUTPUT_FRAMES = envint("CONVERTER_MAX_OUTPUT_FRAMES", "1000")
# A source the editor uploaded in the background and never converted (the
# person left the page) is removed by the reconciler after this long.
CONVERTER_DRAFT_MAX_AGE_S = envint("CONVERTER_DRAFT_MAX_AGE_S", str(24 * 3600))
# An uploaded source is deleted this many days after its task finished (the
# outputs stay); 0 keeps sources for ever.
CONVERTER_SOURCE_RETENTION_DAYS = envint("CONVERTER_SOURCE_RETENTION_DAYS", "30")
CONVERTER_MAX_OUTPUT_PIXELS = envint("CONVERTER_MAX_OUTPUT_PIXELS", str(1920 * 1080))
CONVERTER_TASK_TIMEOUT_S = envfloat("CONVERTER_TASK_TIMEOUT_S", "600")
# Address space of each ffmpeg process and each probe (RLIMIT_AS): a decoding
# bomb fails to allocate instead of exhausting the worker's memory. 4K decodes
# need < 1 GiB.
CONVERTER_FFMPEG_MEMORY_BYTES = envint("CONVERTER_FFMPEG_MEMORY_BYTES", str(2 * 1024**3))
# Wall time of one probe (upload check or worker), in its sandboxed child.
CONVERTER_PROBE_TIMEOUT_S = envfloat("CONVERTER_PROBE_TIMEOUT_S", "60")
# The ffmpeg every conversion runs (a path, or a name on PATH); empty = the one
# bundled with imageio-ffmpeg. The app hands it to the pipeline at start-up
# (converter/apps.py).
CONVERTER_FFMPEG = envstr("CONVERTER_FFMPEG", "")
# Where ffmpeg and the probe parse untrusted media: "bwrap" (bubblewrap: no
# network, nothing to read but the input, nothing to write, as nobody; the app
# refuses to start when it cannot run), or "none" (a child process with a
# minimal environment and the limits, no sandbox), only where bwrap cannot run.
CONVERTER_SANDBOX = envstr("CONVERTER_SANDBOX", "bwrap")
if CONVERTER_SANDBOX not in ("bwrap", "none"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("CONVERTER_SANDBOX must be 'bwrap' or 'none'")


def _seconds_list(name: str, default: str) -> list[float]:
    from django.core.exceptions import ImproperlyConfigured

    value = envstr(name, default)
    try:
        return [float(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r}; use comma-separated seconds") from None


# --- Faults and abuse -----------------------------------------------------------
# Backoff before each further attempt after a transient failure (storage down,
# worker lost); attempts in all = len + 1.
CONVERTER_RETRY_INTERVALS_S = _seconds_list("CONVERTER_RETRY_INTERVALS_S", "10,60,300")
# How often `manage.py up` (and `manage.py reconcile --every`) looks for tasks
# that Redis forgot or whose worker died.
CONVERTER_RECONCILE_INTERVAL_S = envfloat("CONVERTER_RECONCILE_INTERVAL_S", "30")
# Task creations per minute per user (web) and per access key (API); 0 = no limit.
CONVERTER_RATE_LIMIT_PER_MINUTE = envint("CONVERTER_RATE_LIMIT_PER_MINUTE", "20")
CONVERTER_KEY_RATE_LIMIT_PER_MINUTE = envint("CONVERTER_KEY_RATE_LIMIT_PER_MINUTE", "60")
# Outbound requests (webhooks, URL import) may reach only public addresses,
# except these comma-separated networks (e.g. "127.0.0.1/32" in tests).
CONVERTER_OUTBOUND_ALLOW_CIDRS = [
    c.strip() for c in envstr("CONVERTER_OUTBOUND_ALLOW_CIDRS", "").split(",") if c.strip()
]
# Uploads above this many bytes go to a temporary file, not memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_HANDLERS = ["converter.uploads.LimitedTemporaryFileUploadHandler"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "converter": {"handlers": ["console"], "level": envstr("CONVERTER_LOG_LEVEL", "INFO")},
    },
}
