"""Settings shared by every environment. Overlays: dev, test, production."""

from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from .env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# Runtime files (SQLite database, broker file, uploads) live outside the code and the web root.
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = env_str("SECRET_KEY", "insecure-development-key-do-not-use-in-production")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "simple_history",
    "viewflow",
    "viewflow.workflow",
    "organizations",
    "registers",
    "documents",
    "flows",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"
ASGI_APPLICATION = "project.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "project" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "organizations.context_processors.current_posts",
            ],
        },
    },
]

# Database: PostgreSQL when DATABASE_URL is set, otherwise one SQLite file.
DATABASE_URL = env_str("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            # IMMEDIATE takes the write lock at BEGIN, so two flow steps on SQLite
            # serialise instead of failing with "database is locked" mid-transaction.
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis, when REDIS_URL is set, is the Celery broker, the cache and the channel layer.
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}}
    CELERY_BROKER_URL = REDIS_URL
else:
    # A database cache is shared by the web server and the worker, unlike LocMemCache.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "cache_table"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    # The broker keeps its own SQLite file, apart from Django's database.
    CELERY_BROKER_URL = "sqla+sqlite:///" + str(VAR_DIR / "broker.sqlite3")

CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# How often beat looks for publication periods that have ended (seconds).
PUBLICATION_SWEEP_SECONDS = env_int("PUBLICATION_SWEEP_SECONDS", 30)
# The tamper-evident log, a transparency log (documents/ledger.py, sequencer.py, signing.py).
# Its name in every signed tree head (the C2SP checkpoint origin line).
LEDGER_ORIGIN = env_str("LEDGER_ORIGIN", "sanzi-approvals.local/ledger")
# Which keys sign the tree heads: ed25519, sm2 (GB/T 32918), or both.
LEDGER_SIGNING_ALGORITHMS = env_list("LEDGER_SIGNING_ALGORITHMS", ["ed25519"])
# The private key files (never in the repository): an Ed25519 PKCS#8 PEM, an SM2 key file of ledger_keygen.
LEDGER_KEY_FILE = env_str("LEDGER_KEY_FILE", "")
LEDGER_SM2_KEY_FILE = env_str("LEDGER_SM2_KEY_FILE", "")
# Create a missing key file on first use (the demo and tests only; production keys are made on purpose).
LEDGER_KEY_AUTOCREATE = False
# Public keys (C2SP vkeys) the log was signed with before a key change: older heads still verify.
LEDGER_PREVIOUS_VKEYS = env_list("LEDGER_PREVIOUS_VKEYS", [])
# How many new leaves one sequencer batch places at most, and how often beat runs it (seconds).
LEDGER_BATCH_SIZE = env_int("LEDGER_BATCH_SIZE", 1000)
LEDGER_SEQUENCER_SECONDS = env_int("LEDGER_SEQUENCER_SECONDS", 10)
# Queue the sequencer after every commit that wrote a leaf (tests turn it off and sequence when they mean to).
LEDGER_SEQUENCE_ON_COMMIT = True
# An RFC 3161 time-stamping authority for the signed tree heads (optional) and its certificate (PEM).
LEDGER_TSA_URL = env_str("LEDGER_TSA_URL", "")
LEDGER_TSA_CERTIFICATE_FILE = env_str("LEDGER_TSA_CERTIFICATE_FILE", "")
# How often beat looks for tasks waiting past their rule's reminder or escalation days (seconds).
REMINDER_SWEEP_SECONDS = env_int("REMINDER_SWEEP_SECONDS", 300)
# How often beat runs the early-warning rules over the registers and matters (seconds).
WARNING_SWEEP_SECONDS = env_int("WARNING_SWEEP_SECONDS", 600)
# How often a live socket looks for new notification rows itself (seconds). Only the in-memory
# channel layer needs it: it cannot carry a nudge from a Celery worker to the web server. With
# Redis the nudge arrives at once, and the poll is a slow safety net.
LIVE_POLL_SECONDS = env_int("LIVE_POLL_SECONDS", 30 if REDIS_URL else 2)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "flows:inbox"
LOGOUT_REDIRECT_URL = "login"
# Level-3 protection asks for a session timeout: idle sessions end after this many seconds.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 30 * 60)
SESSION_SAVE_EVERY_REQUEST = True

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "project" / "static"]
# Uploaded evidence lives outside the web root and is served only through a checked view.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
# No URL serves this folder (only Django's test live server would); files go out through checked views.
MEDIA_URL = "/unserved-media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
EVIDENCE_MAX_BYTES = env_int("EVIDENCE_MAX_BYTES", 20 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# A public objection form can be abused; each client may send this many per hour.
OBJECTION_RATE_PER_HOUR = env_int("OBJECTION_RATE_PER_HOUR", 5)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    # WeasyPrint narrates every layout pass at INFO: too loud for a worker's log.
    "loggers": {
        "flows": {"level": "INFO"},
        "organizations": {"level": "INFO"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
