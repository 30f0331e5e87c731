"""The embedded demo and day-to-day development: DEBUG on, everything local."""

from .base import *  # noqa: F403

DEBUG = True

# The demo shows reminders and warnings within a minute of starting, not after the production sweep.
REMINDER_SWEEP_SECONDS = env_int("REMINDER_SWEEP_SECONDS", 30)  # noqa: F405
WARNING_SWEEP_SECONDS = env_int("WARNING_SWEEP_SECONDS", 60)  # noqa: F405

# The demo is meant to be tried at once: two-factor login is offered, not required (the banner says so).
MFA_REQUIRED = env_bool("MFA_REQUIRED", False)  # noqa: F405
# The demo signs its log with keys it makes itself under var/ on first use.
LEDGER_KEY_FILE = env_str("LEDGER_KEY_FILE", str(VAR_DIR / "ledger-ed25519.pem"))  # noqa: F405
LEDGER_SM2_KEY_FILE = env_str("LEDGER_SM2_KEY_FILE", str(VAR_DIR / "ledger-sm2.json"))  # noqa: F405
LEDGER_KEY_AUTOCREATE = True
