"""The demo's overdue tasks: a few open tasks backdated so beat's first sweep reminds one and escalates another.

Run after the demo matters are seeded (``seed_watch_demo``). Safe to re-run: a slot that already has
a task waiting long enough is kept, so a second run backdates nothing new and the sweep sends nothing twice.
"""

import datetime
from dataclasses import dataclass

from django.utils import timezone
from viewflow.workflow.models import Task

from demo.seed import TOWNSHIPS
from flows.models import Matter, ReminderLevel, Step
from flows.reminders import days_before_level, open_human_tasks
from organizations.models import Organization


@dataclass(frozen=True)
class OverdueSlot:
    """One task to make overdue: the first open one at the first of ``steps`` that has any, up to ``level``."""

    name: str
    steps: tuple[str, ...]
    level: str


SLOTS = [
    # The township officer's check waits past both periods: the township leader hears of it.
    OverdueSlot("township check", (Step.CHECK_BY_TOWNSHIP, Step.APPROVE_BY_TOWNSHIP), ReminderLevel.ESCALATE),
    # A village step waits past the reminder days only: its holders are reminded.
    OverdueSlot(
        "village step",
        (
            Step.PROPOSE,
            Step.DELIBERATE,
            Step.REVIEW_BY_PARTY_MEMBERS,
            Step.RESOLVE_BY_MEMBERS,
            Step.IMPLEMENT,
            Step.APPLY,
        ),
        ReminderLevel.REMIND,
    ),
]
# Past the due moment by this much, so the first sweep after seeding finds the task due.
MARGIN = datetime.timedelta(hours=1)


def demo_overdue_tasks(*, township_code: str = TOWNSHIPS[0][0]) -> list[str]:
    """Backdate one task per slot in the township's villages; returns what was done, one line per slot."""
    township = Organization.objects.filter(code=township_code).first()
    if township is None:
        return []
    now = timezone.now()
    in_township = open_human_tasks().filter(process__matter__organization__path__startswith=township.path)
    done = []
    for slot in SLOTS:
        candidates = [_open_tasks_at(in_township, step) for step in slot.steps]
        waiting = [(task, matter) for tasks in candidates for task, matter in tasks]
        kept = next(((t, m) for t, m in waiting if t.created <= now - _days(m, slot.level)), None)
        if kept is not None:
            done.append(_line(slot, *kept, "kept"))
            continue
        first = next((tasks[0] for tasks in candidates if tasks), None)
        if first is None:
            done.append(f"{slot.name}: no open task in {township}")
            continue
        task, matter = first
        Task.objects.filter(pk=task.pk).update(created=now - _days(matter, slot.level) - MARGIN)
        done.append(_line(slot, task, matter, "backdated"))
    return done


def _open_tasks_at(tasks, step: str) -> list[tuple[Task, Matter]]:
    found = list(tasks.filter(flow_task__endswith=f".{step}").order_by("pk"))
    matters = Matter.objects.select_related("rule_version").in_bulk(
        [task.process_id for task in found], field_name="process_id"
    )
    return [(task, matters[task.process_id]) for task in found]


def _days(matter: Matter, level: str) -> datetime.timedelta:
    return datetime.timedelta(days=days_before_level(matter.rule_version, level))


def _line(slot: OverdueSlot, task: Task, matter: Matter, what: str) -> str:
    return f"{slot.name}: task {task.pk} of “{matter.title}” at {task.flow_task.name} {what} ({slot.level})"
