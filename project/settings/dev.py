"""The embedded demo and day-to-day development: DEBUG on, everything local."""

from .base import *  # noqa: F403

DEBUG = True
