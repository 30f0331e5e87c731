"""Evidence files: what each step of a matter proves, fingerprinted on arrival."""

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


def evidence_path(instance, filename: str) -> str:
    # The server names stored files; the uploader's name is kept only as data.
    return f"evidence/{instance.matter_id}/{uuid.uuid4().hex}{instance.extension}"


class Evidence(models.Model):
    matter = models.ForeignKey("flows.Matter", on_delete=models.PROTECT, related_name="evidence")
    step = models.CharField(_("step"), max_length=40)
    step_record = models.ForeignKey(
        "flows.StepRecord", null=True, blank=True, on_delete=models.PROTECT, related_name="evidence"
    )
    meeting = models.ForeignKey(
        "flows.Meeting", null=True, blank=True, on_delete=models.PROTECT, related_name="evidence"
    )
    file = models.FileField(upload_to=evidence_path)
    original_name = models.CharField(_("original name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=50)
    extension = models.CharField(max_length=10)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["uploaded_at", "pk"]
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")

    def __str__(self):
        return self.original_name

    def get_absolute_url(self):
        return reverse("documents:evidence_download", args=[self.pk])
