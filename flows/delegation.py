"""Delegation (转办/委托): a township officer or leader who is away hands their tasks to another holder of
the same post, at once (the tasks they hold) and for a period (the tasks of their post that arrive).

The shape is viewflow's: a handed-over task is reassigned (``activation.reassign``, the hook the cookbook's
``workflow101/substitute`` sample wires to a view), and a task that arrives during the period is assigned
to the delegate as it is made (the nodes' ``.Assign`` and ``.onCreate`` in flows/spine.py). Each hand-over
is a ``DelegatedTask`` row and a "转办" step record in the matter's history; whoever then acts on the task
acts for the delegator, and the record says so. The delegate holds the same post in the same organisation,
and only tasks of matters under that organisation are handed over, so a delegation never reaches beyond the
delegator's jurisdiction.
"""

import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from organizations.jurisdiction import user_posts
from organizations.models import Post, Role
from organizations.people import display_name

from . import services
from .models import Decision, DelegatedTask, Delegation, Matter, MatterStatus, NotificationKind, StepRecord
from .notifications import notify

DELEGABLE_ROLES = frozenset({Role.TOWNSHIP_OFFICER, Role.TOWNSHIP_LEADER})
# A delegation covers an absence, not a change of post: that is the county administrator's work.
LONGEST_DELEGATION = datetime.timedelta(days=92)


def delegable_posts(user) -> list[Post]:
    return [post for post in user_posts(user) if post.role in DELEGABLE_ROLES]


def fellow_holders(post: Post) -> QuerySet:
    """Other active users holding the same role in the same organisation: whom the post may be handed to."""
    return (
        get_user_model()
        .objects.filter(is_active=True, posts__organization_id=post.organization_id, posts__role=post.role)
        .exclude(pk=post.user_id)
        .distinct()
        .order_by("last_name", "first_name", "pk")
    )


def steps_of_role(role: str) -> list[str]:
    return sorted(step.value for step, roles in services.STEP_ROLES.items() if role in roles)


def _overlapping(queryset: QuerySet, starts_on, ends_on) -> QuerySet:
    return queryset.filter(revoked_at__isnull=True, starts_on__lte=ends_on, ends_on__gte=starts_on)


def delegations_of(user) -> QuerySet:
    """Delegations the user gave or received, newest first."""
    return (
        Delegation.objects.filter(Q(delegator=user) | Q(delegate=user))
        .select_related("delegator", "delegate", "organization")
        .annotate(task_count=Count("tasks"))
    )


def delegation_create(
    *,
    user,
    post: Post,
    delegate,
    starts_on: datetime.date,
    ends_on: datetime.date,
    reason: str,
    hand_over_now: bool,
) -> Delegation:
    """Hand the post's tasks to ``delegate`` for the period; with ``hand_over_now`` also the tasks held today."""
    if post.user_id != user.pk or post.role not in DELEGABLE_ROLES:
        raise PermissionDenied
    today = timezone.localdate()
    errors = {}
    if delegate is None or not fellow_holders(post).filter(pk=delegate.pk).exists():
        errors["delegate"] = _("Choose someone who holds the same post in %(place)s.") % {"place": post.organization}
    if starts_on < today:
        errors["starts_on"] = _("A delegation cannot start in the past.")
    if ends_on < starts_on:
        errors["ends_on"] = _("The end date is before the start date.")
    elif ends_on - starts_on > LONGEST_DELEGATION:
        errors["ends_on"] = _("A delegation lasts at most %(days)s days.") % {"days": LONGEST_DELEGATION.days}
    if not reason.strip():
        errors["reason"] = _("Say why the tasks are handed over (leave, training, …).")
    if hand_over_now and starts_on != today:
        errors["hand_over_now"] = _("Tasks held now can only be handed over by a delegation that starts today.")
    if errors:
        raise ValidationError(errors)
    same_post = Delegation.objects.filter(organization_id=post.organization_id, role=post.role)
    if _overlapping(same_post.filter(delegator=user), starts_on, ends_on).exists():
        raise ValidationError(_("You have already handed over this post for part of this period; end that first."))
    if _overlapping(same_post.filter(delegator=delegate), starts_on, ends_on).exists():
        raise ValidationError(
            {"delegate": _("%(name)s has handed this post over for part of this period.") % {"name": delegate}}
        )
    with transaction.atomic():
        delegation = Delegation(
            delegator=user,
            delegate=delegate,
            organization=post.organization,
            role=post.role,
            starts_on=starts_on,
            ends_on=ends_on,
            reason=reason.strip(),
        )
        delegation.full_clean()
        delegation.save()
    if hand_over_now:
        delegation_hand_over_held(delegation=delegation)
    return delegation


def tasks_held(delegation: Delegation) -> QuerySet:
    """Open tasks the delegator has taken at the post's steps, of matters under the post's organisation."""
    condition = Q(pk__in=[])
    for step in steps_of_role(delegation.role):
        condition |= Q(flow_task__endswith=f".{step}")
    return Task.objects.filter(
        condition,
        owner=delegation.delegator,
        status=STATUS.ASSIGNED,
        process__matter__status=MatterStatus.IN_PROGRESS,
        process__matter__organization__path__startswith=delegation.organization.path,
    ).order_by("pk")


def delegation_hand_over_held(*, delegation: Delegation) -> list[Matter]:
    """Reassign every task the delegator holds under the delegation, each in its own transaction."""
    handed = []
    for task_id in list(tasks_held(delegation).values_list("pk", flat=True)):
        matter = _hand_over(delegation=delegation, task_id=task_id)
        if matter is not None:
            handed.append(matter)
    if handed:
        notify(
            [delegation.delegate],
            kind=NotificationKind.DELEGATED,
            title=_("%(name)s handed %(count)s tasks over to you until %(until)s")
            % {"name": display_name(delegation.delegator), "count": len(handed), "until": delegation.ends_on},
            body="、".join(matter.title for matter in handed),
            url=reverse("flows:inbox"),
            data={"delegation": delegation.pk},
        )
    return handed


def _hand_over(*, delegation: Delegation, task_id: int) -> Matter | None:
    task = Task.objects.select_related("process").get(pk=task_id)
    with task.flow_task.flow_class.lock(task.process_id):
        task.refresh_from_db()
        if task.status != STATUS.ASSIGNED or task.owner_id != delegation.delegator_id:
            return None  # handled or released meanwhile: nothing to hand over
        matter = Matter.objects.select_related("organization").get(process_id=task.process_id)
        activation = task.flow_task.activation_class(task)
        activation.reassign(user=delegation.delegate)
        _record_hand_over(delegation=delegation, task=task, matter=matter)
    return matter


def _record_hand_over(*, delegation: Delegation, task: Task, matter: Matter) -> None:
    DelegatedTask.objects.create(
        task=task, delegation=delegation, from_user=delegation.delegator, to_user=delegation.delegate
    )
    record = StepRecord(
        matter=matter,
        step=task.flow_task.name,
        decision=Decision.DELEGATE,
        actor=delegation.delegator,
        task=task,
        opinion=_("Handed over to %(name)s from %(start)s to %(end)s: %(reason)s")
        % {
            "name": display_name(delegation.delegate),
            "start": delegation.starts_on,
            "end": delegation.ends_on,
            "reason": delegation.reason,
        },
    )
    record.full_clean()
    record.save()


def delegation_end(*, user, delegation_id: int) -> Delegation:
    """The delegator ends the delegation early; tasks already handed over stay with the delegate."""
    with transaction.atomic():
        delegation = Delegation.objects.select_for_update().get(pk=delegation_id)
        if delegation.delegator_id != user.pk:
            raise PermissionDenied
        if delegation.revoked_at is not None or delegation.ends_on < timezone.localdate():
            raise services.TaskConflict(_("This delegation has already ended."))
        delegation.revoked_at = timezone.now()
        delegation.save()
    return delegation


# --- tasks that arrive during a delegation (hooks of the spine's township nodes) ---------------------------


def delegation_for(matter: Matter, step: str, day: datetime.date | None = None) -> Delegation | None:
    """The delegation in force on ``day`` for a post that acts at ``step`` over the matter's organisation."""
    day = day or timezone.localdate()
    roles = [role for role in services.STEP_ROLES.get(step, ()) if role in DELEGABLE_ROLES]
    if not roles:
        return None
    places = [*matter.organization.ancestor_ids(), matter.organization_id]
    return (
        Delegation.objects.filter(
            role__in=roles,
            organization_id__in=places,
            revoked_at__isnull=True,
            starts_on__lte=day,
            ends_on__gte=day,
            delegate__is_active=True,
        )
        .select_related("delegator", "delegate")
        .order_by("created_at", "pk")
        .first()
    )


def delegated_owner(activation):
    """``.Assign`` of a township node: the delegate, while a delegation of the step's post is in force."""
    process = activation.process
    if Matter._meta.get_field("process").remote_field.is_cached(process):
        matter = process.matter  # the step's own, in hand with its organisation: not read again
    else:
        matter = Matter.objects.select_related("organization").filter(process_id=process.pk).first()
    if matter is None:
        return None
    delegation = delegation_for(matter, activation.flow_task.name)
    # Kept for onCreate, which records the hand-over once the task has its primary key.
    activation.delegation = delegation
    activation.delegated_matter = matter
    return delegation.delegate if delegation is not None else None


def record_delegated_task(activation) -> None:
    """``.onCreate`` of a township node: a task assigned by a delegation is recorded as handed over."""
    delegation = getattr(activation, "delegation", None)
    if delegation is None or activation.task.owner_id != delegation.delegate_id:
        return
    _record_hand_over(delegation=delegation, task=activation.task, matter=activation.delegated_matter)
