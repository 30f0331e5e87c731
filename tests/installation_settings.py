"""Settings of a disposable installation (tests/installation.py): the product as deployed, with fast hashing.

Web servers and workers run as separate processes here, so nothing is eager; DEBUG is off as in production,
but without HTTPS, which the test servers do not speak.
"""

import os

from project.settings.base import *  # noqa: F403

DEBUG = False
CELERY_TASK_ALWAYS_EAGER = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Each installation has a queue of its own, so installations sharing one Redis never take each other's jobs.
CELERY_TASK_DEFAULT_QUEUE = os.environ["SCRATCH_QUEUE"]
if REDIS_URL:  # noqa: F405
    CACHES["default"]["KEY_PREFIX"] = CELERY_TASK_DEFAULT_QUEUE  # noqa: F405
    CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = CELERY_TASK_DEFAULT_QUEUE  # noqa: F405
