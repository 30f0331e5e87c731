"""Settings shared by every environment. Overlays: dev, test, production."""

from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.utils.translation import gettext_lazy as _

from .env import env_bool, env_int, env_list, env_str, env_url, storage_from_url

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
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "pgtrigger",
    "listing",
    "organizations",
    "rulebook",
    "protection",
    "registers",
    "documents",
    "flows",
    "administration",
    "oversight",
    "imports",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "csp.middleware.CSPMiddleware",
    # Size limits and NUL checks come before the CSRF check, the first reader of the body.
    "protection.guards.RequestGuardMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "administration.middleware.SecurityLogMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "administration.middleware.SessionPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # django-axes wants to be last.
    "axes.middleware.AxesMiddleware",
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
                "flows.context_processors.live_stream",
                "project.navigation.navigation",
            ],
        },
    },
]

# Database: PostgreSQL when DATABASE_URL is set, otherwise one SQLite file.
# A village's demo runs the web server and the Celery worker on that one file. IMMEDIATE takes the write
# lock at BEGIN, so two writers serialise instead of failing with "database is locked" mid-transaction;
# the timeout (seconds) is how long a writer waits for the other's commit; write-ahead logging lets
# readers and the one writer go on without waiting for each other.
SQLITE_OPTIONS = {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}
DATABASE_URL = env_str("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            "OPTIONS": SQLITE_OPTIONS,
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
# Every job is safe to lose (project/jobs.py): acknowledged once done (acks late, above), given back to
# the broker when the worker process running it dies, and stopped rather than left half-run when the
# worker loses its broker, which then delivers it again.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# Redis gives a message its worker took but never acknowledged (the worker was killed) back to the queue
# after this many seconds. It must outlast every countdown and ETA the product sets (retries back off to
# 600 s at most; publication periods ending later than this are closed by beat's sweep), or Redis would
# deliver those twice. The SQLite broker has no such timeout: beat's sweeps below find what it loses.
REDIS_VISIBILITY_TIMEOUT = env_int("REDIS_VISIBILITY_TIMEOUT", 900)
if REDIS_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": REDIS_VISIBILITY_TIMEOUT,
        # Look for such messages every 10 s rather than every 100 s (kombu's interval × throttle).
        "unacked_restore_interval": 10,
        "unacked_restore_throttle": 1,
    }
# A rendering job whose worker showed no sign of life (a heartbeat) for this long is taken as lost (seconds).
JOB_LEASE_SECONDS = env_int("JOB_LEASE_SECONDS", 120)
JOB_HEARTBEAT_SECONDS = env_int("JOB_HEARTBEAT_SECONDS", 20)
# A job queued this long ago whose work has not started is queued again (seconds).
JOB_REQUEUE_SECONDS = env_int("JOB_REQUEUE_SECONDS", 600)
# How often beat looks for lost jobs: documents pending or rendering, certificates without their PDF (seconds).
JOB_SWEEP_SECONDS = env_int("JOB_SWEEP_SECONDS", 60)
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
# A covered row saved in full is logged from the values in hand; on, it is also read back and compared
# (the tests turn it on, so that every save they make checks that the two agree).
LEDGER_CHECK_VALUES_IN_HAND = False
# An RFC 3161 time-stamping authority for the signed tree heads (optional) and its certificate (PEM).
LEDGER_TSA_URL = env_str("LEDGER_TSA_URL", "")
LEDGER_TSA_CERTIFICATE_FILE = env_str("LEDGER_TSA_CERTIFICATE_FILE", "")
# The whole-log check (documents/ledger_checks.py): how often beat runs it without re-reading the files
# (seconds), and at which hour of the night with them (daily); a result is stale after two periods and
# the grace (what a run may take).
LEDGER_CHECK_SECONDS = env_int("LEDGER_CHECK_SECONDS", 15 * 60)
LEDGER_FILE_CHECK_SECONDS = 24 * 3600
LEDGER_FILE_CHECK_HOUR = env_int("LEDGER_FILE_CHECK_HOUR", 2)
LEDGER_CHECK_GRACE_SECONDS = env_int("LEDGER_CHECK_GRACE_SECONDS", 600)
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
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Level 3: at least 10 characters of three classes, not the username, none of the last five passwords;
    # the security administrator may make the first and last stricter (administration.models.SecurityPolicy).
    {"NAME": "administration.passwords.PolicyLengthValidator"},
    {"NAME": "administration.passwords.CharacterClassesValidator"},
    {"NAME": "administration.passwords.NotTheUsernameValidator"},
    {"NAME": "administration.passwords.PasswordHistoryValidator"},
]
# django-axes checks every login first: lockout per account and per address after the policy's failure
# limit (at most 5), for a cool-off that doubles with each lockout of the day; the security
# administrator unlocks. Addresses come from protection.addresses (trusted proxies, IPv6 /64).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = "administration.lockout.failure_limit"
AXES_COOLOFF_TIME = "administration.lockout.cool_off"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "protection.addresses.axes_client_address"
AXES_LOCKOUT_TEMPLATE = "administration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True  # the security log (administration) records every login and failure
AXES_VERBOSE = False
# Two-factor login (TOTP, django-otp): required for these roles, offered to everyone else.
MFA_REQUIRED = env_bool("MFA_REQUIRED", True)
MFA_REQUIRED_ROLES = frozenset(
    {"township_officer", "township_leader", "county_admin", "discipline_inspector"}
    | {"system_admin", "security_admin", "audit_admin"}
)
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "三资审批")
# Personal data sealed at rest (protection/crypto.py): base64 of 32 random bytes, from the environment.
# `python -c "import os, base64; print(base64.b64encode(os.urandom(32)).decode())"` makes one.
FIELD_ENCRYPTION_KEY = env_str("FIELD_ENCRYPTION_KEY", "ZGV2ZWxvcG1lbnQta2V5LW5vdC1mb3ItcHJvZHVjdGlvbiE=")
FIELD_ENCRYPTION_OLD_KEYS = env_list("FIELD_ENCRYPTION_OLD_KEYS", [])
FIELD_BLIND_INDEX_KEY = env_str("FIELD_BLIND_INDEX_KEY", "")
# aes256gcm (default) or sm4cbc-hmacsm3 (商用密码, for a 密评 assessment).
FIELD_ENCRYPTION_ALGORITHM = env_str("FIELD_ENCRYPTION_ALGORITHM", "aes256gcm")
LOGIN_URL = "login"
# Administrators land on their own work, everyone else in the inbox (administration.views.home).
LOGIN_REDIRECT_URL = "administration:home"
LOGOUT_REDIRECT_URL = "login"
# Level-3 protection asks for a session timeout: idle sessions end after this many seconds. The
# security administrator's policy may shorten it, and adds an absolute limit (administration.middleware).
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

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
# Evidence files, thumbnails and rendered PDFs go to an S3-compatible object store when STORAGE_URL is set
# (s3://KEY:SECRET@host:port/bucket, see settings/env.py), to MEDIA_ROOT otherwise. Code reads and writes
# them only through the storage API (field.open(), storage.save()), never by a path on disk.
STORAGE_URL = env_str("STORAGE_URL", "")
if STORAGE_URL:
    STORAGES["default"] = storage_from_url(STORAGE_URL)
EVIDENCE_MAX_BYTES = env_int("EVIDENCE_MAX_BYTES", 20 * 1024 * 1024)
# Request bodies (protection/guards.py): pages may set their own limit; these are the defaults.
REQUEST_MAX_BYTES = env_int("REQUEST_MAX_BYTES", 200 * 1024 * 1024)
ANONYMOUS_REQUEST_MAX_BYTES = env_int("ANONYMOUS_REQUEST_MAX_BYTES", 64 * 1024)
# The public check of a dossier takes a file up to the evidence limit.
LEDGER_VERIFY_MAX_BYTES = env_int("LEDGER_VERIFY_MAX_BYTES", EVIDENCE_MAX_BYTES)
# The reverse proxies whose CLIENT_ADDRESS_HEADER is believed (addresses or networks, comma-separated).
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
CLIENT_ADDRESS_HEADER = env_str("CLIENT_ADDRESS_HEADER", "X-Forwarded-For")
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# A public objection form can be abused; each client (an IPv4 address, an IPv6 /64) may send this many
# per hour, and one notice takes this many per hour from everyone together.
OBJECTION_RATE_PER_HOUR = env_int("OBJECTION_RATE_PER_HOUR", 5)
OBJECTION_NOTICE_RATE_PER_HOUR = env_int("OBJECTION_NOTICE_RATE_PER_HOUR", 60)
# This many objections to one notice within the hour raise an early warning for the township.
OBJECTION_SURGE_COUNT = env_int("OBJECTION_SURGE_COUNT", 20)

# A Content-Security-Policy on every page (django-csp): nothing but this site's own scripts, styles and
# images; the one inline script carries the request's nonce.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:"],
        "media-src": [SELF, "blob:", "mediastream:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# The security log keeps at least this long; only the audit administrator purges older rows.
SECURITY_LOG_RETENTION_DAYS = env_int("SECURITY_LOG_RETENTION_DAYS", 180)
# Backups (manage.py backup / restore): where archives go, and optionally an object store.
BACKUP_DIR = Path(env_str("BACKUP_DIR", str(VAR_DIR / "backups")))
BACKUP_S3_BUCKET = env_str("BACKUP_S3_BUCKET", "")
# An S3-compatible store other than AWS (MinIO, SeaweedFS, a provincial cloud); credentials from boto3's own
# environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY).
BACKUP_S3_ENDPOINT_URL = env_str("BACKUP_S3_ENDPOINT_URL", "")

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
        "administration": {"level": "INFO"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
