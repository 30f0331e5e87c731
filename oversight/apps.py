from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


class OversightConfig(AppConfig):
    name = "oversight"
    verbose_name = _("Statistics")

    def ready(self):
        from flows.models import Objection, StepRecord

        from . import signals

        post_save.connect(signals.step_record_saved, sender=StepRecord, dispatch_uid="oversight.step_record_saved")
        post_save.connect(signals.objection_saved, sender=Objection, dispatch_uid="oversight.objection_saved")
