"""Who hears of what happens to a matter: new tasks, returns, taken steps, decisions, objections, PDF jobs.

Each event becomes ``Notification`` rows through ``notify`` (flows/notifications.py), which pushes them to
the recipients' live streams after commit. Titles are written in the site's language, as the PDFs are:
the row is read later by people who did not cause it, whatever language the actor's browser asked for.
"""

import threading
from contextlib import contextmanager

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from organizations.jurisdiction import users_holding
from organizations.models import Role
from organizations.people import display_name

from .models import Decision, Matter, NotificationKind, Step, StepRecord
from .notifications import notify

# Records that are not news for the applicant: their own submission, and returns (the return has its own event).
QUIET_DECISIONS = frozenset({Decision.SUBMIT, Decision.RETURN, Decision.DELEGATE})
OBJECTION_ROLES = frozenset({Role.VILLAGE_SECRETARY, Role.VILLAGE_SUPERVISOR})
# A task waiting for someone (services.ACTIVE; not imported from there: services imports this module).
ACTIVE_STATUSES = (STATUS.NEW, STATUS.ASSIGNED)


def step_roles(step: str) -> set[str]:
    """The roles that hold a step: meetings belong to the village supervisor, publication steps to nobody."""
    # Imported here: services imports this module to call its hooks.
    from .services import HOLDER_ROLES

    return set(HOLDER_ROLES.get(step, ()))


def step_holders(matter: Matter, step: str):
    """Everyone who may act at the step for the matter's collective (a queryset of users)."""
    roles = step_roles(step)
    if not roles:
        return []
    return users_holding(matter.organization, roles)


def _step_label(step: str) -> str:
    return Step(step).label if step in Step.values else step


# --- a new task ------------------------------------------------------------------------------------


class _Announcing(threading.local):
    depth = 0

    def __init__(self):
        self.tasks: list[Task] = []
        # The latest record of each matter written in the block (the step's own): no need to read it back.
        self.latest: dict[int, StepRecord] = {}


_announcing = _Announcing()


@contextmanager
def announcing():
    """New tasks made inside the block (a step's transaction) are announced as it ends, still inside it.

    The step has the matter and its latest record in hand, so the announcement reads only who holds
    the new step; its rows commit, or roll back, with the step. Outside such a block a new task is
    announced after the commit that made it (task_saved)."""
    _announcing.depth += 1
    mark = len(_announcing.tasks)
    try:
        yield
    except BaseException:
        _announcing.depth -= 1
        del _announcing.tasks[mark:]  # tasks of a failed block are rolled back with it
        if not _announcing.depth:
            _announcing.latest = {}
        raise
    _announcing.depth -= 1
    if _announcing.depth:
        return
    tasks, latest = _announcing.tasks, _announcing.latest
    _announcing.tasks, _announcing.latest = [], {}
    for task in tasks:
        if task.status not in ACTIVE_STATUSES:  # already handled (or cancelled) in the same transaction
            continue
        matter = getattr(task.process, "matter", None)  # cached by the step that made the task
        if matter is not None:
            task_announce_in_hand(task=task, matter=matter, latest=latest.get(matter.pk))


def task_saved(sender, instance: Task, created: bool, **kwargs) -> None:
    """post_save of viewflow's Task: a new human task is announced at the end of the step that made it
    (``announcing``), or else once the transaction that made it commits.

    Outside a step the matter is looked up after commit, because the process is attached to it while
    the flow starts.
    """
    if not created or not step_roles(instance.flow_task.name):
        return
    if _announcing.depth:
        _announcing.tasks.append(instance)
        return
    task_id = instance.pk
    transaction.on_commit(lambda: task_announce(task_id=task_id), robust=True)


def task_announce(*, task_id: int) -> None:
    """Tell the step's holders of a task that is waiting for them; a return also goes to the applicant."""
    task = Task.objects.filter(pk=task_id, status__in=ACTIVE_STATUSES).first()
    if task is None:  # already handled (or cancelled) in the same transaction
        return
    matter = Matter.objects.select_related("organization", "applicant").filter(process_id=task.process_id).first()
    if matter is None:
        return
    task_announce_in_hand(task=task, matter=matter)


def task_announce_in_hand(*, task: Task, matter: Matter, latest: StepRecord | None = None) -> None:
    """The announcement of ``task`` with the rows in hand; ``latest`` is the matter's latest record if known."""
    step = task.flow_task.name
    # A task assigned as it was made (to a delegate, flows/delegation.py) is news for its owner only.
    holders = [task.owner_id] if task.owner_id else list(step_holders(matter, step))
    if latest is None:
        latest = (
            matter.step_records.exclude(decision=Decision.DELEGATE)
            .select_related("actor")
            .order_by("-acted_at", "-pk")
            .first()
        )
    with translation.override(settings.LANGUAGE_CODE):
        if latest is not None and latest.decision == Decision.RETURN and latest.return_to == step:
            notify(
                [*holders, matter.applicant_id],
                kind=NotificationKind.RETURNED,
                title=_("%(name)s returned “%(title)s” to %(step)s: %(reason)s")
                % {
                    "name": display_name(latest.actor),
                    "title": matter.title,
                    "step": _step_label(step),
                    "reason": latest.opinion,
                },
                body=latest.opinion,
                url=matter.get_absolute_url(),
                matter=matter,
                task_id=task.pk,
                data={"step": step, "returned_by": latest.actor_id},
            )
        else:
            notify(
                holders,
                kind=NotificationKind.TASK_NEW,
                title=_("New task: %(step)s of “%(title)s”") % {"step": _step_label(step), "title": matter.title},
                body=str(matter.organization),
                url=matter.get_absolute_url(),
                matter=matter,
                task_id=task.pk,
                data={"step": step},
            )


# --- hooks called by services ----------------------------------------------------------------------


def task_taken(*, task: Task, matter: Matter, user, handled: bool = False) -> None:
    """The other holders of a step hear that ``user`` took it (or handled it without taking it first)."""
    step = task.flow_task.name
    with translation.override(settings.LANGUAGE_CODE):
        template = (
            _("%(name)s has handled %(step)s of “%(title)s”")
            if handled
            else _("%(name)s has taken %(step)s of “%(title)s”")
        )
        notify(
            step_holders(matter, step),
            kind=NotificationKind.TASK_TAKEN,
            title=template % {"name": display_name(user), "step": _step_label(step), "title": matter.title},
            url=matter.get_absolute_url(),
            matter=matter,
            task_id=task.pk,
            data={"step": step, "by": user.pk, "handled": handled},
            exclude=[user],
        )


def objection_raised(*, objection) -> None:
    """An objection on a notice reaches the village secretary and supervisor over the notice's collective."""
    notice = objection.notice
    matter = notice.matter
    with translation.override(settings.LANGUAGE_CODE):
        notify(
            users_holding(notice.organization, OBJECTION_ROLES),
            kind=NotificationKind.OBJECTION,
            title=_("Objection to “%(notice)s”") % {"notice": notice.title},
            body=objection.text,
            url=matter.get_absolute_url(),
            matter=matter,
            data={"notice": notice.pk, "objection": objection.pk},
        )


# --- a decision on someone's matter ----------------------------------------------------------------


def step_record_saved(sender, instance: StepRecord, created: bool, **kwargs) -> None:
    """post_save of StepRecord: a decision taken by someone else moves the applicant's matter on."""
    if created and _announcing.depth and instance.decision != Decision.DELEGATE:
        _announcing.latest[instance.matter_id] = instance
    if not created or instance.decision in QUIET_DECISIONS:
        return
    matter = instance.matter
    if instance.actor_id is not None and instance.actor_id == matter.applicant_id:
        return
    with translation.override(settings.LANGUAGE_CODE):
        notify(
            [matter.applicant_id],
            kind=NotificationKind.MATTER_PROGRESS,
            title=_("“%(title)s”: %(step)s %(decision)s")
            % {"title": matter.title, "step": instance.get_step_display(), "decision": instance.get_decision_display()},
            body=instance.opinion,
            url=matter.get_absolute_url(),
            matter=matter,
            data={"step": instance.step, "decision": instance.decision, "by": instance.actor_id},
        )


# --- rendering jobs --------------------------------------------------------------------------------


def job_recipient(document):
    """Who follows a PDF job: whoever asked, or, when the system asked, the person the document concerns."""
    if document.requested_by_id:
        return document.requested_by_id
    if document.matter_id:
        return document.matter.applicant_id
    if document.notice_id:
        return document.notice.matter.applicant_id
    if document.meeting_id:
        return document.meeting.recorded_by_id
    return None


def _job_data(document) -> dict:
    return {
        "document": document.pk,
        "kind": document.kind,
        "status": document.status,
        "progress": document.progress,
        "matter": document.matter_id,
    }


def job_progress(*, document) -> None:
    """A step of a PDF's rendering: moves the bar on the page that waits for it."""
    recipient = job_recipient(document)
    if recipient is None:
        return
    with translation.override(settings.LANGUAGE_CODE):
        notify(
            [recipient],
            kind=NotificationKind.JOB_PROGRESS,
            title=_("Rendering %(document)s") % {"document": document.get_kind_display()},
            matter=document.matter if document.matter_id else None,
            data=_job_data(document),
        )


def job_done(*, document) -> None:
    """The PDF is stored: its requester gets the download link."""
    recipient = job_recipient(document)
    if recipient is None:
        return
    url = reverse("documents:document_download", args=[document.pk])
    with translation.override(settings.LANGUAGE_CODE):
        notify(
            [recipient],
            kind=NotificationKind.JOB_DONE,
            title=_("%(document)s is ready") % {"document": document.get_kind_display()},
            url=url,
            matter=document.matter if document.matter_id else None,
            data={**_job_data(document), "download_url": url},
        )
