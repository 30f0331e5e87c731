"""Test runs: tasks run in-process unless a test starts a real worker."""

import os

from .base import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests assert on English messages; the Chinese default is tested on its own.
LANGUAGE_CODE = "zh-hans"

# Parallel test workers (pytest-xdist) share one Redis: give each its own queue and key space,
# or one worker's Celery consumer would run another worker's task against the wrong database.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
CELERY_TASK_DEFAULT_QUEUE = f"test-{_worker}"
CACHES["default"]["KEY_PREFIX"] = f"test-{_worker}"  # noqa: F405
if REDIS_URL:  # noqa: F405
    CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = f"test-{_worker}"  # noqa: F405
