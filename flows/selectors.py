"""Reads of matters that are more than a filter: inbox, path, history."""

from itertools import chain

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _
from viewflow.workflow.models import Task

from organizations.jurisdiction import user_posts, visible
from organizations.models import Role

from .models import SPINE, Matter, MatterStatus, Objection, Step
from .services import ACTIVE, MEETING_STEPS, STEP_ROLES

MEETING_STEP_VALUES = [*MEETING_STEPS.values(), Step.RESOLVE_BY_MEMBERS]


def matters_for(user) -> QuerySet:
    return visible(user, Matter.objects.select_related("organization", "applicant"))


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
        .select_related("organization", "organization__parent", "applicant")
        .prefetch_related(Prefetch("process__task_set", queryset=active_tasks, to_attr="active_tasks"))
        .order_by("updated_at", "pk")
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


def lock_asset_for_application(asset_pk: int, *, matter):
    """Check again under the asset's row lock: of two applications for one asset sent at once, the
    second waits for the first to commit, then sees it. no_key: the matter insert holds a key-share lock."""
    from django.core.exceptions import ValidationError

    from registers.models import Asset

    asset = Asset.objects.select_for_update(no_key=True).get(pk=asset_pk)
    if message := asset_running_matter_message(asset, excluding=matter):
        raise ValidationError({"asset": message})
    return asset
