"""Every step record and objection refreshes its collective's month of figures once it has committed."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .figures import local_month
from .tasks import refresh_soon


def _after_commit(organization_id: int, moment) -> None:
    if not settings.OVERSIGHT_REFRESH_AFTER_EVENTS:
        return
    month = local_month(moment or timezone.now())
    # robust: the statistics must never turn a saved step into an error page; the nightly rebuild catches up.
    transaction.on_commit(lambda: refresh_soon(organization_id, month), robust=True)


def step_record_saved(sender, instance, created: bool, **kwargs) -> None:
    if created:
        _after_commit(instance.matter.organization_id, instance.acted_at)


def objection_saved(sender, instance, created: bool, **kwargs) -> None:
    _after_commit(instance.notice.organization_id, instance.handled_at or instance.submitted_at)
