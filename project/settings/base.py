"""Settings shared by every environment. Overlays: dev, test, production."""

from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from .env import env_bool, env_int, env_list, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# Runtime files (SQLite database, broker file, uploads) live outside the code and the web root.
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = env_str("SECRET_KEY", "insecure-development-key-do-not-use-in-production")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# The address people reach the site at: QR codes and verification links printed in PDFs point here.
# A worker renders PDFs with no request to ask, so it comes from the environment (`make demo` sets it).
SITE_URL = env_url("SITE_URL", "http://127.0.0.1:8000")

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
    "listing",
    "organizations",
    "registers",
    "documents",
    "flows",
    "oversight",
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
                "project.navigation.navigation",
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
# How often beat seals the tamper-evident log with a Merkle checkpoint (seconds).
LEDGER_CHECKPOINT_SECONDS = env_int("LEDGER_CHECKPOINT_SECONDS", 3600)
# How often beat looks for tasks waiting past their rule's reminder or escalation days (seconds).
REMINDER_SWEEP_SECONDS = env_int("REMINDER_SWEEP_SECONDS", 300)
# How often beat runs the early-warning rules over the registers and matters (seconds).
WARNING_SWEEP_SECONDS = env_int("WARNING_SWEEP_SECONDS", 600)
# How often beat rebuilds every month of the statistics (seconds); each event refreshes its own month at once.
OVERSIGHT_REBUILD_SECONDS = env_int("OVERSIGHT_REBUILD_SECONDS", 24 * 3600)
OVERSIGHT_REFRESH_AFTER_EVENTS = env_bool("OVERSIGHT_REFRESH_AFTER_EVENTS", True)
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
        # Celery would log every task received and done at INFO: the demo console and the worker's log
        # keep warnings and errors only (WORKER_LOG_LEVEL=INFO brings the lines back). Not CELERY_LOG_LEVEL:
        # Celery's worker writes that variable itself, as a number.
        "celery": {"level": env_str("WORKER_LOG_LEVEL", "WARNING").upper()},
        "flows": {"level": "INFO"},
        "organizations": {"level": "INFO"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
