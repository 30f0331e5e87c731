"""Rate-limit counters: one row per key, counted under a row lock so that simultaneous requests never overshoot."""

from django.db import models


class RateCounter(models.Model):
    """How many times ``key`` was used in the window that began at ``window_started_at``."""

    key = models.CharField(max_length=200, unique=True)
    window_started_at = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["window_started_at"])]

    def __str__(self):
        return f"{self.key}: {self.count}"
