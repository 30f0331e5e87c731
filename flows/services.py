"""Every write a matter goes through: apply, act on a step, meet, publish, object, withdraw, archive."""

import datetime
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Subquery
from django.db.models.signals import m2m_changed
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from simple_history.models import HistoricalRecords
from simple_history.utils import bulk_create_with_history
from viewflow import this
from viewflow.fsm import TransitionNotAllowed
from viewflow.workflow.fields import get_task_ref
from viewflow.workflow.lock import SelectForUpdateLock
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import STATUS

from documents import ledger
from documents.coverage import log_rows
from documents.rendering import dossier_request
from documents.services import evidence_check, evidence_store
from organizations.jurisdiction import require_act
from organizations.models import LAW_NOTICE_DAYS, MeetingBody, MeetingRule, OnFailedVote, OrganizationKind, Role
from organizations.people import display_name
from organizations.rules import band_for, evaluate_vote, rule_version_in_force
from organizations.signals import security_event
from project.jobs import enqueue_on_commit
from protection.addresses import client_network
from protection.throttle import Limit, throttle_hit
from registers.models import Member, MemberStatus
from registers.reservations import reservations_consume, reservations_release

from . import events, notifications
from .catalogue import flow_for
from .models import (
    END,
    SPINE,
    AttendanceWay,
    Decision,
    DelegatedTask,
    Matter,
    MatterStatus,
    Meeting,
    MeetingAttendance,
    MeetingDecision,
    MeetingNotice,
    Notice,
    NoticeKind,
    Objection,
    Step,
    StepRecord,
)

# Who may act at each human step of the spine. Meetings belong to the supervisor.
STEP_ROLES = {
    Step.APPLY: {Role.VILLAGE_SECRETARY, Role.VILLAGE_CASHIER},
    Step.PROPOSE: {Role.VILLAGE_SECRETARY},
    Step.CHECK_BY_TOWNSHIP: {Role.TOWNSHIP_OFFICER},
    Step.APPROVE_BY_TOWNSHIP: {Role.TOWNSHIP_LEADER},
    Step.IMPLEMENT: {Role.VILLAGE_SECRETARY, Role.VILLAGE_CASHIER},
}
# Who holds a waiting step: those who act on it, and the supervisor who records its meeting.
# Publication steps wait for their period to end, not for a person, so nobody holds them.
HOLDER_ROLES: dict[str, frozenset[str]] = {
    **{step.value: frozenset(roles) for step, roles in STEP_ROLES.items()},
    Step.DELIBERATE.value: frozenset({Role.VILLAGE_SUPERVISOR}),
    Step.REVIEW_BY_PARTY_MEMBERS.value: frozenset({Role.VILLAGE_SUPERVISOR}),
    Step.RESOLVE_BY_MEMBERS.value: frozenset({Role.VILLAGE_SUPERVISOR}),
}
STEP_DECISIONS = {
    Step.APPLY: {Decision.SUBMIT},
    Step.PROPOSE: {Decision.AGREE, Decision.RETURN, Decision.REJECT},
    Step.CHECK_BY_TOWNSHIP: {Decision.AGREE, Decision.RETURN, Decision.REJECT},
    Step.APPROVE_BY_TOWNSHIP: {Decision.AGREE, Decision.RETURN, Decision.REJECT},
    Step.IMPLEMENT: {Decision.DONE},
}
MEETING_STEPS = {
    MeetingBody.TWO_COMMITTEES: Step.DELIBERATE,
    MeetingBody.PARTY_MEMBERS: Step.REVIEW_BY_PARTY_MEMBERS,
}
PUBLICATION_NODES = {
    "open_resolution_publication": (NoticeKind.RESOLUTION, Step.PUBLISH_RESOLUTION),
    "open_result_publication": (NoticeKind.RESULT, Step.PUBLISH_RESULT),
}
ACTIVE = (STATUS.NEW, STATUS.ASSIGNED)


class TaskConflict(Exception):
    """The step was already handled, or taken by someone else: nothing was changed."""


# --- the path ---------------------------------------------------------------------


def path_for_band(band) -> list[str]:
    needed = {
        Step.PROPOSE: band.party_proposal,
        Step.DELIBERATE: band.two_committees,
        Step.REVIEW_BY_PARTY_MEMBERS: band.party_members,
        Step.RESOLVE_BY_MEMBERS: bool(band.member_body),
        Step.PUBLISH_RESOLUTION: band.resolution_publication,
        Step.CHECK_BY_TOWNSHIP: band.township_check,
        Step.APPROVE_BY_TOWNSHIP: band.township_approval,
        Step.PUBLISH_RESULT: band.result_publication,
    }
    return [step.value for step in SPINE if needed.get(step, True)]


def step_after(matter: Matter, step: str) -> str:
    path = matter.required_steps
    position = path.index(step)
    return path[position + 1] if position + 1 < len(path) else END


def step_for_meeting(matter: Matter, body: str) -> str | None:
    if body in MEETING_STEPS:
        return MEETING_STEPS[body]
    if matter.member_body == body:
        return Step.RESOLVE_BY_MEMBERS
    return None


def final_township_step(matter: Matter) -> str | None:
    for step in (Step.APPROVE_BY_TOWNSHIP, Step.CHECK_BY_TOWNSHIP):
        if step in matter.required_steps:
            return step
    return None


def approval_lacks_application_file(matter: Matter, step: str, *, application_files: int | None = None) -> bool:
    """Whether agreeing at this step is the township's final approval of a matter from the county's amount
    (``evidence_threshold`` of its rule version) whose application carries no evidence file; a list that
    counted the application's files already passes ``application_files``."""
    threshold = matter.rule_version.evidence_threshold if matter.rule_version_id else None
    if threshold is None or step != final_township_step(matter) or matter.amount < threshold:
        return False
    if application_files is None:
        return not matter.evidence.filter(step=Step.APPLY).exists()
    return application_files == 0


def can_withdraw(matter: Matter) -> bool:
    """Before the township's final approval the applicant may still take a matter back."""
    if not matter.is_open or matter.next_step == END:
        return False
    final = final_township_step(matter) or Step.IMPLEMENT
    return matter.required_steps.index(matter.next_step) <= matter.required_steps.index(final)


def active_task(matter: Matter, step: str) -> Task | None:
    # The flow of the matter's type: the process row need not be read to know it.
    node = flow_for(matter.transaction_type).instance.node(step)
    # Pass the stored string: the field's own conversion skips nodes that test falsy.
    return Task.objects.filter(process_id=matter.process_id, flow_task=get_task_ref(node), status__in=ACTIVE).first()


# The relations of a step record: always rows the step has in hand, so validating them would only read them again.
RECORD_RELATIONS = ("matter", "task", "actor", "meeting", "on_behalf_of")


def _record(matter: Matter, step: str, decision: str, *, actor=None, opinion="", task=None, **extra) -> StepRecord:
    record = StepRecord(matter=matter, step=step, decision=decision, actor=actor, opinion=opinion, task=task, **extra)
    record.full_clean(exclude=RECORD_RELATIONS)
    record.save()
    return record


def writes_in_bulk(*, announce: bool) -> ExitStack:
    """The step's leaves and notifications written in bulk at the end of the block (entered inside the
    step's transaction, so they are written in it).

    ``announce``: the step opened its transaction itself (as a request or a job makes it), so its new
    tasks are announced at the end of the block too, inside it. Within a transaction someone else opened
    they are announced once that commits (flows/events.py), which also leaves out a task made and handled
    in it."""
    stack = ExitStack()
    stack.enter_context(ledger.batched())
    stack.enter_context(notifications.batched())
    if announce:
        stack.enter_context(events.announcing())
    return stack


@contextmanager
def one_step(flow_class, process_id: int, *, savepoint: bool = False):
    """One step of a matter, one transaction: the process row locked, its writes in bulk (``writes_in_bulk``).

    Inside a transaction already open by one of the services here (a meeting deciding several matters, an
    objection handled) the step takes the row lock within it and opens no savepoint: an error undoes that
    whole transaction anyway (the one error they catch, ``TransitionNotAllowed``, comes before the step
    writes anything). ``savepoint``: the step may fail inside a transaction its caller goes on with (a
    refused implementation in a test or a batch), so it keeps viewflow's own lock and savepoint there."""
    if not connection.in_atomic_block:
        with flow_class.lock(process_id), writes_in_bulk(announce=True):
            yield
        return
    if savepoint or not isinstance(flow_class.lock_impl, SelectForUpdateLock):
        with flow_class.lock(process_id), writes_in_bulk(announce=False):
            yield
        return
    flow_class.process_class._default_manager.filter(pk=process_id).select_for_update().exists()
    with writes_in_bulk(announce=False):
        yield


@contextmanager
def one_task_step(task_id: int):
    """``one_step`` (with its ``savepoint``) for the process of the task ``task_id``, found by the lock itself:
    one query locks the process row of the task, then the task, its process and its matter are read under it
    (``_lock_task``). Yields (task, matter). The spine's flows all lock with ``SelectForUpdateLock``."""
    outermost = not connection.in_atomic_block
    with transaction.atomic(), writes_in_bulk(announce=outermost):
        process_id = Task.objects.filter(pk=task_id).values("process_id")[:1]
        Process.objects.filter(pk=Subquery(process_id)).select_for_update().exists()
        task, matter = _lock_task(task_id)
        if not isinstance(task.flow_task.flow_class.lock_impl, SelectForUpdateLock):
            raise TypeError(f"{task.flow_task.flow_class.__name__} does not lock with SelectForUpdateLock")
        yield task, matter


def handle_run_at(matter: Matter, step: str, *, savepoint: bool = False, **kwargs) -> Task | None:
    """What viewflow's ``Handle.run`` does (lock, read the task, run the node's callback, complete it) for the
    matter's task waiting at ``step``, as one step: no savepoint of its own (unless ``savepoint``, see
    ``one_step``), and the task, its process and its matter found in one query under the lock. None (and
    nothing done) when no such task waits."""
    flow_class = flow_for(matter.transaction_type)
    node = flow_class.instance.node(step)
    with one_step(flow_class, matter.process_id, savepoint=savepoint):
        task = (
            Task.objects.select_related("process__matter__organization", "process__matter__rule_version")
            .filter(process_id=matter.process_id, flow_task=get_task_ref(node), status__in=ACTIVE)
            .first()
        )
        if task is None:
            return None
        activation = node.activation_class(task)
        activation.run(this.resolve(flow_class.instance, node._func), **kwargs)
        activation.execute()
    return task


def _relate_new(instance, name: str, objs: Sequence) -> None:
    """``instance.<name>.add(*objs)`` for a row made in this transaction: it has no related rows yet, so
    none is looked for before the one INSERT (the signals ``add`` sends, the log's among them, still go)."""
    relation = instance._meta.get_field(name)
    through = relation.remote_field.through
    source, target = relation.m2m_field_name(), relation.m2m_reverse_field_name()
    pk_set = {obj.pk for obj in objs}
    signal = {"sender": through, "instance": instance, "reverse": False, "model": relation.related_model}
    m2m_changed.send(action="pre_add", pk_set=pk_set, using=instance._state.db, **signal)
    through._default_manager.bulk_create(
        [through(**{f"{source}_id": instance.pk, f"{target}_id": obj.pk}) for obj in objs]
    )
    m2m_changed.send(action="post_add", pk_set=pk_set, using=instance._state.db, **signal)


def rows_create(model, rows: Sequence) -> list:
    """New rows of one model in one INSERT, their history in another, and their leaves with the step's (as
    ``save`` would, one by one): made in full and just now, so nothing of them is read back."""
    request = getattr(HistoricalRecords.context, "request", None)
    user = getattr(request, "user", None)
    rows = bulk_create_with_history(
        list(rows), model, default_user=user if getattr(user, "is_authenticated", False) else None
    )
    log_rows(model, rows, in_hand=True)
    return rows


def _store_files(*, matter: Matter, step: str, user, uploads: Iterable, step_record=None, meeting=None) -> None:
    for upload in uploads:
        evidence_store(matter=matter, step=step, upload=upload, user=user, step_record=step_record, meeting=meeting)


def _check_files(uploads: Sequence) -> None:
    errors = []
    for upload in uploads:
        try:
            evidence_check(upload=upload)
        except ValidationError as error:
            errors.extend(error.messages)
    if errors:
        # Keyed on the file field, so that the form shows each reason next to it.
        raise ValidationError({"files": errors})


# --- application -------------------------------------------------------------------


def matter_apply(*, user, organization, transaction_type: str, data: dict, uploads: Sequence = ()) -> Matter:
    """Pre-application (事前申请): validate, pick the rule band, start the flow."""
    require_act(user, organization, STEP_ROLES[Step.APPLY])
    if organization.kind != OrganizationKind.COLLECTIVE:
        raise ValidationError(_("Matters are applied for by a collective economic organisation."))
    flow_class = flow_for(transaction_type)
    version = rule_version_in_force(county=organization.county, on_date=timezone.localdate())
    amount = flow_class.instance.clean_application(organization=organization, rule_version=version, data=data)
    band = band_for(rule_version=version, transaction_type=transaction_type, amount=amount)
    _check_files(uploads)
    announce = not connection.in_atomic_block
    with transaction.atomic(), writes_in_bulk(announce=announce):
        matter = Matter(
            organization=organization,
            transaction_type=transaction_type,
            title=data["title"],
            amount=amount,
            applicant=user,
            rule_version=version,
            band=band,
            required_steps=path_for_band(band),
            member_body=band.member_body,
        )
        matter.next_step = step_after(matter, Step.APPLY)
        # Its organisation, applicant, rule version and band are rows in hand: not read again to validate them.
        matter.full_clean(exclude=("organization", "applicant", "rule_version", "band", "process"))
        # Its process first, so that the matter's row is written once, whole (the start node takes it up).
        matter.process = flow_class.process_class._default_manager.create(flow_class=flow_class)
        matter.save()
        # Before the application rows, which refer to the holding: its row lock is the first taken.
        flow_class.instance.reserve(matter=matter, data=data)
        flow_class.instance.save_application(matter=matter, data=data, new=True)
        record = _record(matter, Step.APPLY, Decision.SUBMIT, actor=user, opinion=data.get("reason", ""))
        _store_files(matter=matter, step=Step.APPLY, user=user, uploads=uploads, step_record=record)
        flow_class.start.run(matter=matter)
    return matter


def matter_attach_process(*, activation, matter: Matter):
    """The start node takes up the process ``matter_apply`` made with the matter (and saved it with)."""
    activation.process = activation.task.process = matter.process
    return activation.process


def _lock_task(task_id: int) -> tuple[Task, Matter]:
    """The task read under the process lock, with its process and matter in the same query.

    One process object for the task, the flow and the route's predicates, and one matter object for the
    step and the callbacks (``process.matter``): nothing of them is read twice."""
    task = (
        Task.objects.select_related("process__matter__organization", "process__matter__rule_version")
        .annotate(handed_over=Exists(DelegatedTask.objects.filter(task_id=OuterRef("pk"))))
        .get(pk=task_id)
    )
    return task, task.process.matter


def _ensure_open(task: Task, user) -> None:
    if task.status not in ACTIVE:
        raise TaskConflict(_("This step has already been handled; nothing was changed."))
    if task.owner_id and task.owner_id != user.pk:
        raise TaskConflict(_("%(name)s has taken this step; nothing was changed.") % {"name": display_name(task.owner)})


def task_take(*, user, task_id: int) -> Task:
    """Take (认领) a step so that others see it is being handled."""
    task = Task.objects.select_related("process").get(pk=task_id)
    with task.flow_task.flow_class.lock(task.process_id):
        task, matter = _lock_task(task_id)
        require_act(user, matter.organization, STEP_ROLES.get(task.flow_task.name, ()))
        _ensure_open(task, user)
        if task.owner_id is None:
            activation = task.flow_task.activation_class(task)
            activation.assign(user)
            events.task_taken(task=task, matter=matter, user=user)
    return task


def step_perform(
    *,
    user,
    task_id: int,
    decision: str,
    opinion: str = "",
    return_to: str = "",
    uploads: Sequence = (),
    data: dict | None = None,
    confirm_without_evidence: bool = False,
) -> StepRecord:
    """Act on a human step: agree, return to an earlier step, reject, submit a revision, or implement.

    The township's final approval of a matter from the county's evidence amount whose application carries
    no file is refused unless the approver confirms it (``confirm_without_evidence``); the record keeps that."""
    _check_files(uploads)
    with one_task_step(task_id) as (task, matter):
        flow_class = task.flow_task.flow_class
        step = task.flow_task.name
        require_act(user, matter.organization, STEP_ROLES.get(step, ()))
        _ensure_open(task, user)
        if decision not in STEP_DECISIONS[step]:
            raise ValidationError(_("This decision is not available at this step."))
        if decision in (Decision.RETURN, Decision.REJECT) and not opinion.strip():
            raise ValidationError({"opinion": _("Give the reason for returning or rejecting.")})
        if decision == Decision.RETURN:
            earlier = matter.required_steps[: matter.required_steps.index(step)]
            if return_to not in earlier or return_to in (Step.PUBLISH_RESOLUTION,):
                raise ValidationError({"return_to": _("Choose an earlier step of this matter to return it to.")})
        lacks_file = decision == Decision.AGREE and approval_lacks_application_file(matter, step)
        if lacks_file and not confirm_without_evidence:
            raise ValidationError(
                {
                    "confirm_without_evidence": _(
                        "The application of this matter (%(amount)s yuan) carries no evidence file, which the "
                        "county asks for from %(threshold)s yuan. Tick the confirmation to approve it without one, "
                        "or return it to the applicant for the file."
                    )
                    % {"amount": matter.amount, "threshold": matter.rule_version.evidence_threshold}
                }
            )
        if step == Step.APPLY:
            _revise_application(matter=matter, flow_class=flow_class, data=data or {})

        activation = flow_class.instance.node(step).activation_class(task)
        if task.status == STATUS.NEW:
            # Taken and handled at once: what ``activation.assign`` sets is saved with the task's completion.
            task.owner = user
            task.status = STATUS.ASSIGNED
            events.task_taken(task=task, matter=matter, user=user, handled=True)
        activation.start(None)
        record = _record(
            matter,
            step,
            decision,
            actor=user,
            opinion=opinion,
            task=task,
            return_to=return_to if decision == Decision.RETURN else "",
            # Who the actor stands in for is looked up only for a task that was handed over (转办).
            on_behalf_of=DelegatedTask.principal(task_id=task.pk, user=user) if task.handed_over else None,
            no_evidence_confirmed=lacks_file,
        )
        _store_files(matter=matter, step=step, user=user, uploads=uploads, step_record=record)
        if decision == Decision.RETURN:
            matter.next_step = return_to
        elif decision == Decision.REJECT:
            matter.next_step = END
            matter.status = MatterStatus.REJECTED
            matter.finished_at = timezone.now()
            if flow_class.instance.holds_reservations:
                reservations_release(matter=matter)
        else:
            if step == Step.IMPLEMENT:
                flow_class.instance.register_effect(matter=matter, user=user, data=data or {})
                if flow_class.instance.holds_reservations:
                    reservations_consume(matter=matter)
                # The notice of the result says what was done: the record in hand, not read back.
                matter.implementation_record = record
            matter.next_step = step_after(matter, step)
        matter.save()
        activation.execute()
    return record


def _revise_application(*, matter: Matter, flow_class, data: dict) -> None:
    transaction_flow = flow_class.instance
    amount = transaction_flow.clean_application(
        organization=matter.organization, rule_version=matter.rule_version, data=data, matter=matter
    )
    band = band_for(rule_version=matter.rule_version, transaction_type=matter.transaction_type, amount=amount)
    if band.pk != matter.band_id:
        # A revision that moves the matter to another band changes which steps it needs.
        matter.band = band
        matter.required_steps = path_for_band(band)
        matter.member_body = band.member_body
    matter.title = data["title"]
    matter.amount = amount
    transaction_flow.reserve(matter=matter, data=data)
    transaction_flow.save_application(matter=matter, data=data)


def matter_withdraw(*, user, matter_id: int, reason: str) -> Matter:
    """The applicant's side takes the matter back (撤回) before the township approves it."""
    matter = Matter.objects.select_related("process", "organization").get(pk=matter_id)
    require_act(user, matter.organization, STEP_ROLES[Step.APPLY])
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for withdrawing.")})
    flow_class = matter.process.flow_class
    with flow_class.lock(matter.process_id):
        matter.refresh_from_db()
        if not can_withdraw(matter):
            raise TaskConflict(_("This matter can no longer be withdrawn."))
        step = matter.next_step
        flow_class.instance.cancel(matter.process)
        # One save per notice, not a queryset update: a notice is a record the tamper-evident log covers.
        for notice in matter.notices.filter(closed_at__isnull=True):
            notice.closed_at = timezone.now()
            notice.save(update_fields=["closed_at"])
        _record(matter, step, Decision.WITHDRAW, actor=user, opinion=reason)
        matter.status = MatterStatus.WITHDRAWN
        matter.next_step = END
        matter.finished_at = timezone.now()
        matter.save()
        reservations_release(matter=matter)
    return matter


def matter_archive(*, matter: Matter) -> None:
    now = timezone.now()
    matter.archive_number = f"{matter.organization.code}-{now:%Y}-{matter.pk:06d}"
    matter.status = MatterStatus.ARCHIVED
    matter.next_step = END
    matter.finished_at = now
    matter.save()
    _record(matter, Step.ARCHIVE, Decision.DONE, opinion=matter.archive_number)
    # The dossier PDF is rendered by a worker once the archive is committed.
    dossier_request(matter=matter, archived_now=True)


# --- meetings ----------------------------------------------------------------------


def _age_on(member: Member, day: datetime.date) -> int:
    born = member.birth_date
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def meeting_roster(*, organization, body: str, on_date: datetime.date) -> list[Member]:
    """Who should attend (应到), taken from the member register."""
    members = Member.objects.filter(organization=organization, status=MemberStatus.ACTIVE)
    if body == MeetingBody.TWO_COMMITTEES:
        return list(members.filter(is_committee_member=True))
    if body == MeetingBody.PARTY_MEMBERS:
        return list(members.filter(is_party_member=True))
    if body in (MeetingBody.VILLAGER_REPRESENTATIVES, MeetingBody.MEMBER_REPRESENTATIVES):
        return list(members.filter(is_representative=True))
    return [member for member in members if _age_on(member, on_date) >= 18]


@dataclass(frozen=True)
class VoteInput:
    matter: Matter
    votes_for: int
    votes_against: int
    votes_abstain: int


@dataclass(frozen=True)
class AttendanceInput:
    """One member counted as attending: how, and for a written proxy who carried it and the scan of it."""

    member_id: int
    way: str = AttendanceWay.IN_PERSON
    proxy_holder_id: int | None = None
    authorisation: object = None  # the uploaded scan of the written authorisation


# Who may post the notice of a meeting: the council's chair (the secretary) and the supervisor who records it.
NOTICE_ROLES = {Role.VILLAGE_SECRETARY, Role.VILLAGE_SUPERVISOR}


def meeting_notice_post(
    *,
    user,
    organization,
    body: str,
    meets_at: datetime.datetime,
    place: str,
    agenda: str,
    matters: Sequence[Matter] = (),
) -> MeetingNotice:
    """Post a meeting's time, place and agenda on the village's public board, the body's notice days ahead."""
    require_act(user, organization, NOTICE_ROLES)
    if body not in MeetingBody.values:
        raise ValidationError({"body": _("Choose a meeting body.")})
    if meets_at <= timezone.now():
        raise ValidationError({"meets_at": _("A notice announces a meeting still to come.")})
    versions = {matter.rule_version_id for matter in matters}
    versions.add(rule_version_in_force(county=organization.county, on_date=timezone.localdate()).pk)
    days = max(
        MeetingRule.objects.filter(rule_version_id__in=versions, body=body).values_list("notice_days", flat=True),
        default=0,
    )
    earliest = timezone.localdate() + datetime.timedelta(days=days)
    if timezone.localtime(meets_at).date() < earliest:
        law = LAW_NOTICE_DAYS.get(body)
        raise ValidationError(
            {
                "meets_at": _(
                    "A %(body)s is announced at least %(days)s days ahead (%(article)s): "
                    "posted today, the earliest day it may meet is %(earliest)s."
                )
                % {
                    "body": MeetingBody(body).label,
                    "days": days,
                    "article": law[1] if law else _("the county's rules"),
                    "earliest": earliest.isoformat(),
                }
            }
        )
    for matter in matters:
        if matter.organization_id != organization.pk or not matter.is_open:
            raise ValidationError(_("%(title)s is not an open matter of this village.") % {"title": matter.title})
        if step_for_meeting(matter, body) not in matter.required_steps:
            raise ValidationError(_("%(title)s does not go to this meeting body.") % {"title": matter.title})
    with transaction.atomic():
        notice = MeetingNotice(
            organization=organization, body=body, meets_at=meets_at, place=place, agenda=agenda, posted_by=user
        )
        notice.full_clean()
        notice.save()
        notice.matters.set(matters)
    return notice


def meeting_notice_for(*, organization, body: str, held_on: datetime.date) -> MeetingNotice | None:
    """The notice a meeting held on the day answers: the one announcing that day, else the latest posted before."""
    notices = MeetingNotice.objects.filter(organization=organization, body=body).order_by("-posted_at", "-pk")
    announcing = [notice for notice in notices[:50] if notice.meets_on == held_on]
    if announcing:
        return announcing[0]
    return next((notice for notice in notices[:50] if notice.posted_on <= held_on), None)


def _check_notice(*, organization, body: str, held_on: datetime.date, notice, days: int):
    """The meeting's notice, refused when it was not posted the notice days before the meeting."""
    if notice is None and days:
        notice = meeting_notice_for(organization=organization, body=body, held_on=held_on)
    if notice is None:
        if days:
            raise ValidationError(
                {
                    "notice": _(
                        "A %(body)s needs its time, place and agenda on the public board at least %(days)s days "
                        "ahead; no notice of it was posted. Post the notice first."
                    )
                    % {"body": MeetingBody(body).label, "days": days}
                }
            )
        return None
    if notice.organization_id != organization.pk or notice.body != body:
        raise ValidationError({"notice": _("This notice announced another meeting.")})
    earliest = notice.posted_on + datetime.timedelta(days=days)
    if held_on < earliest:
        raise ValidationError(
            {
                "notice": _(
                    "The notice was posted on %(posted)s: a meeting held on %(held)s had %(given)s days' notice, "
                    "%(days)s are needed. The earliest day it may be held is %(earliest)s."
                )
                % {
                    "posted": notice.posted_on.isoformat(),
                    "held": held_on.isoformat(),
                    "given": max((held_on - notice.posted_on).days, 0),
                    "days": days,
                    "earliest": earliest.isoformat(),
                }
            }
        )
    if days and held_on != notice.meets_on:
        raise ValidationError(
            {
                "notice": _(
                    "The notice announced the meeting for %(announced)s, not %(held)s; "
                    "a meeting on another day needs a notice of its own."
                )
                % {"announced": notice.meets_on.isoformat(), "held": held_on.isoformat()}
            }
        )
    return notice


def _check_attendance(
    *, organization, roster: Sequence[Member], entries: dict[int, AttendanceInput], proxies_allowed: int
) -> None:
    """Ways, proxies and scans as the law counts them; every problem is named, member by member."""
    on_roster = {member.pk: member for member in roster}
    if not set(entries) <= set(on_roster):
        raise ValidationError({"attendees": _("Only people on this body's roster can be recorded as attending.")})
    errors = []
    carried: dict[int, list[Member]] = {}
    for member_id, entry in entries.items():
        member = on_roster[member_id]
        if entry.way not in AttendanceWay.values:
            errors.append(_("%(name)s: choose how they attended.") % {"name": member.name})
            continue
        if entry.way != AttendanceWay.PROXY:
            continue
        words = {"name": member.name, "household": member.household}
        holder = on_roster.get(entry.proxy_holder_id) or (
            Member.objects.filter(organization=organization, pk=entry.proxy_holder_id).first()
            if entry.proxy_holder_id
            else None
        )
        if proxies_allowed == 0:
            errors.append(_("%(name)s: this meeting body takes no written proxies in the county's rules.") % words)
            continue
        if holder is None:
            errors.append(_("%(name)s attended by proxy: name the household member who carried it.") % words)
            continue
        words["holder"] = holder.name
        if holder.pk == member.pk:
            errors.append(_("%(name)s cannot carry their own proxy.") % words)
            continue
        if holder.household != member.household:
            errors.append(
                _(
                    "%(name)s's proxy: %(holder)s is not of the same household (%(household)s); a written proxy "
                    "goes only to a member of one's own household."
                )
                % words
            )
            continue
        holder_entry = entries.get(holder.pk)
        if holder_entry is None or holder_entry.way == AttendanceWay.PROXY:
            errors.append(
                _("%(name)s's proxy: %(holder)s, who carried it, is not recorded as attending in person or online.")
                % words
            )
            continue
        if entry.authorisation is None:
            errors.append(_("%(name)s's proxy: attach the scan of the written authorisation.") % words)
            continue
        try:
            evidence_check(upload=entry.authorisation)
        except ValidationError as error:
            errors.extend(
                _("%(name)s's proxy scan: %(reason)s") % {**words, "reason": reason} for reason in error.messages
            )
            continue
        carried.setdefault(holder.pk, []).append(member)
    for holder_id, members in carried.items():
        if len(members) > proxies_allowed:
            errors.append(
                _("%(holder)s carries %(count)s proxies (%(names)s); the county allows %(limit)s per attendee.")
                % {
                    "holder": on_roster[holder_id].name,
                    "count": len(members),
                    "names": "、".join(member.name for member in members),
                    "limit": proxies_allowed,
                }
            )
    if errors:
        raise ValidationError({"attendees": errors})


def meeting_record(
    *,
    user,
    organization,
    body: str,
    held_on: datetime.date,
    place: str,
    chair: str,
    minutes: str,
    attendee_ids: Sequence[int] = (),
    votes: Sequence[VoteInput],
    uploads: Sequence = (),
    attendance: Sequence[AttendanceInput] = (),
    notice: MeetingNotice | None = None,
) -> Meeting:
    """Record a meeting and its vote on each matter of its agenda; passing votes move the matters on.

    ``attendee_ids`` attended in person; ``attendance`` gives the way of others (online, by written proxy)."""
    require_act(user, organization, {Role.VILLAGE_SUPERVISOR})
    if held_on > timezone.localdate():
        raise ValidationError({"held_on": _("A meeting cannot be recorded before it is held.")})
    if not votes:
        raise ValidationError(_("Put at least one pending matter on the agenda."))
    roster = meeting_roster(organization=organization, body=body, on_date=held_on)
    entries = {member_id: AttendanceInput(member_id=member_id) for member_id in attendee_ids}
    entries.update({entry.member_id: entry for entry in attendance})
    rules = []
    for vote in votes:
        matter = vote.matter
        if matter.organization_id != organization.pk or not matter.is_open:
            raise ValidationError(_("%(title)s is not an open matter of this village.") % {"title": matter.title})
        if held_on < timezone.localtime(matter.created_at).date():
            raise ValidationError(
                {"held_on": _("%(title)s was applied for after this date.") % {"title": matter.title}}
            )
        step = step_for_meeting(matter, body)
        if step is None or matter.next_step != step:
            raise ValidationError(_("%(title)s is not waiting for this meeting body.") % {"title": matter.title})
        rules.append(MeetingRule.objects.get(rule_version_id=matter.rule_version_id, body=body))
    notice = _check_notice(
        organization=organization,
        body=body,
        held_on=held_on,
        notice=notice,
        days=max(rule.notice_days for rule in rules),
    )
    _check_attendance(
        organization=organization,
        roster=roster,
        entries=entries,
        proxies_allowed=min(rule.proxies_per_attendee for rule in rules),
    )
    attendees = [member for member in roster if member.pk in entries]
    households_expected = len({member.household for member in roster})
    households_attended = len({member.household for member in attendees})
    outcomes = []
    for vote, rule in zip(votes, rules, strict=True):
        matter = vote.matter
        if vote.votes_for + vote.votes_against + vote.votes_abstain > len(attendees):
            raise ValidationError(_("%(title)s: more votes than people attending.") % {"title": matter.title})
        # In person, online and by written proxy all count as attending (农村集体经济组织法 art. 27).
        outcome = evaluate_vote(
            rule=rule,
            expected=len(roster),
            attended=len(attendees),
            votes_for=vote.votes_for,
            households_expected=households_expected,
            households_attended=households_attended,
        )
        if not outcome.quorate:
            raise ValidationError(outcome.reason)
        outcomes.append((vote, step_for_meeting(matter, body), outcome))
    _check_files(uploads)

    announce = not connection.in_atomic_block
    with transaction.atomic(), writes_in_bulk(announce=announce):
        meeting = Meeting(
            organization=organization,
            body=body,
            held_on=held_on,
            place=place,
            chair=chair,
            minutes=minutes,
            recorded_by=user,
            expected_count=len(roster),
            attended_count=len(attendees),
            households_expected=households_expected,
            households_attended=households_attended,
            notice=notice,
        )
        meeting.full_clean(exclude=("organization", "recorded_by"))  # rows in hand
        meeting.save()
        _relate_new(meeting, "attendees", attendees)
        # A roster of hundreds: one INSERT for the rows, one for their history, one for their ledger leaves.
        rows = bulk_create_with_history(
            [
                MeetingAttendance(
                    meeting=meeting,
                    member=member,
                    way=entries[member.pk].way,
                    proxy_holder_id=(
                        entries[member.pk].proxy_holder_id if entries[member.pk].way == AttendanceWay.PROXY else None
                    ),
                )
                for member in attendees
            ],
            MeetingAttendance,
            default_user=user,
        )
        log_rows(MeetingAttendance, rows, in_hand=True)
        proxies = [(row, entries[row.member_id].authorisation) for row in rows if row.way == AttendanceWay.PROXY]
        for vote, step, outcome in outcomes:
            decision = MeetingDecision.objects.create(
                meeting=meeting,
                matter=vote.matter,
                votes_for=vote.votes_for,
                votes_against=vote.votes_against,
                votes_abstain=vote.votes_abstain,
                passed=outcome.passed,
                reason=outcome.reason,
            )
            try:
                task = handle_run_at(vote.matter, step, decision=decision)
            except TransitionNotAllowed as error:
                raise TaskConflict(_("%(title)s has already been decided.") % {"title": vote.matter.title}) from error
            if task is None:
                raise TaskConflict(_("%(title)s has already been decided.") % {"title": vote.matter.title})
        for vote in votes:
            step = step_for_meeting(vote.matter, body)
            for upload in uploads:
                evidence_store(matter=vote.matter, step=step, upload=upload, user=user, meeting=meeting)
            for row, scan in proxies:
                scan.seek(0)
                evidence_store(matter=vote.matter, step=step, upload=scan, user=user, meeting=meeting, attendance=row)
    return meeting


def matter_take_meeting_outcome(*, matter: Matter, step: str, decision: MeetingDecision) -> None:
    # ``matter`` is the process's, read under its lock by the step: not read again.
    _record(
        matter,
        step,
        Decision.PASSED if decision.passed else Decision.FAILED,
        actor=decision.meeting.recorded_by,
        opinion=decision.reason,
        meeting=decision.meeting,
    )
    if decision.passed:
        matter.next_step = step_after(matter, step)
    else:
        rule = MeetingRule.objects.get(rule_version=matter.rule_version, body=decision.meeting.body)
        if rule.on_failed_vote == OnFailedVote.STOP:
            matter.next_step = END
            matter.status = MatterStatus.REJECTED
            matter.finished_at = timezone.now()
            reservations_release(matter=matter)
        else:
            matter.next_step = Step.APPLY
    matter.save()


# --- publication -------------------------------------------------------------------


def publication_step(kind: str) -> str:
    return Step.PUBLISH_RESOLUTION if kind == NoticeKind.RESOLUTION else Step.PUBLISH_RESULT


def publication_open(*, matter: Matter, step: str) -> Notice:
    """Post the notice on the village board and schedule its close for the end of the period."""
    from .tasks import close_publication

    kind, publish_step = PUBLICATION_NODES[step]
    now = timezone.now()
    # The board and the archive read the notice as posted: in the installation's language, not the poster's.
    with translation.override(settings.LANGUAGE_CODE):
        title, body = f"{NoticeKind(kind).label}：{matter.title}", _notice_body(matter, kind)
    notice = Notice.objects.create(
        matter=matter,
        organization=matter.organization,
        kind=kind,
        title=title,
        body=body,
        published_at=now,
        ends_at=now + datetime.timedelta(days=matter.rule_version.publication_days),
    )
    _record(matter, publish_step, Decision.PUBLISHED, opinion=notice.title)
    # A broker that is down must not turn a saved step into an error page; beat's sweep
    # (close_due_publications) closes the period anyway. So does it for a period ending later than Redis
    # keeps a message unacknowledged: Redis would hand such an ETA out again and again until it is due.
    if notice.ends_at - now < datetime.timedelta(seconds=settings.REDIS_VISIBILITY_TIMEOUT):
        enqueue_on_commit(close_publication, notice.pk, eta=notice.ends_at)
    return notice


def _notice_body(matter: Matter, kind: str) -> str:
    lines = [
        _("Matter: %(title)s") % {"title": matter.title},
        _("Type: %(type)s") % {"type": matter.get_transaction_type_display()},
        _("Amount: %(amount)s yuan") % {"amount": matter.amount},
    ]
    for decision in matter.meeting_decisions.select_related("meeting"):
        lines.append(
            _("%(body)s on %(date)s: %(for)s for, %(against)s against, %(abstain)s abstaining. %(reason)s")
            % {
                "body": decision.meeting.get_body_display(),
                "date": decision.meeting.held_on,
                "for": decision.votes_for,
                "against": decision.votes_against,
                "abstain": decision.votes_abstain,
                "reason": decision.reason,
            }
        )
    if kind == NoticeKind.RESULT:
        implemented = getattr(matter, "implementation_record", None) or (
            matter.step_records.filter(step=Step.IMPLEMENT, decision=Decision.DONE).last()
        )
        if implemented:
            lines.append(_("Implemented: %(opinion)s") % {"opinion": implemented.opinion})
    return "\n".join(lines)


def publication_close(*, matter: Matter, notice: Notice) -> None:
    notice.closed_at = timezone.now()
    notice.save()  # in full: the notice was just read with the matter, and the log takes it from here
    step = publication_step(notice.kind)
    # Written by beat or by whoever's request closed it: the archive keeps it in the installation's language.
    with translation.override(settings.LANGUAGE_CODE):
        opinion = _("Publication period ended with no open objection.")
    _record(matter, step, Decision.DONE, opinion=opinion)
    matter.next_step = step_after(matter, step)
    matter.save()


def publication_try_close(*, notice_id: int) -> bool:
    """Move the matter on if the period is over and no objection is open. Safe to call twice."""
    notice = Notice.objects.select_related("matter__process").get(pk=notice_id)
    if (
        notice.closed_at
        or timezone.now() < notice.ends_at
        or notice.objections.filter(handled_at__isnull=True).exists()
    ):
        return False
    step = publication_step(notice.kind)
    try:
        # Its callers' transactions (when there is one) are not all this module's own: keep the savepoint there.
        return handle_run_at(notice.matter, step, notice=notice, savepoint=True) is not None
    except TransitionNotAllowed:
        return False


def client_key_for(address: str) -> str:
    """A salted hash of the client's network (an IPv4 address, an IPv6 /64): counts, never identifies."""
    return hashlib.sha256(f"{settings.SECRET_KEY}:{client_network(address)}".encode()).hexdigest()


def objection_limits(*, notice: Notice, client_key: str) -> tuple[Limit, Limit]:
    hour = datetime.timedelta(hours=1)
    return (
        Limit(key=f"objection:client:{client_key}", limit=settings.OBJECTION_RATE_PER_HOUR, window=hour),
        Limit(key=f"objection:notice:{notice.pk}", limit=settings.OBJECTION_NOTICE_RATE_PER_HOUR, window=hour),
    )


# Crockford's base32: no I, L, O or U, so a receipt copied by hand or read out on the phone survives.
RECEIPT_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RECEIPT_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def objection_receipt_new(day: datetime.date) -> str:
    """ "260501-K7QF-9XMR": the day, then 40 random bits; with the phone number it opens the objection's page."""
    while True:
        tail = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(8))
        receipt = f"{day:%y%m%d}-{tail[:4]}-{tail[4:]}"
        if not Objection.objects.filter(receipt=receipt).exists():
            return receipt


def receipt_normalise(typed: str) -> str:
    """A receipt as typed (spaces, lower case, O for 0) in its printed form, or "" when it cannot be one."""
    compact = re.sub(r"[\s\-－—_]", "", typed.upper()).translate(RECEIPT_LOOKALIKES)
    if len(compact) != 14 or not compact[:6].isdigit() or any(c not in RECEIPT_ALPHABET for c in compact[6:]):
        return ""
    return f"{compact[:6]}-{compact[6:10]}-{compact[10:]}"


def phone_digits(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    # A mainland mobile number written with the country code is the same number.
    return digits[2:] if len(digits) == 13 and digits.startswith("86") else digits


def objection_find(*, receipt: str, phone: str) -> Objection | None:
    """The objection with this receipt if the phone number matches, else None (the same None for both).

    Found by receipt alone and compared in Python: phone numbers may be stored encrypted, so no SQL
    filter can match them, and a constant-time comparison tells nothing about how close a guess was.
    """
    normalised = receipt_normalise(receipt)
    objection = (
        Objection.objects.select_related("notice__organization__parent", "notice__matter", "handled_by")
        .filter(receipt=normalised)
        .first()
        if normalised
        else None
    )
    given = phone_digits(phone).encode()
    stored = phone_digits(objection.phone).encode() if objection is not None else b"-"
    if not hmac.compare_digest(stored, given) or objection is None or not given:
        return None
    return objection


def objection_submit(*, notice: Notice, name: str, phone: str, text: str, client_key: str) -> Objection:
    """A villager's objection from the public board, counted against the sender's and the notice's limits.

    The count and the save happen under the counter rows' lock, so simultaneous posts never pass the limit."""
    now = timezone.now()
    if notice.closed_at or not (notice.published_at <= now < notice.ends_at):
        raise ValidationError(_("The publication period of this notice is over; objections are no longer taken."))
    objection = Objection(
        notice=notice,
        receipt=objection_receipt_new(timezone.localdate(now)),
        name=name.strip(),
        phone=phone.strip(),
        text=text.strip(),
        client_key=client_key,
    )
    objection.full_clean()
    by_client, by_notice = objection_limits(notice=notice, client_key=client_key)
    with transaction.atomic():
        exhausted = throttle_hit(by_client, by_notice)
        if exhausted is None:
            objection.save()
            events.objection_raised(objection=objection)
    if exhausted is not None:
        security_event.send(
            sender=Objection,
            kind="abuse",
            outcome="refused",
            description=_("Objection to notice #%(notice)s refused: %(limit)s per hour reached (%(key)s).")
            % {"notice": notice.pk, "limit": exhausted.limit, "key": exhausted.key.rsplit(":", 1)[0]},
        )
        if exhausted is by_client:
            raise ValidationError(_("Too many objections from this device; try again in an hour."))
        raise ValidationError(
            _(
                "This notice has received very many objections this hour; please try again later "
                "or tell the village supervisor."
            )
        )
    return objection


def objection_handle(*, user, objection_id: int, handling: str) -> Objection:
    objection = Objection.objects.select_related("notice__organization").get(pk=objection_id)
    require_act(user, objection.notice.organization, {Role.VILLAGE_SUPERVISOR})
    if not handling.strip():
        raise ValidationError({"handling": _("Record how the objection was handled.")})
    with transaction.atomic():
        objection = Objection.objects.select_for_update().get(pk=objection.pk)
        if not objection.is_open:
            raise TaskConflict(_("This objection has already been handled."))
        objection.handled_at = timezone.now()
        objection.handled_by = user
        objection.handling = handling.strip()
        objection.save()
        # Handling the last open objection after the period lets the matter move on at once.
        publication_try_close(notice_id=objection.notice_id)
    return objection
