"""Reminders (催办) and escalation: which waiting tasks are overdue, and sending each reminder once.

A human task that has waited longer than its matter's rule-table ``reminder_days`` reminds whoever
holds it; after a further ``escalation_days`` it escalates to the township leaders over the
organisation, and the holder hears that it did. The days come from the rule version the matter
started under, so a county's later edit never changes a running matter's clock. A ``TaskReminder``
row per task and level is the guard: beat firing twice, or two workers at once, send one.
"""

import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from viewflow.workflow.models import Task

from organizations.jurisdiction import users_holding
from organizations.models import Role, RuleVersion
from organizations.people import display_name

from .models import Matter, MatterStatus, NotificationKind, ReminderLevel, Step, TaskReminder
from .notifications import notify
from .services import ACTIVE, HOLDER_ROLES

ESCALATION_ROLES = frozenset({Role.TOWNSHIP_LEADER})
LEVELS_IN_ORDER = [ReminderLevel.REMIND.value, ReminderLevel.ESCALATE.value]


def days_before_level(rule_version: RuleVersion, level: str) -> int:
    """How many days a task waits before this level is due: the reminder, then the further escalation days."""
    if level == ReminderLevel.REMIND:
        return rule_version.reminder_days
    return rule_version.reminder_days + rule_version.escalation_days


def _human_step_filter() -> Q:
    # The stored task reference ends with the node's name ("flows/asset_purchase.AssetPurchaseFlow.propose").
    condition = Q(pk__in=[])
    for step in sorted(HOLDER_ROLES):
        condition |= Q(flow_task__endswith=f".{step}")
    return condition


def open_human_tasks():
    """Active tasks at a human step of a matter still in progress."""
    return Task.objects.filter(
        _human_step_filter(), status__in=ACTIVE, process__matter__status=MatterStatus.IN_PROGRESS
    )


def due_reminders(*, now: datetime.datetime | None = None) -> list[tuple[int, str]]:
    """(task id, level) of every reminder and escalation due now and not sent yet, oldest task first."""
    now = now or timezone.now()
    # Matters keep their rule version, and versions hold the days: one condition per distinct pair
    # of days keeps this three queries (the pairs, then one per level) however many matters wait.
    day_pairs = (
        RuleVersion.objects.filter(matters__status=MatterStatus.IN_PROGRESS)
        .values_list("reminder_days", "escalation_days")
        .distinct()
    )
    overdue = {ReminderLevel.REMIND: Q(pk__in=[]), ReminderLevel.ESCALATE: Q(pk__in=[])}
    for reminder_days, escalation_days in day_pairs:
        same_days = Q(
            process__matter__rule_version__reminder_days=reminder_days,
            process__matter__rule_version__escalation_days=escalation_days,
        )
        overdue[ReminderLevel.REMIND] |= same_days & Q(created__lte=now - datetime.timedelta(days=reminder_days))
        overdue[ReminderLevel.ESCALATE] |= same_days & Q(
            created__lte=now - datetime.timedelta(days=reminder_days + escalation_days)
        )
    due = []
    for level, condition in overdue.items():
        sent = TaskReminder.objects.filter(level=level).values("task_id")
        task_ids = open_human_tasks().filter(condition).exclude(pk__in=sent).order_by("pk").values_list("pk", flat=True)
        due.extend((task_id, level.value) for task_id in task_ids)
    # A task overdue on both counts is reminded before it is escalated, as its record will read.
    return sorted(due, key=lambda item: (item[0], LEVELS_IN_ORDER.index(item[1])))


def task_holders(task: Task, matter: Matter) -> list:
    """Who holds a task: its owner once someone has taken it, else everyone who may act at its step."""
    if task.owner_id and task.owner.is_active:
        return [task.owner]
    return list(users_holding(matter.organization, HOLDER_ROLES[task.flow_task.name]))


def reminder_send(*, task_id: int, level: str, now: datetime.datetime | None = None) -> TaskReminder | None:
    """Send the reminder or escalation of one task if it is due and not sent yet; None when nothing was sent.

    The row and the notifications commit together, so a failure leaves neither and a retry starts clean.
    """
    now = now or timezone.now()
    with transaction.atomic():
        task = Task.objects.select_related("owner").filter(pk=task_id).first()
        if task is None or task.status not in ACTIVE:
            return None
        step = task.flow_task.name
        matter = (
            Matter.objects.select_related("organization", "rule_version").filter(process_id=task.process_id).first()
        )
        if matter is None or not matter.is_open or step not in HOLDER_ROLES:
            return None
        if task.created > now - datetime.timedelta(days=days_before_level(matter.rule_version, level)):
            return None
        if TaskReminder.objects.filter(task=task, level=level).exists():
            return None
        try:
            # A savepoint: of two senders at once, the second waits on the unique index, then lands here.
            with transaction.atomic():
                reminder = TaskReminder.objects.create(task=task, matter=matter, step=step, level=level)
        except IntegrityError:
            return None
        waited = (now - task.created).days
        holders = task_holders(task, matter)
        if level == ReminderLevel.REMIND:
            _notify_reminder(matter=matter, task=task, step=step, waited=waited, holders=holders)
        else:
            _notify_escalation(matter=matter, task=task, step=step, waited=waited, holders=holders)
    return reminder


def _words(matter: Matter, step: str, waited: int) -> dict:
    return {"title": matter.title, "step": str(Step(step).label), "days": waited, "place": str(matter.organization)}


def _notify_reminder(*, matter: Matter, task: Task, step: str, waited: int, holders: list) -> None:
    words = _words(matter, step, waited)
    notify(
        holders,
        kind=NotificationKind.REMINDER,
        title=_("Reminder: “%(title)s” has waited %(days)s days at %(step)s") % words,
        body=_("Please handle this step of %(place)s. If it waits %(more)s more days it goes to the township leader.")
        % {**words, "more": matter.rule_version.escalation_days},
        url=matter.get_absolute_url(),
        matter=matter,
        task_id=task.pk,
        data={"step": step, "level": ReminderLevel.REMIND.value, "waited_days": waited},
    )


def _notify_escalation(*, matter: Matter, task: Task, step: str, waited: int, holders: list) -> None:
    words = _words(matter, step, waited)
    leaders = list(users_holding(matter.organization, ESCALATION_ROLES))
    data = {"step": step, "level": ReminderLevel.ESCALATE.value, "waited_days": waited}
    notify(
        leaders,
        kind=NotificationKind.ESCALATION,
        title=_("Escalated: “%(title)s” of %(place)s has waited %(days)s days at %(step)s") % words,
        body=_("Waiting for: %(holders)s.") % {"holders": "、".join(display_name(user) for user in holders) or "—"},
        url=matter.get_absolute_url(),
        matter=matter,
        task_id=task.pk,
        data=data,
    )
    # A leader who holds the step (the approval itself) has just heard of it above.
    notify(
        holders,
        kind=NotificationKind.ESCALATION,
        title=_("Escalated to the township leader: “%(title)s” has waited %(days)s days at %(step)s") % words,
        body=_("The township leader has been told that this step of %(place)s is still waiting.") % words,
        url=matter.get_absolute_url(),
        matter=matter,
        task_id=task.pk,
        data=data,
        exclude=leaders,
    )
