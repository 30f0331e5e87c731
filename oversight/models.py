"""Summary tables of the statistics pages, rebuilt by Celery from the rows (oversight/figures.py).

A page of a township, county or province adds these up with indexed aggregate queries; it never loads
matters. Each row covers one collective and one month, so a refresh after a step rewrites a handful of
rows, and the rows of a province's year stay in the tens of thousands whatever the number of matters.
"""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from organizations.models import TransactionType


class MonthlyFigures(models.Model):
    """What one collective's matters of one type did in one month."""

    organization = models.ForeignKey(
        "organizations.Organization", verbose_name=_("collective"), on_delete=models.CASCADE, related_name="+"
    )
    month = models.DateField(_("month"))  # the first day of the month, local time
    transaction_type = models.CharField(_("transaction type"), max_length=30, choices=TransactionType.choices)
    started = models.PositiveIntegerField(_("applied"), default=0)
    finished = models.PositiveIntegerField(_("archived"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    withdrawn = models.PositiveIntegerField(_("withdrawn"), default=0)
    returned = models.PositiveIntegerField(_("returns"), default=0)
    approved = models.PositiveIntegerField(_("approved"), default=0)
    approved_amount = models.DecimalField(
        _("amount approved (yuan)"), max_digits=18, decimal_places=2, default=Decimal("0.00")
    )
    objections_raised = models.PositiveIntegerField(_("objections raised"), default=0)
    objections_handled = models.PositiveIntegerField(_("objections handled"), default=0)
    refreshed_at = models.DateTimeField(_("refreshed at"), auto_now=True)

    class Meta:
        ordering = ["month", "organization", "transaction_type"]
        verbose_name = _("monthly figures")
        verbose_name_plural = _("monthly figures")
        constraints = [
            models.UniqueConstraint(fields=["organization", "month", "transaction_type"], name="one_figure_row")
        ]
        indexes = [models.Index(fields=["month", "organization"])]

    def __str__(self):
        return f"{self.organization_id} {self.month:%Y-%m} {self.transaction_type}"


class StepDurations(models.Model):
    """How many steps of one collective, finished in one month, took this many whole hours: a histogram,
    so that medians and percentiles of any part of the tree add up without keeping each step."""

    organization = models.ForeignKey(
        "organizations.Organization", verbose_name=_("collective"), on_delete=models.CASCADE, related_name="+"
    )
    month = models.DateField(_("month"))
    step = models.CharField(_("step"), max_length=40)
    hours = models.PositiveIntegerField(_("hours"))
    count = models.PositiveIntegerField(_("steps"))

    class Meta:
        ordering = ["month", "organization", "step", "hours"]
        verbose_name = _("step durations")
        verbose_name_plural = _("step durations")
        constraints = [
            models.UniqueConstraint(fields=["organization", "month", "step", "hours"], name="one_duration_bucket")
        ]
        indexes = [models.Index(fields=["month", "organization"])]

    def __str__(self):
        return f"{self.organization_id} {self.month:%Y-%m} {self.step} {self.hours}h×{self.count}"
