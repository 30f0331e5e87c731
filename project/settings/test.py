"""Test runs: tasks run in-process unless a test starts a real worker."""

import os

from .base import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = True
# The statistics' refresh after each step is tested on its own (tests/oversight): elsewhere it would only add
# a writer next to tests that drive a real worker against SQLite's shared in-memory database.
OVERSIGHT_REFRESH_AFTER_EVENTS = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Most tests sign personas in with force_login; the MFA tests and the authorisation sweep turn it on.
MFA_REQUIRED = False

# Parallel test workers (pytest-xdist) share one Redis: give each its own queue and key space,
# or one worker's Celery consumer would run another worker's task against the wrong database.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
CELERY_TASK_DEFAULT_QUEUE = f"test-{_worker}"
if not REDIS_URL:  # noqa: F405
    # No cache table in the test database: each worker keeps its own in-memory cache.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CACHES["default"]["KEY_PREFIX"] = f"test-{_worker}"
if REDIS_URL:  # noqa: F405
    CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = f"test-{_worker}"  # noqa: F405

# Test runs sign the log with keys of their own, made on first use (never the demo's).
LEDGER_KEY_FILE = str(VAR_DIR / "test-ledger-ed25519.pem")  # noqa: F405
LEDGER_SM2_KEY_FILE = str(VAR_DIR / "test-ledger-sm2.json")  # noqa: F405
LEDGER_KEY_AUTOCREATE = True
# A worker thread sequencing after each commit would write beside the test thread: tests sequence explicitly.
LEDGER_SEQUENCE_ON_COMMIT = False
# Every covered save logged from the values in hand is read back and compared (documents/coverage.py).
LEDGER_CHECK_VALUES_IN_HAND = True
