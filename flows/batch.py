"""Batch approval (批量审批): the township officer or leader agrees several matters of one step at once.

A batch is N ordinary steps: each goes through ``services.step_perform`` in its own transaction, with its
own record, history and ledger entry, so a matter changed meanwhile fails alone and the others stay done.
The county's rule table caps the amount a batch may agree; a matter without evidence, or of another step,
is never in a batch.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.utils.translation import gettext as _
from viewflow.workflow.models import Task

from organizations.amounts import yuan_short
from organizations.jurisdiction import can_act
from organizations.people import display_name

from .models import Decision, Matter, Step, StepRecord
from .services import ACTIVE, STEP_ROLES, TaskConflict, approval_lacks_application_file, step_perform

BATCH_STEPS = frozenset({Step.CHECK_BY_TOWNSHIP.value, Step.APPROVE_BY_TOWNSHIP.value})
# One confirmation page must stay readable, and one request short.
BATCH_MAX = 100


@dataclass
class BatchItem:
    """One selected task as the confirmation page lists it; ``problem`` says why it stays out of the batch."""

    task: Task
    matter: Matter
    evidence_count: int
    problem: str = ""

    @property
    def can_agree(self) -> bool:
        return not self.problem


@dataclass
class BatchOutcome:
    step: str
    done: list[tuple[Matter, StepRecord]] = field(default_factory=list)
    failed: list[tuple[Matter, str]] = field(default_factory=list)


def _task_ids(task_ids: Iterable) -> list[int]:
    ids = []
    for raw in task_ids:
        try:
            ids.append(int(raw))
        except (TypeError, ValueError):
            continue
    return list(dict.fromkeys(ids))


def batch_items(*, user, task_ids: Iterable) -> tuple[str, list[BatchItem]]:
    """The step of the selected tasks and each task with its matter, evidence count and any problem.

    Raises ValidationError when nothing is selected, too much is, or the tasks are of different
    steps or of a step a batch never agrees at: then nothing is listed and nothing is done.
    """
    ids = _task_ids(task_ids)
    if not ids:
        raise ValidationError(_("Select the matters to approve together."))
    if len(ids) > BATCH_MAX:
        raise ValidationError(_("A batch takes at most %(max)s matters.") % {"max": BATCH_MAX})
    tasks = list(Task.objects.filter(pk__in=ids).select_related("owner").order_by("pk"))
    steps = {task.flow_task.name for task in tasks}
    if len(steps) != 1:
        raise ValidationError(_("A batch takes matters waiting at one and the same step; select them step by step."))
    step = steps.pop()
    if step not in BATCH_STEPS:
        raise ValidationError(
            _("Only the township check and the township approval can be agreed in a batch; %(step)s cannot.")
            % {"step": Step(step).label if step in Step.values else step}
        )
    matters = {
        matter.process_id: matter
        for matter in Matter.objects.filter(process_id__in=[task.process_id for task in tasks])
        .select_related("organization", "organization__parent", "rule_version")
        .annotate(
            evidence_count=Count("evidence", distinct=True),
            application_files=Count("evidence", filter=Q(evidence__step=Step.APPLY), distinct=True),
        )
    }
    items = []
    for task in tasks:
        matter = matters.get(task.process_id)
        if matter is None:
            continue
        items.append(BatchItem(task=task, matter=matter, evidence_count=matter.evidence_count))
    if not any(can_act(user, item.matter.organization, STEP_ROLES[step]) for item in items):
        raise PermissionDenied
    for item in items:
        item.problem = _problem(user, item, step)
    return step, items


def batch_alone_reason(
    matter: Matter, *, evidence_count: int | None = None, application_files: int | None = None
) -> str:
    """Why the county's rules keep this matter out of any batch, or "" (amount and evidence only).

    ``application_files`` (else the inbox's ``has_application_file`` annotation) counts the application's
    files: from the county's evidence amount, an approval without one is confirmed on the matter's own page."""
    limit = matter.rule_version.batch_approval_limit
    has_evidence = evidence_count > 0 if evidence_count is not None else getattr(matter, "has_evidence", True)
    if application_files is None and hasattr(matter, "has_application_file"):
        application_files = int(matter.has_application_file)
    if not limit:
        return _("The county's rules allow no batch approval; approve this matter on its own page.")
    if matter.amount > limit:
        return _("Above the batch limit of %(limit)s set by the county; approve this matter on its own page.") % {
            "limit": yuan_short(limit)
        }
    if not has_evidence:
        return _("No evidence is attached; approve this matter on its own page after checking it.")
    if application_files is not None and approval_lacks_application_file(
        matter, matter.next_step, application_files=application_files
    ):
        return _(
            "Its application carries no evidence file, which the county asks for from %(threshold)s: "
            "approve this matter on its own page, with the confirmation."
        ) % {"threshold": yuan_short(matter.rule_version.evidence_threshold)}
    return ""


def _problem(user, item: BatchItem, step: str) -> str:
    matter, task = item.matter, item.task
    if not can_act(user, matter.organization, STEP_ROLES[step]):
        return _("Not in your jurisdiction.")
    if task.status not in ACTIVE or not matter.is_open or matter.next_step != step:
        return _("This step has already been handled.")
    if task.owner_id and task.owner_id != user.pk:
        return _("%(name)s has taken this step.") % {"name": display_name(task.owner)}
    return batch_alone_reason(matter, evidence_count=item.evidence_count, application_files=matter.application_files)


def batch_approve(*, user, task_ids: Iterable, opinion: str) -> BatchOutcome:
    """Agree each selected task that may be in the batch, one ordinary step at a time.

    Checks run again here, not only on the confirmation page: a matter that changed since (handled by a
    colleague, returned, taken) fails with its reason and the others go on. Never wrap this in a
    transaction: each step must commit on its own.
    """
    step, items = batch_items(user=user, task_ids=task_ids)
    outcome = BatchOutcome(step=step)
    for item in items:
        if item.problem:
            outcome.failed.append((item.matter, item.problem))
            continue
        try:
            record = step_perform(user=user, task_id=item.task.pk, decision=Decision.AGREE, opinion=opinion)
        except TaskConflict as error:
            outcome.failed.append((item.matter, str(error)))
        except ValidationError as error:
            outcome.failed.append((item.matter, " ".join(error.messages)))
        except PermissionDenied:
            outcome.failed.append((item.matter, _("Not in your jurisdiction.")))
        else:
            outcome.done.append((item.matter, record))
    return outcome
