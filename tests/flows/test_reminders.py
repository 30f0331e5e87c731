"""Reminders (催办) and escalation: who hears, when, and never twice."""

import datetime
from io import StringIO
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone
from viewflow.workflow.models import Task

from demo.reminders import demo_overdue_tasks
from flows import services
from flows.models import Notification, NotificationKind, ReminderLevel, Step, TaskReminder
from flows.reminders import due_reminders, reminder_send
from flows.tasks import send_due_reminders, send_task_reminder
from organizations.models import OrganizationKind, Role
from organizations.rules import rule_version_seed_defaults
from project.celery import app
from tests.drive import act, apply_purchase, refresh
from tests.factories import OrganizationFactory, PostFactory, UserFactory
from tests.flows.test_spine import to_step

pytestmark = pytest.mark.django_db

A_MINUTE = datetime.timedelta(minutes=1)


def waiting_task(matter) -> Task:
    matter = refresh(matter)
    return services.active_task(matter, matter.next_step)


def let_wait(matter, days: float, extra=A_MINUTE) -> Task:
    """Move the waiting task's start back (the clock stays): it has waited ``days`` days and a minute."""
    task = waiting_task(matter)
    Task.objects.filter(pk=task.pk).update(created=timezone.now() - datetime.timedelta(days=days) - extra)
    return task


@pytest.fixture
def sweep(django_capture_on_commit_callbacks):
    """Beat's sweep, with the jobs it queues after commit run as a worker would run them."""

    def run() -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return send_due_reminders()

    return run


# Other events (a new task, a step taken) notify too; these tests look at reminders and escalations only.
WATCH_KINDS = (NotificationKind.REMINDER, NotificationKind.ESCALATION)


def received(user, kind=None):
    """The reminders and escalations the user received (only ``kind`` when given)."""
    return list(Notification.objects.filter(recipient=user, kind__in=[kind] if kind else WATCH_KINDS))


def levels_sent(matter) -> list[str]:
    return sorted(TaskReminder.objects.filter(matter=matter).values_list("level", flat=True))


# --- who is reminded ---------------------------------------------------------------


def test_task_waiting_past_the_reminder_days_reminds_whoever_may_act_on_it(world, sweep):
    matter = to_step(world, apply_purchase(world), Step.PROPOSE)
    task = let_wait(matter, days=3)
    assert sweep() == 1
    (reminder,) = TaskReminder.objects.filter(matter=matter)
    assert (reminder.task_id, reminder.step, reminder.level) == (task.pk, Step.PROPOSE, ReminderLevel.REMIND)
    (row,) = received(world.secretary_a1)
    assert (row.kind, row.matter, row.task_id) == (NotificationKind.REMINDER, matter, task.pk)
    assert row.url == matter.get_absolute_url()
    assert row.data == {"step": Step.PROPOSE, "level": ReminderLevel.REMIND, "waited_days": 3}
    # Nobody else: not the cashier (who cannot propose), not another village's secretary, no leader yet.
    for bystander in (world.cashier_a1, world.secretary_a2, world.officer_a, world.leader_a):
        assert received(bystander) == []


def test_task_not_yet_waiting_the_reminder_days_sends_nothing(world, sweep):
    matter = to_step(world, apply_purchase(world), Step.PROPOSE)
    let_wait(matter, days=3, extra=-A_MINUTE)
    assert sweep() == 0
    assert TaskReminder.objects.count() == 0
    assert received(world.secretary_a1) == []


def test_beat_firing_twice_sends_one_reminder(world, sweep):
    matter = to_step(world, apply_purchase(world), Step.PROPOSE)
    let_wait(matter, days=3)
    assert sweep() == 1
    assert sweep() == 0
    assert levels_sent(matter) == [ReminderLevel.REMIND]
    assert len(received(world.secretary_a1, NotificationKind.REMINDER)) == 1


def test_a_job_run_twice_sends_once(world):
    """Two jobs for the same task and level (a repeated sweep raced the first job): the second does nothing."""
    matter = to_step(world, apply_purchase(world), Step.PROPOSE)
    task = let_wait(matter, days=3)
    assert send_task_reminder.delay(task.pk, ReminderLevel.REMIND).get() is True
    assert send_task_reminder.delay(task.pk, ReminderLevel.REMIND).get() is False
    assert len(received(world.secretary_a1)) == 1


def test_taken_task_reminds_only_its_owner(world, sweep):
    other_officer = UserFactory(username="officer_a_two")
    PostFactory(user=other_officer, organization=world.township_a, role=Role.TOWNSHIP_OFFICER)
    matter = to_step(world, apply_purchase(world), Step.CHECK_BY_TOWNSHIP)
    services.task_take(user=world.officer_a, task_id=waiting_task(matter).pk)
    let_wait(matter, days=3)
    sweep()
    assert [row.kind for row in received(world.officer_a)] == [NotificationKind.REMINDER]
    assert received(other_officer) == []


def test_untaken_township_check_reminds_every_officer_of_the_township(world, sweep):
    other_officer = UserFactory(username="officer_a_two")
    PostFactory(user=other_officer, organization=world.township_a, role=Role.TOWNSHIP_OFFICER)
    matter = to_step(world, apply_purchase(world), Step.CHECK_BY_TOWNSHIP)
    let_wait(matter, days=3)
    sweep()
    assert len(received(world.officer_a, NotificationKind.REMINDER)) == 1
    assert len(received(other_officer, NotificationKind.REMINDER)) == 1
    assert received(world.officer_b) == []


def test_owner_who_left_hands_the_reminder_back_to_the_step_holders(world, sweep):
    other_officer = UserFactory(username="officer_a_two")
    PostFactory(user=other_officer, organization=world.township_a, role=Role.TOWNSHIP_OFFICER)
    matter = to_step(world, apply_purchase(world), Step.CHECK_BY_TOWNSHIP)
    services.task_take(user=world.officer_a, task_id=waiting_task(matter).pk)
    world.officer_a.is_active = False
    world.officer_a.save()
    let_wait(matter, days=3)
    sweep()
    assert received(world.officer_a) == []
    assert len(received(other_officer, NotificationKind.REMINDER)) == 1


def test_meeting_step_reminds_the_village_supervisor(world, sweep):
    matter = to_step(world, apply_purchase(world), Step.DELIBERATE)
    let_wait(matter, days=3)
    sweep()
    assert [row.kind for row in received(world.supervisor_a1)] == [NotificationKind.REMINDER]
    assert received(world.secretary_a1, NotificationKind.REMINDER) == []
    assert received(world.supervisor_a2) == []


def test_returned_application_reminds_the_village_applicants(world, sweep):
    matter = to_step(world, apply_purchase(world), Step.CHECK_BY_TOWNSHIP)
    act(world.officer_a, matter, decision="return", opinion="缺报价单", return_to=Step.APPLY)
    let_wait(matter, days=3)
    sweep()
    assert levels_sent(matter) == [ReminderLevel.REMIND]
    assert len(received(world.secretary_a1, NotificationKind.REMINDER)) == 1
    assert len(received(world.cashier_a1, NotificationKind.REMINDER)) == 1


def test_publication_waits_for_its_timer_and_is_never_reminded(world, sweep):
    matter = to_step(world, apply_purchase(world), Step.PUBLISH_RESOLUTION)
    long_ago = timezone.now() - datetime.timedelta(days=60)
    Task.objects.filter(process_id=matter.process_id).update(created=long_ago)
    assert sweep() == 0
    assert TaskReminder.objects.count() == 0
    assert Notification.objects.filter(kind__in=[NotificationKind.REMINDER, NotificationKind.ESCALATION]).count() == 0


# --- escalation ----------------------------------------------------------------------


def test_after_the_further_days_it_escalates_to_the_township_leaders_and_tells_the_holder(world, sweep):
    matter = to_step(world, apply_purchase(world), Step.CHECK_BY_TOWNSHIP)
    task = let_wait(matter, days=3 + 3)
    assert sweep() == 2
    assert levels_sent(matter) == [ReminderLevel.ESCALATE, ReminderLevel.REMIND]
    for leader in (world.leader_a, world.second_leader_a):
        (row,) = received(leader)
        assert (row.kind, row.matter, row.task_id, row.url) == (
            NotificationKind.ESCALATION,
            matter,
            task.pk,
            matter.get_absolute_url(),
        )
        assert row.data["level"] == ReminderLevel.ESCALATE
    assert sorted(row.kind for row in received(world.officer_a)) == [
        NotificationKind.ESCALATION,
        NotificationKind.REMINDER,
    ]
    # Another township's leader hears nothing of it.
    assert received(world.leader_b) == []


def test_reminded_task_escalates_only_after_the_further_days(world, sweep):
    matter = to_step(world, apply_purchase(world), Step.CHECK_BY_TOWNSHIP)
    let_wait(matter, days=3)
    sweep()
    let_wait(matter, days=3 + 3, extra=-A_MINUTE)
    assert sweep() == 0
    assert received(world.leader_a) == []
    let_wait(matter, days=3 + 3)
    assert sweep() == 1
    assert levels_sent(matter) == [ReminderLevel.ESCALATE, ReminderLevel.REMIND]
    assert len(received(world.leader_a, NotificationKind.ESCALATION)) == 1


def test_leader_who_holds_the_waiting_approval_hears_of_its_escalation_once(world, sweep):
    matter = to_step(world, apply_purchase(world, total="50000.00", quotations=3), Step.APPROVE_BY_TOWNSHIP)
    let_wait(matter, days=6)
    sweep()
    for leader in (world.leader_a, world.second_leader_a):
        assert sorted(row.kind for row in received(leader)) == [NotificationKind.ESCALATION, NotificationKind.REMINDER]


# --- tasks that no longer wait ------------------------------------------------------


def test_finished_task_gets_nothing(world, sweep):
    matter = to_step(world, apply_purchase(world), Step.PROPOSE)
    task = let_wait(matter, days=10)
    act(world.secretary_a1, matter)
    assert sweep() == 0
    assert reminder_send(task_id=task.pk, level=ReminderLevel.REMIND) is None
    assert TaskReminder.objects.count() == 0
    assert received(world.secretary_a1, NotificationKind.REMINDER) == []


def test_task_of_a_withdrawn_matter_gets_nothing(world, sweep):
    matter = to_step(world, apply_purchase(world), Step.PROPOSE)
    task = let_wait(matter, days=10)
    services.matter_withdraw(user=world.secretary_a1, matter_id=matter.pk, reason="不再需要")
    assert Task.objects.get(pk=task.pk).status not in services.ACTIVE
    assert sweep() == 0
    assert reminder_send(task_id=task.pk, level=ReminderLevel.ESCALATE) is None
    assert TaskReminder.objects.count() == 0


def test_job_for_a_task_finished_since_the_sweep_sends_nothing(world, django_capture_on_commit_callbacks):
    matter = to_step(world, apply_purchase(world), Step.PROPOSE)
    let_wait(matter, days=3)
    with django_capture_on_commit_callbacks() as queued:
        send_due_reminders()
    act(world.secretary_a1, matter)
    for job in queued:
        job()
    assert TaskReminder.objects.count() == 0


def test_job_for_a_task_that_is_not_due_sends_nothing(world):
    matter = to_step(world, apply_purchase(world), Step.PROPOSE)
    task = let_wait(matter, days=3)
    assert reminder_send(task_id=task.pk, level=ReminderLevel.ESCALATE) is None
    assert reminder_send(task_id=999_999, level=ReminderLevel.REMIND) is None
    assert TaskReminder.objects.count() == 0


# --- days from the matter's rule table ----------------------------------------------


def second_county():
    """Another county whose rule table reminds after one day and escalates one day later."""
    county = OrganizationFactory(name="北岭县", code="N", kind=OrganizationKind.COUNTY)
    township = OrganizationFactory(name="北岭镇", code="NT", kind=OrganizationKind.TOWNSHIP, parent=county)
    village = OrganizationFactory(name="北岭村", code="N1", parent=township)
    collective = OrganizationFactory(
        name="北岭村股份经济合作社", code="N1-JJ", kind=OrganizationKind.COLLECTIVE, parent=village
    )
    version = rule_version_seed_defaults(county=county, effective_from=datetime.date(2026, 1, 1))
    version.reminder_days, version.escalation_days = 1, 1
    version.save()
    secretary = UserFactory(username="sec_n1")
    PostFactory(user=secretary, organization=village, role=Role.VILLAGE_SECRETARY)
    return collective, secretary


def test_matter_in_another_county_uses_its_own_rule_days(world, sweep):
    collective, secretary = second_county()
    theirs = apply_purchase(world, user=secretary, organization=collective, title="北岭村购置电脑")
    ours = apply_purchase(world)
    assert refresh(theirs).next_step == refresh(ours).next_step == Step.PROPOSE
    let_wait(theirs, days=1)
    let_wait(ours, days=1)
    sweep()
    assert levels_sent(theirs) == [ReminderLevel.REMIND]
    assert len(received(secretary, NotificationKind.REMINDER)) == 1
    assert levels_sent(ours) == []
    let_wait(theirs, days=2)
    sweep()
    assert levels_sent(theirs) == [ReminderLevel.ESCALATE, ReminderLevel.REMIND]


def test_rule_version_with_more_days_does_not_remind_yet(world, sweep):
    world.rule_version.reminder_days, world.rule_version.escalation_days = 10, 5
    world.rule_version.save()
    matter = to_step(world, apply_purchase(world), Step.CHECK_BY_TOWNSHIP)
    let_wait(matter, days=6)
    assert sweep() == 0
    let_wait(matter, days=10)
    assert sweep() == 1
    assert levels_sent(matter) == [ReminderLevel.REMIND]
    let_wait(matter, days=15)
    assert sweep() == 1
    assert len(received(world.leader_a, NotificationKind.ESCALATION)) == 1


def test_a_later_rule_version_does_not_change_a_running_matters_days(world, sweep):
    matter = to_step(world, apply_purchase(world), Step.PROPOSE)
    later = rule_version_seed_defaults(county=world.county, effective_from=timezone.localdate())
    later.reminder_days = 30
    later.save()
    let_wait(matter, days=3)
    sweep()
    assert levels_sent(matter) == [ReminderLevel.REMIND]


# --- one transaction, retries, queueing ----------------------------------------------


@pytest.fixture
def eager_retries():
    """Let Celery's eager mode run a task's retries: with errors propagated, the first retry ends the call."""
    previous = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = previous


def test_failed_notification_leaves_no_reminder_row_and_a_retry_sends_it(world):
    matter = to_step(world, apply_purchase(world), Step.PROPOSE)
    task = let_wait(matter, days=3)
    with mock.patch("flows.reminders.notify", side_effect=OperationalError("database is locked")):
        with pytest.raises(OperationalError):
            reminder_send(task_id=task.pk, level=ReminderLevel.REMIND)
    assert TaskReminder.objects.count() == 0
    assert Notification.objects.filter(kind=NotificationKind.REMINDER).count() == 0
    assert reminder_send(task_id=task.pk, level=ReminderLevel.REMIND) is not None
    assert len(received(world.secretary_a1, NotificationKind.REMINDER)) == 1


def test_transient_failure_is_retried_and_the_reminder_still_goes_out(world, eager_retries):
    matter = to_step(world, apply_purchase(world), Step.PROPOSE)
    task = let_wait(matter, days=3)
    calls = []

    def fail_once(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return reminder_send(**kwargs)

    with mock.patch("flows.tasks.reminder_send", side_effect=fail_once):
        assert send_task_reminder.delay(task.pk, ReminderLevel.REMIND).get() is True
    assert len(calls) == 2
    assert levels_sent(matter) == [ReminderLevel.REMIND]
    assert len(received(world.secretary_a1, NotificationKind.REMINDER)) == 1


def test_reminder_job_retries_with_backoff_and_gives_up_after_its_limit(world, eager_retries):
    assert OperationalError in send_task_reminder.autoretry_for
    assert send_task_reminder.retry_backoff is True
    matter = to_step(world, apply_purchase(world), Step.PROPOSE)
    task = let_wait(matter, days=3)
    failure = mock.Mock(side_effect=OperationalError("database is locked"))
    with mock.patch("flows.tasks.reminder_send", failure):
        result = send_task_reminder.delay(task.pk, ReminderLevel.REMIND)
    assert result.failed()
    assert isinstance(result.result, OperationalError)
    assert failure.call_count == send_task_reminder.max_retries + 1
    assert TaskReminder.objects.count() == 0


def test_a_non_transient_error_is_not_retried(world):
    failure = mock.Mock(side_effect=ValueError("a bug"))
    with mock.patch("flows.tasks.reminder_send", failure), pytest.raises(ValueError):
        send_task_reminder.delay(1, ReminderLevel.REMIND)
    assert failure.call_count == 1


def test_sweep_queues_its_jobs_after_commit(world, django_capture_on_commit_callbacks):
    first = let_wait(to_step(world, apply_purchase(world, title="一"), Step.PROPOSE), days=3)
    second = let_wait(to_step(world, apply_purchase(world, title="二"), Step.CHECK_BY_TOWNSHIP), days=6)
    with mock.patch.object(send_task_reminder, "delay") as delay:
        with django_capture_on_commit_callbacks() as queued:
            assert send_due_reminders() == 3
        delay.assert_not_called()
        for job in queued:
            job()
    assert sorted(call.args for call in delay.call_args_list) == [
        (first.pk, ReminderLevel.REMIND),
        (second.pk, ReminderLevel.ESCALATE),
        (second.pk, ReminderLevel.REMIND),
    ]


def test_a_broker_that_is_down_does_not_break_the_sweep(world, django_capture_on_commit_callbacks):
    let_wait(to_step(world, apply_purchase(world), Step.PROPOSE), days=3)
    with mock.patch.object(send_task_reminder, "delay", side_effect=ConnectionError("broker down")):
        with django_capture_on_commit_callbacks(execute=True):
            assert send_due_reminders() == 1
    # Nothing was sent, so the next sweep finds the task again.
    assert due_reminders() != []


# --- the selector --------------------------------------------------------------------


def test_due_reminders_lists_each_task_and_level_once_oldest_first_reminder_before_escalation(world):
    reminded = let_wait(to_step(world, apply_purchase(world, title="一"), Step.PROPOSE), days=3)
    escalated = let_wait(to_step(world, apply_purchase(world, title="二"), Step.CHECK_BY_TOWNSHIP), days=6)
    let_wait(to_step(world, apply_purchase(world, title="三"), Step.DELIBERATE), days=1)
    assert due_reminders() == [
        (reminded.pk, ReminderLevel.REMIND),
        (escalated.pk, ReminderLevel.REMIND),
        (escalated.pk, ReminderLevel.ESCALATE),
    ]


def test_due_reminders_query_count_does_not_grow_with_the_tasks(world, django_assert_num_queries):
    let_wait(to_step(world, apply_purchase(world, title="一"), Step.PROPOSE), days=6)
    with django_assert_num_queries(3):
        assert len(due_reminders()) == 2
    for title in ("二", "三", "四"):
        let_wait(to_step(world, apply_purchase(world, title=title), Step.CHECK_BY_TOWNSHIP), days=6)
    with django_assert_num_queries(3):
        assert len(due_reminders()) == 8


# --- the matter page ------------------------------------------------------------------


def test_matter_page_shows_the_reminder_and_escalation_record(world, sweep, client):
    matter = to_step(world, apply_purchase(world), Step.CHECK_BY_TOWNSHIP)
    let_wait(matter, days=6)
    sweep()
    client.force_login(world.leader_a)
    page = client.get(reverse("flows:matter_detail", args=[matter.pk])).content.decode()
    assert 'id="reminders"' in page
    assert f'data-level="{ReminderLevel.REMIND}" data-step="{Step.CHECK_BY_TOWNSHIP}"' in page
    assert f'data-level="{ReminderLevel.ESCALATE}" data-step="{Step.CHECK_BY_TOWNSHIP}"' in page


def test_matter_page_without_reminders_has_no_reminder_section(world, client):
    matter = to_step(world, apply_purchase(world), Step.PROPOSE)
    client.force_login(world.secretary_a1)
    assert 'id="reminders"' not in client.get(reverse("flows:matter_detail", args=[matter.pk])).content.decode()


@pytest.mark.parametrize("persona", ["secretary_b1", "leader_b", "inspector_b"])
def test_other_places_never_see_a_matters_reminders(world, sweep, client, persona):
    matter = to_step(world, apply_purchase(world), Step.CHECK_BY_TOWNSHIP)
    let_wait(matter, days=6)
    sweep()
    client.force_login(getattr(world, persona))
    assert client.get(reverse("flows:matter_detail", args=[matter.pk])).status_code == 404
    assert received(getattr(world, persona)) == []


# --- the demo --------------------------------------------------------------------------


@pytest.fixture
def demo_matters(db):
    call_command("seed_demo", verbosity=0)
    call_command("seed_matters", "17", "--village", "DH01", stdout=StringIO())


def test_demo_overdue_tasks_make_the_first_sweep_remind_one_task_and_escalate_another(demo_matters, sweep):
    done = demo_overdue_tasks()
    assert [line.split(":")[0] for line in done] == ["township check", "village step"]
    assert all("backdated" in line for line in done)
    sweep()
    levels = sorted(TaskReminder.objects.values_list("level", flat=True))
    assert levels == [ReminderLevel.ESCALATE, ReminderLevel.REMIND, ReminderLevel.REMIND]
    escalated = TaskReminder.objects.get(level=ReminderLevel.ESCALATE)
    assert escalated.step == Step.CHECK_BY_TOWNSHIP
    leader = get_user_model().objects.get(username="leader_dh")
    assert (
        Notification.objects.filter(
            recipient=leader, kind=NotificationKind.ESCALATION, task_id=escalated.task_id
        ).count()
        == 1
    )


def test_demo_overdue_tasks_run_twice_backdate_nothing_new(demo_matters, sweep):
    demo_overdue_tasks()
    sweep()
    before = (TaskReminder.objects.count(), Notification.objects.count())
    again = demo_overdue_tasks()
    assert all("kept" in line for line in again)
    assert sweep() == 0
    assert (TaskReminder.objects.count(), Notification.objects.count()) == before


def test_demo_overdue_tasks_without_matters_does_nothing(db):
    call_command("seed_demo", verbosity=0)
    assert all("no open task" in line for line in demo_overdue_tasks())
    assert demo_overdue_tasks(township_code="NOWHERE") == []
