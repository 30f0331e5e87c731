"""`make demo`'s seeding gives beat something to watch: each warning rule fires, a task reminds and escalates."""

from io import StringIO

import pytest
from django.core.management import call_command

from flows.models import Notification, NotificationKind, ReminderLevel, TaskReminder
from flows.tasks import send_due_reminders
from registers.models import EarlyWarning, WarningRule
from registers.tasks import scan_early_warnings

# A fork of the tamper-evident log is raised by a witness (documents/witness.py), not by the sweep.
SWEPT_RULES = set(WarningRule.values) - {WarningRule.LEDGER_FORK}

pytestmark = pytest.mark.django_db


@pytest.fixture
def sweep_reminders(django_capture_on_commit_callbacks):
    """Beat's reminder sweep, running the jobs it queues after commit (the test's transaction never commits)."""

    def run():
        with django_capture_on_commit_callbacks(execute=True):
            return send_due_reminders()

    return run


@pytest.fixture
def seeded_demo():
    call_command("seed_demo", verbosity=0)
    call_command("seed_matters", "24", "--if-empty", stdout=StringIO())
    call_command("seed_watch_demo", stdout=StringIO())


def test_beat_sweeps_raise_every_warning_rule_on_the_demo_data(seeded_demo):
    scan_early_warnings()
    raised = set(EarlyWarning.objects.values_list("rule", flat=True))
    assert raised == SWEPT_RULES


def test_beat_sweep_reminds_and_escalates_demo_tasks_once(seeded_demo, sweep_reminders):
    sweep_reminders()
    sweep_reminders()
    levels = list(TaskReminder.objects.values_list("level", flat=True))
    assert levels.count(ReminderLevel.ESCALATE) >= 1
    assert levels.count(ReminderLevel.REMIND) >= 2
    escalation = TaskReminder.objects.filter(level=ReminderLevel.ESCALATE).first()
    # Escalations reach the township leader of the demo township (东湖镇) once per task.
    leader_rows = Notification.objects.filter(
        recipient__username="leader_dh", kind=NotificationKind.ESCALATION, task_id=escalation.task_id
    )
    assert leader_rows.count() == 1


def test_seeding_the_watch_demo_twice_adds_nothing(seeded_demo, sweep_reminders):
    scan_early_warnings()
    sweep_reminders()
    before = (EarlyWarning.objects.count(), TaskReminder.objects.count(), Notification.objects.count())
    call_command("seed_watch_demo", stdout=StringIO())
    scan_early_warnings()
    sweep_reminders()
    assert (EarlyWarning.objects.count(), TaskReminder.objects.count(), Notification.objects.count()) == before


def test_the_officer_agreeing_gives_leader_dh_a_new_task(seeded_demo, django_capture_on_commit_callbacks):
    from django.contrib.auth import get_user_model

    from demo.seed import demo_matter_for_the_leader
    from flows.models import Step
    from tests.drive import act

    matter = demo_matter_for_the_leader()
    assert matter.next_step == Step.CHECK_BY_TOWNSHIP
    assert Step.APPROVE_BY_TOWNSHIP in matter.required_steps
    officer = get_user_model().objects.get(username="officer_dh")
    with django_capture_on_commit_callbacks(execute=True):
        act(officer, matter)
    arrived = Notification.objects.filter(
        recipient__username="leader_dh", kind=NotificationKind.TASK_NEW, matter=matter
    )
    assert arrived.count() == 1
