"""Test runs: tasks run in-process unless a test starts a real worker."""

from .base import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests assert on English messages; the Chinese default is tested on its own.
LANGUAGE_CODE = "zh-hans"
