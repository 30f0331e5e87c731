"""Reads of matters that are more than a filter: inbox, path, history."""

import datetime
from dataclasses import dataclass
from itertools import chain

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from viewflow.workflow.models import Task

from documents.models import Evidence
from organizations.jurisdiction import READ_ONLY_ROLES, user_posts, visible
from organizations.models import Role, RuleVersion

from .models import SPINE, Decision, Matter, MatterStatus, Objection, Step, StepRecord
from .services import ACTIVE, HOLDER_ROLES, MEETING_STEPS, STEP_ROLES

MEETING_STEP_VALUES = [*MEETING_STEPS.values(), Step.RESOLVE_BY_MEMBERS]
OVERDUE, ESCALATED = "overdue", "escalated"
OVERDUE_LEVELS = [
    (OVERDUE, gettext_lazy("Past the reminder days")),
    (ESCALATED, gettext_lazy("Escalated to the township leader")),
]


def matters_for(user) -> QuerySet:
    return visible(user, Matter.objects.select_related("organization", "organization__parent", "applicant"))


# --- waiting and overdue -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Waiting:
    """How long a matter has waited at its step, and whether that is past the rule table's days."""

    since: datetime.datetime
    days: int
    level: str  # "", OVERDUE or ESCALATED

    @property
    def is_overdue(self) -> bool:
        return bool(self.level)

    @property
    def label(self) -> str:
        return dict(OVERDUE_LEVELS).get(self.level, "")


def waiting_of(matter: Matter, now: datetime.datetime | None = None) -> Waiting | None:
    """The matter's wait at a step a person holds; None once it has ended or while a notice is up.

    The days are those of the rule version the matter started under, as the reminders (flows/reminders.py)
    count them: reminded after ``reminder_days``, escalated after the further ``escalation_days``.
    """
    if not matter.is_open or matter.next_step not in HOLDER_ROLES:
        return None
    now = now or timezone.now()
    waited = now - matter.step_since
    version = matter.rule_version
    level = ""
    if waited >= datetime.timedelta(days=version.reminder_days + version.escalation_days):
        level = ESCALATED
    elif waited >= datetime.timedelta(days=version.reminder_days):
        level = OVERDUE
    return Waiting(since=matter.step_since, days=waited.days, level=level)


def overdue_condition(level: str, now: datetime.datetime | None = None) -> Q:
    """Matters waiting at a held step past the reminder days (or, for ESCALATED, past escalation too).

    Each rule version has its own days; one condition per distinct pair keeps this a single query
    for the pairs, however many matters there are (the same shape as reminders.due_reminders)."""
    now = now or timezone.now()
    pairs = (
        RuleVersion.objects.filter(matters__status=MatterStatus.IN_PROGRESS)
        .values_list("reminder_days", "escalation_days")
        .distinct()
    )
    condition = Q(pk__in=[])
    for reminder_days, escalation_days in pairs:
        days = reminder_days + escalation_days if level == ESCALATED else reminder_days
        condition |= Q(
            rule_version__reminder_days=reminder_days,
            rule_version__escalation_days=escalation_days,
            step_since__lte=now - datetime.timedelta(days=days),
        )
    return condition & Q(status=MatterStatus.IN_PROGRESS, next_step__in=sorted(HOLDER_ROLES))


def overview_is_home(user) -> bool:
    """County administrators and inspectors act on no step: their home page is the statistics overview."""
    posts = user_posts(user)
    return bool(posts) and all(post.role in READ_ONLY_ROLES for post in posts)


def standing_return(matter: Matter) -> StepRecord | None:
    """The return (or failed vote) that sent the matter back to where it waits now, to head its page."""
    if not matter.is_open:
        return None
    latest = (
        matter.step_records.exclude(decision=Decision.DELEGATE)
        .select_related("actor", "on_behalf_of", "meeting")
        .order_by("-acted_at", "-pk")
        .first()
    )
    if latest is None:
        return None
    if latest.decision == Decision.RETURN and latest.return_to == matter.next_step:
        return latest
    if latest.decision == Decision.FAILED and matter.next_step == Step.APPLY:
        return latest
    return None


def _steps_by_role() -> dict[str, set[str]]:
    steps: dict[str, set[str]] = {}
    for step, roles in STEP_ROLES.items():
        for role in roles:
            steps.setdefault(role, set()).add(step.value)
    steps.setdefault(Role.VILLAGE_SUPERVISOR, set()).update(MEETING_STEP_VALUES)
    return steps


def inbox_for(user) -> QuerySet:
    """Open matters waiting at a step one of the user's posts may act on, with their open task."""
    steps_by_role = _steps_by_role()
    condition = Q(pk__in=[])
    for post in user_posts(user):
        steps = steps_by_role.get(post.role)
        if steps:
            condition |= Q(organization__path__startswith=post.organization.path, next_step__in=sorted(steps))
    active_tasks = Task.objects.filter(status__in=ACTIVE).select_related("owner").order_by("pk")
    return (
        Matter.objects.filter(condition, status=MatterStatus.IN_PROGRESS)
        # Whether a batch may take it: a matter without evidence is always approved on its own.
        .annotate(
            has_evidence=Exists(Evidence.objects.filter(matter=OuterRef("pk"))),
            has_application_file=Exists(Evidence.objects.filter(matter=OuterRef("pk"), step=Step.APPLY)),
        )
        .select_related("organization", "organization__parent", "applicant", "rule_version")
        .prefetch_related(Prefetch("process__task_set", queryset=active_tasks, to_attr="active_tasks"))
        .order_by("step_since", "pk")
    )


def open_objections_for(user) -> QuerySet:
    supervised = [post for post in user_posts(user) if post.role == Role.VILLAGE_SUPERVISOR]
    condition = Q(pk__in=[])
    for post in supervised:
        condition |= Q(notice__organization__path__startswith=post.organization.path)
    return Objection.objects.filter(condition, handled_at__isnull=True).select_related("notice", "notice__matter")


def matter_path(matter: Matter) -> list[dict]:
    """Every spine step with its state for this matter: done, current, to come, or not required."""
    done = {record.step for record in matter.step_records.all()}
    required = matter.required_steps
    position = required.index(matter.next_step) if matter.next_step in required else len(required)
    path = []
    for step in SPINE:
        if step.value not in required:
            state = "skipped"
        elif matter.is_open and step.value == matter.next_step:
            state = "current"
        elif required.index(step.value) < position or (not matter.is_open and step.value in done):
            state = "done"
        else:
            state = "pending"
        path.append({"step": step.value, "label": step.label, "state": state})
    return path


def matter_history(matter: Matter) -> list:
    """Every saved change of the matter and its records, newest first, with field-level diffs."""
    flow_class = matter.process.flow_class if matter.process_id else None
    related = [matter.history.all()]
    if flow_class is not None:
        related.extend(flow_class.instance.history_querysets(matter))
    entries = sorted(chain.from_iterable(related), key=lambda row: row.history_date, reverse=True)
    for entry in entries:
        previous = entry.prev_record
        entry.changes = entry.diff_against(previous).changes if previous else []
        entry.record_label = entry.instance_type._meta.verbose_name
    return entries


def open_matters_on_asset(asset, *, excluding=None) -> QuerySet:
    """Running leasing or disposal matters about this asset (but ``excluding``): a second one must wait."""
    matters = Matter.objects.filter(status=MatterStatus.IN_PROGRESS).filter(
        Q(leasing__asset=asset) | Q(disposal__asset=asset)
    )
    if excluding is not None:
        matters = matters.exclude(pk=excluding.pk)
    return matters


def asset_running_matter_message(asset, *, excluding=None) -> str:
    """Why another running leasing or disposal matter blocks the asset, or "" when none does."""
    running = open_matters_on_asset(asset, excluding=excluding).first()
    if running is None:
        return ""
    return _("%(asset)s is already in the running matter “%(title)s”.") % {"asset": asset, "title": running.title}
