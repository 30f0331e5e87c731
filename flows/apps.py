from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


class FlowsConfig(AppConfig):
    name = "flows"
    verbose_name = _("Matters and approvals")

    def ready(self):
        from viewflow.workflow.models import Task

        from . import events
        from .models import StepRecord

        # New tasks and decisions are announced from the rows themselves, so that every path that
        # makes them (views, services, Celery's publication close, the demo seed) is covered.
        post_save.connect(events.task_saved, sender=Task, dispatch_uid="flows.events.task_saved")
        post_save.connect(events.step_record_saved, sender=StepRecord, dispatch_uid="flows.events.step_record_saved")
