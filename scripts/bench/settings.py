"""The benchmark's settings: the test settings, the bare flow's app, and background work as production sends it.

Celery jobs are sent to an in-process memory broker instead of running eagerly (as the test settings
have them): a step pays for queueing its jobs, as it does in production, not for the worker's work.
The ledger's sequencer is queued after each commit and the statistics' refresh too, as in production.
"""

from project.settings.test import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "scripts.bench.apps.BareFlowConfig"]  # noqa: F405
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_URL = "memory://"
CELERY_BROKER_TRANSPORT_OPTIONS = {}
LEDGER_SEQUENCE_ON_COMMIT = True
OVERSIGHT_REFRESH_AFTER_EVENTS = True
# The values in hand of a covered save are not read back to be compared, as in production.
LEDGER_CHECK_VALUES_IN_HAND = False
