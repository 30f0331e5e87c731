"""Reminders on a real Celery worker, and two senders at once: the path the demo and production take."""

import datetime
import threading
from unittest import mock

import pytest
from celery.signals import task_postrun
from django.db import OperationalError, close_old_connections, connection
from django.utils import timezone
from viewflow.workflow.models import Task

from flows import services
from flows.models import Notification, NotificationKind, ReminderLevel, Step, TaskReminder
from flows.reminders import reminder_send
from flows.tasks import send_due_reminders, send_task_reminder
from tests.conftest import build_world
from tests.drive import apply_purchase, refresh
from tests.flows.test_publication_worker import real_worker  # noqa: F401  (the worker fixture)
from tests.flows.test_spine import to_step

pytestmark = pytest.mark.django_db(transaction=True)


def overdue_check(world, days: int):
    """A matter whose township check has waited ``days`` days and a minute."""
    matter = to_step(world, apply_purchase(world), Step.CHECK_BY_TOWNSHIP)
    task = services.active_task(refresh(matter), Step.CHECK_BY_TOWNSHIP)
    Task.objects.filter(pk=task.pk).update(created=timezone.now() - datetime.timedelta(days=days, minutes=1))
    return matter, task


class Finished:
    """The worker's own report of each task it ends (Celery's task_postrun, sent in the worker's thread).

    A test waits on it instead of polling the database: on SQLite's shared in-memory test database a read
    by the test while the worker writes makes one of them fail with "database table is locked"."""

    def __init__(self):
        self.ended: list[tuple[str, str]] = []
        self.changed = threading.Condition()

    def record(self, sender=None, state=None, **kwargs):
        with self.changed:
            self.ended.append((sender.name, state))
            self.changed.notify_all()

    def count(self, task, state="SUCCESS") -> int:
        return self.ended.count((task.name, state))

    def wait_for(self, *expected: tuple, seconds: float = 60.0) -> bool:
        """Until each (task, times) has succeeded that many times; False at once if a task failed for good."""

        def settled():
            return any(state == "FAILURE" for _name, state in self.ended) or all(
                self.count(task) >= times for task, times in expected
            )

        with self.changed:
            self.changed.wait_for(settled, timeout=seconds)
            return all(self.count(task) >= times for task, times in expected)


@pytest.fixture
def finished():
    report = Finished()
    task_postrun.connect(report.record, weak=False)
    try:
        yield report
    finally:
        task_postrun.disconnect(report.record)


@pytest.mark.usefixtures("real_worker")
def test_worker_runs_the_sweep_and_its_jobs_remind_and_escalate(finished):
    world = build_world()
    matter, task = overdue_check(world, days=6)
    send_due_reminders.delay()
    # Nothing reads the database until the worker has ended the sweep and both jobs it queued.
    assert finished.wait_for((send_due_reminders, 1), (send_task_reminder, 2)), finished.ended
    assert sorted(TaskReminder.objects.filter(matter=matter).values_list("level", flat=True)) == sorted(
        [ReminderLevel.REMIND, ReminderLevel.ESCALATE]
    )
    assert Notification.objects.filter(recipient=world.leader_a, kind=NotificationKind.ESCALATION).exists()
    assert (
        Notification.objects.filter(recipient=world.officer_a, kind=NotificationKind.REMINDER, task_id=task.pk).count()
        == 1
    )


@pytest.mark.usefixtures("real_worker")
def test_worker_retries_a_transient_failure_with_backoff(finished):
    world = build_world()
    matter, task = overdue_check(world, days=3)
    calls = []

    def fail_once(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return reminder_send(**kwargs)

    with mock.patch("flows.tasks.reminder_send", side_effect=fail_once):
        send_task_reminder.delay(task.pk, ReminderLevel.REMIND)
        assert finished.wait_for((send_task_reminder, 1)), finished.ended
    assert finished.count(send_task_reminder, "RETRY") == 1
    assert TaskReminder.objects.filter(matter=matter).exists()
    assert len(calls) == 2
    assert Notification.objects.filter(recipient=world.officer_a, kind=NotificationKind.REMINDER).count() == 1


@pytest.mark.postgres
def test_two_senders_at_once_send_one_reminder():
    if connection.vendor != "postgresql":
        pytest.skip("row locks are only real on PostgreSQL (SQLite serialises whole transactions)")
    world = build_world()
    matter, task = overdue_check(world, days=3)
    barrier = threading.Barrier(2)
    outcomes = []

    def send():
        try:
            barrier.wait()
            outcomes.append(reminder_send(task_id=task.pk, level=ReminderLevel.REMIND) is not None)
        except Exception as error:  # any other failure is reported in the assertion
            outcomes.append(repr(error))
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == [False, True]
    assert TaskReminder.objects.filter(matter=matter).count() == 1
    assert Notification.objects.filter(recipient=world.officer_a, kind=NotificationKind.REMINDER).count() == 1
