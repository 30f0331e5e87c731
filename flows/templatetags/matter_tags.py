"""How records, tasks and periods read on a page: "冯副镇长（代郑镇长）", "已完成", "2026年5月1日至5月8日"."""

import datetime

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from viewflow.workflow.status import STATUS

from organizations.amounts import yuan_short
from organizations.people import display_name

register = template.Library()

# viewflow's own task statuses carry no Chinese; these say what the state means for the matter.
TASK_STATUS_LABELS = {
    STATUS.NEW: pgettext_lazy("task", "Waiting"),
    STATUS.ASSIGNED: gettext_lazy("Taken"),
    STATUS.STARTED: gettext_lazy("Being handled"),
    STATUS.DONE: pgettext_lazy("task", "Done"),
    STATUS.CANCELED: gettext_lazy("Cancelled"),
    STATUS.ERROR: gettext_lazy("Failed"),
    STATUS.SCHEDULED: gettext_lazy("Scheduled"),
    STATUS.REVIVED: gettext_lazy("Revived"),
}


@register.filter
def acted_by(record) -> str:
    """Who acted, and for whom when the task was handed over: "冯副镇长（代郑镇长）"."""
    actor = display_name(record.actor) or "—"
    if record.on_behalf_of_id:
        return _("%(actor)s (for %(principal)s)") % {"actor": actor, "principal": display_name(record.on_behalf_of)}
    return actor


@register.filter
def decision_and_opinion(record) -> str:
    """ "同意：请按批复实施", but "通过：6人中赞成6票" once, when the opinion already begins with the decision."""
    decision = str(record.get_decision_display())
    opinion = record.opinion.strip()
    if not opinion or opinion == decision:
        return decision
    if opinion.startswith(decision):
        return opinion
    return f"{decision}：{opinion}"


@register.filter
def task_status(task) -> str:
    return str(TASK_STATUS_LABELS.get(task.status, task.status))


def _day(moment) -> datetime.date:
    if isinstance(moment, datetime.datetime):
        return timezone.localtime(moment).date() if timezone.is_aware(moment) else moment.date()
    return moment


@register.filter
def day(moment) -> str:
    """A date as the board and the pages write it (zh: 2026年5月1日)."""
    if not moment:
        return "—"
    return date_format(_day(moment), "DATE_FORMAT")


@register.simple_tag
def period(start, end) -> str:
    """A publication period as dates in one style: "2026年5月1日至2026年5月8日"."""
    return _("%(start)s to %(end)s") % {"start": day(start), "end": day(end)}


@register.filter
def yuan(amount) -> str:
    return yuan_short(amount) if amount is not None else "—"
