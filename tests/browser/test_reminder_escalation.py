"""A township leader finds the demo's overdue check escalated in the notification centre and follows it."""

import re
from io import StringIO

import pytest
from django.core.management import call_command

from demo.reminders import demo_overdue_tasks
from flows.models import ReminderLevel, Step, TaskReminder
from flows.tasks import send_due_reminders

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def swept_demo(demo):
    """The demo as `make demo` leaves it a minute after starting: matters seeded, beat's reminder sweep run."""
    call_command("seed_matters", "17", "--village", "DH01", stdout=StringIO())
    demo_overdue_tasks()
    send_due_reminders()
    return TaskReminder.objects.select_related("matter").get(level=ReminderLevel.ESCALATE).matter


def test_leader_sees_the_escalation_and_follows_it_to_the_matter(actor, swept_demo):
    matter = swept_demo
    page = actor.login("leader_dh")
    page.goto(f"{actor.base_url}/notifications/")
    escalation = page.locator('#notification-list li[data-kind="escalation"]')
    assert escalation.count() == 1
    assert matter.title in escalation.inner_text()
    escalation.locator('button[data-role="open"]').click()
    page.wait_for_url(re.compile(rf"/matters/{matter.pk}/$"))
    # The matter page keeps the record: reminded first, then escalated, at the township check.
    rows = page.locator("#reminders tbody tr")
    assert [rows.nth(i).get_attribute("data-level") for i in range(rows.count())] == [
        ReminderLevel.REMIND,
        ReminderLevel.ESCALATE,
    ]
    assert rows.first.get_attribute("data-step") == Step.CHECK_BY_TOWNSHIP
    # Opening it read the notification: it has left the unread list.
    page.goto(f"{actor.base_url}/notifications/?state=unread")
    assert page.locator('#notification-list li[data-kind="escalation"]').count() == 0


def test_officer_holding_the_check_is_reminded_and_told_of_the_escalation(actor, swept_demo):
    page = actor.login("officer_dh")
    page.goto(f"{actor.base_url}/notifications/")
    kinds = page.locator("#notification-list li").evaluate_all("items => items.map(item => item.dataset.kind)")
    assert "reminder" in kinds
    assert "escalation" in kinds
    # The village secretary's step (party branch proposal) was only reminded, never escalated.
    page = actor.login("sec_dh01")
    page.goto(f"{actor.base_url}/notifications/?state=unread")
    kinds = page.locator("#notification-list li").evaluate_all("items => items.map(item => item.dataset.kind)")
    assert "reminder" in kinds
    assert "escalation" not in kinds
