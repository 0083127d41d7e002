"""mediahub settings: one module, driven by environment variables with safe local defaults.

Every variable is listed in the README's configuration table. Locally nothing needs setting; in production
(DEBUG off) a missing SECRET_KEY or DATABASE_URL stops start-up with a clear message instead of running insecurely.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {value!r}.") from exc


def env_rate(name: str, default: str) -> tuple[int, int] | None:
    """A rate limit written "<count>/<seconds>" (e.g. "20/3600"), or "off" for none."""
    value = env_str(name, default).lower()
    if value == "off":
        return None
    count, _, seconds = value.partition("/")
    if not (count.isdigit() and seconds.isdigit() and int(count) > 0 and int(seconds) > 0):
        raise ImproperlyConfigured(f"{name} must be <count>/<seconds> (e.g. 20/3600) or off, got {value!r}.")
    return int(count), int(seconds)


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

# --- Secrets from AWS Systems Manager Parameter Store (deploy: docs/deploy.md) -------------------------------
# On Lambda no secret is in zappa_settings.json: SECRETS_PARAMETER_PATH (e.g. /mediahub/production) names a
# folder of SecureString parameters, read once at start-up (one GetParameters call). A variable already set in
# the environment wins over its parameter.
SECRET_PARAMETERS = ("SECRET_KEY", "DATABASE_URL", "EMAIL_HOST_USER", "EMAIL_HOST_PASSWORD")


def load_secrets(path: str) -> list[str]:
    """Copy `<path>/<NAME>` for each of SECRET_PARAMETERS into the environment; returns the names found."""
    import boto3  # only here: a local run without secrets never pays for the import

    ssm = boto3.client(
        "ssm", region_name=env_str("AWS_REGION", "us-east-1"), endpoint_url=env_str("AWS_ENDPOINT_URL") or None
    )
    answer = ssm.get_parameters(Names=[f"{path.rstrip('/')}/{name}" for name in SECRET_PARAMETERS], WithDecryption=True)
    found = []
    for parameter in answer["Parameters"]:
        name = parameter["Name"].rsplit("/", 1)[-1]
        os.environ.setdefault(name, parameter["Value"])
        found.append(name)
    return found


SECRETS_PARAMETER_PATH = env_str("SECRETS_PARAMETER_PATH")
if SECRETS_PARAMETER_PATH:
    load_secrets(SECRETS_PARAMETER_PATH)
# --- end of secrets ------------------------------------------------------------------------------------------

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. With DEBUG off mediahub refuses to start without it: "
            'set SECRET_KEY to a long random string (python -c "import secrets; print(secrets.token_urlsafe(50))").'
        )
    SECRET_KEY = "local-development-only-not-a-secret"  # noqa: S105 (DEBUG only)

# The port `make run PORT=...` serves the site on locally. SITE_URL follows it: the uploads bucket's CORS admits
# only SITE_URL, so a site moved to another port without it could not upload.
PORT = env_int("PORT", 8000)
# Where the site is reached from a browser; used for bucket CORS and e-mail links.
SITE_URL = env_str("SITE_URL", f"http://127.0.0.1:{PORT}").rstrip("/")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [SITE_URL])

# Local state (SQLite file, the file-system broker, local AWS logs) stays in one ignored folder.
LOCAL_DATA_DIR = Path(env_str("LOCAL_DATA_DIR", str(BASE_DIR / ".data")))

INSTALLED_APPS = [
    "mediahub",  # first, so its runserver (which finds the local AWS) wins
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "storages",
    "axes",
    "uploads",
    "profiles",
    "albums",  # issue 13: albums, shared albums
    "exports",  # ZIP downloads (docs/exports.md)
    "search",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "mediahub.middleware.SecurityHeaders",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "profiles.middleware.ApiTokenMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "mediahub.middleware.RateLimitPage",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Axes must come last: it turns a lock-out raised during authentication into our lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "mediahub.urls"
WSGI_APPLICATION = "mediahub.wsgi.application"

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
                "profiles.context_processors.navigation_bar",
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL")
if not DATABASE_URL:
    if not DEBUG:
        # The local SQLite default would be a file per Lambda container: sign-in would fail and
        # `zappa manage <stage> migrate` would migrate a file no other container sees.
        raise ImproperlyConfigured(
            "DATABASE_URL is not set. With DEBUG off mediahub refuses to start without it: set DATABASE_URL to "
            "the PostgreSQL database for Django's tables, e.g. postgres://user:password@host:5432/mediahub "
            "(on Lambda, the DATABASE_URL parameter under SECRETS_PARAMETER_PATH; see docs/deploy.md)."
        )
    LOCAL_DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASE_URL = f"sqlite:///{LOCAL_DATA_DIR / 'db.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0))}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Tests on SQLite get a file, not Django's shared-cache in-memory database: the live server's threads answer
    # the upload page's parallel requests, and in shared-cache mode a read beside another thread's write could
    # miss the signed-in user (the session was then flushed: "Sign in first."). A file has real locking.
    LOCAL_DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["TEST"] = {"NAME": str(LOCAL_DATA_DIR / "test-db.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "profiles.signin.SignInThrottle",  # refuses before any password is checked (see AXES_* below)
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sign-in throttling (site and admin), in two layers.
# Axes locks a username+address pair out after AXES_FAILURE_LIMIT failures, for AXES_COOLOFF_TIME. Axes has one
# failure limit for every lock-out parameter, so locking the address alone at 5 would lock a whole office behind
# one NAT out after five typos; the wider limits are ours (mediahub/ratelimit.py, profiles/signin.py): failed
# sign-ins per address (spraying many usernames from one address) and per username (one account guessed at from
# many addresses; a short window, so its owner is slowed at worst, never locked out for long).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "mediahub.ratelimit.client_ip"  # the one definition of a request's address
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Static files are served by WhiteNoise from the application itself, so Lambda needs no separate static host.
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

# --- AWS ---------------------------------------------------------------------------------------------------
AWS_REGION = env_str("AWS_REGION", "us-east-1")
# Set only for an emulator. Locally (DEBUG on) it defaults to the embedded one that `make run` starts.
AWS_ENDPOINT_URL = env_str("AWS_ENDPOINT_URL", "http://127.0.0.1:4566" if DEBUG else "")
UPLOADS_BUCKET = env_str("UPLOADS_BUCKET", "mediahub-local-uploads")
RENDITIONS_BUCKET = env_str("RENDITIONS_BUCKET", "mediahub-local-renditions")
DYNAMODB_TABLE_PREFIX = env_str("DYNAMODB_TABLE_PREFIX", "mediahub-local-")
# Largest file accepted. Files above MULTIPART_THRESHOLD go to S3 in parts (S3's multipart limit is 5 TiB; the
# single presigned POST's is 5 GiB), so 10 GiB is a choice, not a limit: a feature film at high bitrate.
MAX_UPLOAD_SIZE = env_int("MAX_UPLOAD_SIZE", 10 * 1024**3)
# Files larger than this are uploaded in parts (S3 multipart) rather than with one presigned POST. A POST that
# fails half way starts again from byte 0; 64 MiB is about a minute on a 10 Mbit/s uplink, past which resuming
# (and several parts in flight at once) is worth the extra round trips.
MULTIPART_THRESHOLD = env_int("MULTIPART_THRESHOLD", 64 * 1024**2)
# The smallest part size (S3's own minimum is 5 MiB, except for the last part). Larger files get larger parts so
# that no upload needs more than S3's 10,000 parts: at 16 MiB, up to 156 GiB stay at 16 MiB.
MULTIPART_PART_SIZE = env_int("MULTIPART_PART_SIZE", 16 * 1024**2)

# --- Media ------------------------------------------------------------------------------------------------
# The one list of accepted types (MIME type -> extension of the stored original). Pillow reads AVIF natively,
# HEIF/HEIC through pi-heif (uploads/imaging.py).
MEDIA_TYPES = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/gif": "gif",
    "image/avif": "avif",
    # HEIC is HEIF coded with HEVC (the iPhone's photos); browsers and phones name .heic files either way.
    "image/heic": "heic",
    "image/heif": "heif",
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "video/webm": "webm",
    "application/pdf": "pdf",
}
# Bytes each user may store (originals; renditions are not counted). Checked when an upload is requested.
# Five of the largest files (MAX_UPLOAD_SIZE): with uploads of up to 10 GiB, the former 5 GiB admitted none.
USER_STORAGE_QUOTA = env_int("USER_STORAGE_QUOTA", 50 * 1024**3)
# Items per gallery (and admin) page: one DynamoDB Query each.
MEDIA_PAGE_SIZE = env_int("MEDIA_PAGE_SIZE", 24)
# --- Trash and bulk selection (docs/trash.md)
# Days a deleted item stays restorable in the trash before the deletion sweep purges it.
TRASH_DAYS = env_int("TRASH_DAYS", 30)
# Ids one bulk request (a selection's toolbar, POST /api/media/bulk, and the album and ZIP views) may name.
BULK_MAX_ITEMS = env_int("BULK_MAX_ITEMS", 500)
# Images larger than this many pixels are refused before decoding (decompression bombs).
MAX_IMAGE_PIXELS = env_int("MAX_IMAGE_PIXELS", 50_000_000)
# Memory one image may need to be decoded and resized, estimated from its header per format and mode (a 46-byte
# lossless WebP can declare 7000x7000 pixels: 0.9 GB decoded). Worst cases in docs/benchmarks.md.
MAX_DECODE_BYTES = env_int("MAX_DECODE_BYTES", 400_000_000)
# CPU seconds one image may take to decode; past them it is refused (a JPEG of thousands of scans takes minutes).
IMAGE_DECODE_SECONDS = env_int("IMAGE_DECODE_SECONDS", 10)
# Seconds (wall clock: most of it is waiting for ranged reads from S3) to read a video's facts and poster frame or
# a PDF's first page. A video out of time is ready without a poster, or refused if it could not even be opened.
MEDIA_PREVIEW_SECONDS = env_int("MEDIA_PREVIEW_SECONDS", 30)
# Videos and PDFs are read in ranges, not whole; up to this size processing still streams them once to store their
# SHA-256 (the API's lookup by checksum). Larger ones get none: hashing would cost the whole transfer.
FULL_HASH_MAX_BYTES = env_int("FULL_HASH_MAX_BYTES", 256 * 1024**2)
# Renditions made of every image: name -> longest side in pixels, and whether it is a square centre crop.
# Each is written as JPEG and WebP.
MEDIA_RENDITIONS = {
    "thumb": {"size": 320, "crop": True},
    "medium": {"size": 1024, "crop": False},
    "large": {"size": 2048, "crop": False},
}

if AWS_ENDPOINT_URL:
    # The emulator accepts any credentials but botocore refuses to sign without some.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")

STORAGES = {
    "default": {"BACKEND": "uploads.storage.MediaStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Profiles ---------------------------------------------------------------------------------------------
AVATAR_MAX_SIZE = env_int("AVATAR_MAX_SIZE", 10 * 1024 * 1024)
# Avatar renditions: square centre crops, as JPEG and WebP.
AVATAR_RENDITIONS = {"256": {"size": 256, "crop": True}, "64": {"size": 64, "crop": True}}

# A process-local cache for what the navigation bar shows (the signed-in user's name and avatar).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Processing -------------------------------------------------------------------------------------------
# Who processes a finished upload: "celery" (a worker; the local default) or "lambda" (the S3 event handler).
PROCESSING_MODE = env_str("PROCESSING_MODE", "celery")
if PROCESSING_MODE not in ("celery", "lambda"):
    raise ImproperlyConfigured(f"PROCESSING_MODE must be celery or lambda, not {PROCESSING_MODE!r}.")
# Attempts per item before it is marked failed (a file that kills the worker is redelivered, and counted).
PROCESSING_MAX_ATTEMPTS = env_int("PROCESSING_MAX_ATTEMPTS", 3)
# What happens to a refused original: "delete" it, or "quarantine" it under quarantine/ for a lifecycle rule.
REJECTED_ORIGINALS = env_str("REJECTED_ORIGINALS", "delete")
# Items still "uploaded" this long after upload are re-queued by the periodic sweep.
PROCESSING_STUCK_MINUTES = env_int("PROCESSING_STUCK_MINUTES", 5)

# --- ZIP downloads (exports/, docs/exports.md) ----------------------------------------------------------------
# On Lambda a build must end inside the function's timeout (zappa_settings.json: 60 s), which its asynchronous
# invocations share with the site: it stops itself at ZIP_BUILD_SECONDS and says so; a Celery worker has longer.
# ZIP_MAX_BYTES of originals fit in 50 s with a margin of about two (docs/exports.md, docs/benchmarks.md).
ZIP_MAX_BYTES = env_int("ZIP_MAX_BYTES", 1024**3)
ZIP_BUILD_SECONDS = env_int("ZIP_BUILD_SECONDS", 50 if PROCESSING_MODE == "lambda" else 600)
ZIP_PART_SIZE = env_int("ZIP_PART_SIZE", 16 * 1024**2)  # bytes per multipart part: memory is about two of them
ZIP_LEASE_SECONDS = env_int("ZIP_LEASE_SECONDS", 120)  # a build silent this long is dead: taken over or failed
ZIP_KEEP_HOURS = env_int("ZIP_KEEP_HOURS", 23)  # the link is offered this long; S3 deletes the ZIP after a day
ZIP_MAX_ACTIVE = env_int("ZIP_MAX_ACTIVE", 3)  # ZIPs one person may have queued or building at once

# --- Celery -----------------------------------------------------------------------------------------------
# Without a broker URL the worker still runs out of process, over kombu's file-system transport.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(LOCAL_DATA_DIR / "broker"),
        "data_folder_out": str(LOCAL_DATA_DIR / "broker"),
        "processed_folder": str(LOCAL_DATA_DIR / "broker-processed"),
        "control_folder": str(LOCAL_DATA_DIR / "broker-control"),
        "store_processed": False,
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    else {}
)
CELERY_RESULT_BACKEND = env_str(
    "CELERY_RESULT_BACKEND",
    CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else f"file://{LOCAL_DATA_DIR / 'results'}",
)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 300)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 240)
CELERY_RESULT_EXPIRES = timedelta(hours=1)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "mediahub")
CELERY_BEAT_SCHEDULE = {
    "sweep-stuck-uploads": {"task": "uploads.sweep_stuck", "schedule": 120.0},
    "delete-expired-items": {"task": "uploads.delete_expired", "schedule": 600.0},
    "sweep-abandoned-uploads": {"task": "uploads.sweep_abandoned", "schedule": 3600.0},
    "reconcile-usage": {"task": "uploads.reconcile_usage", "schedule": 86400.0},
    "resume-account-deletions": {"task": "profiles.resume_account_deletions", "schedule": 300.0},
    "sweep-superseded-avatars": {"task": "profiles.sweep_avatars", "schedule": 3600.0},
    "sweep-zip-jobs": {"task": "exports.sweep", "schedule": 300.0},
}

# --- E-mail -----------------------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
# Seconds before an unanswered mail server is given up on; without it a send could hang until the Lambda
# function's own timeout (60 s), long after API Gateway (29 s) has answered the person with an error.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "mediahub <noreply@localhost>")

# --- Rate limits (mediahub/ratelimit.py): "<count>/<seconds>" per caller, counted in DynamoDB ----------------
RATE_LIMITS = {
    "signup": env_rate("RATE_LIMIT_SIGNUP", "20/3600"),  # sign-up attempts per address
    "upload": env_rate("RATE_LIMIT_UPLOAD", "60/60"),  # uploads started (media and avatar presigns, direct) per user
    "share": env_rate("RATE_LIMIT_SHARE", "60/60"),  # shared-link page views and downloads per address
    "password": env_rate("RATE_LIMIT_PASSWORD", "10/900"),  # password checks (change, account deletion) per user
    "signin-ip": env_rate("RATE_LIMIT_SIGNIN_IP", "30/900"),  # failed sign-ins per address, any usernames
    "signin-user": env_rate("RATE_LIMIT_SIGNIN_USER", "20/300"),  # failed sign-ins per username, any addresses
    "api": env_rate("RATE_LIMIT_API", "600/60"),  # JSON API calls per user
}

# --- Security ---------------------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
CSRF_FAILURE_VIEW = "mediahub.views.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Content-Security-Policy (mediahub/middleware.py): on in production; tests and local checks can turn it on.
CSP_ENABLED = env_bool("CSP_ENABLED", not DEBUG)
if not DEBUG:
    # API Gateway terminates TLS and says so in X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {name: {"level": "WARNING"} for name in ("botocore", "pynamodb", "axes")},
}
