"""The SQL queries of one step are fixed: the same at any data size, within the budget of each step.

Each step is the service call a request or a job makes (BEGIN, COMMIT and savepoints counted, as Django
logs them), taken in a transaction of its own as in production: the test database is not wrapped
around it (``transaction=True``), so the step announces its new tasks inside its own transaction.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from documents.models import LedgerEntry
from flows import services
from flows.models import END, Decision, Matter, Notice, Notification, Step, StepRecord
from tests.conftest import purchase_data
from tests.drive import MEETING_BODY_OF_STEP, act, apply_purchase, hold_meeting

pytestmark = pytest.mark.django_db(transaction=True)

AMOUNT = Decimal("60000.00")  # a band that needs every step of the spine
# Steps a person takes on a task (the spine's flow.View nodes): the budget of 25, and of the mean of all.
HUMAN_STEP_BUDGET = 25
MEAN_STEP_BUDGET = 25
# Each step held where it is now, so that none can grow unnoticed. The steps beyond a person's do more by
# nature (a meeting's attendance and vote, a notice posted, the register effect, the archive and its dossier
# job). A meeting writes each attendee's way (one INSERT each for the rows, their history and their leaves,
# whatever the roster's size) and looks up its notice; implementation consumes what the application reserved.
BUDGETS = {
    Step.APPLY: 25,
    Step.PROPOSE: 18,
    Step.DELIBERATE: 26,
    Step.REVIEW_BY_PARTY_MEMBERS: 26,
    Step.RESOLVE_BY_MEMBERS: 33,
    Step.PUBLISH_RESOLUTION: 22,
    Step.CHECK_BY_TOWNSHIP: 19,
    Step.APPROVE_BY_TOWNSHIP: 18,
    Step.IMPLEMENT: 30,
    Step.PUBLISH_RESULT: 32,
}


def counted(function, **kwargs) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as captured:
        result = function(**kwargs)
    return len(captured.captured_queries), result


def queries_per_step(world) -> dict[str, int]:
    """One matter from application to archive; the queries of each step (what the step reads first is untimed)."""
    found = {}
    found[Step.APPLY], matter = counted(
        services.matter_apply,
        user=world.secretary_a1,
        organization=world.collective_a1,
        transaction_type="asset_purchase",
        data=purchase_data(AMOUNT, quotations=3),
    )
    actors = {
        Step.PROPOSE: (world.secretary_a1, Decision.AGREE),
        Step.CHECK_BY_TOWNSHIP: (world.officer_a, Decision.AGREE),
        Step.APPROVE_BY_TOWNSHIP: (world.leader_a, Decision.AGREE),
        Step.IMPLEMENT: (world.cashier_a1, Decision.DONE),
    }
    for _ in range(len(BUDGETS)):
        matter = Matter.objects.get(pk=matter.pk)
        step = matter.next_step
        if step == END:
            break
        if step in actors:
            user, decision = actors[step]
            task = services.active_task(matter, step)
            found[step], _record = counted(
                services.step_perform, user=user, task_id=task.pk, decision=decision, opinion="同意"
            )
        elif step in MEETING_BODY_OF_STEP or step == Step.RESOLVE_BY_MEMBERS:
            body = MEETING_BODY_OF_STEP.get(step, matter.member_body)
            today = timezone.localdate()
            roster = services.meeting_roster(organization=matter.organization, body=body, on_date=today)
            found[step], _meeting = counted(
                services.meeting_record,
                user=world.supervisor_a1,
                organization=matter.organization,
                body=body,
                held_on=today,
                place="村委会议室",
                chair="赵监委",
                minutes="讨论并表决",
                attendee_ids=[member.pk for member in roster],
                votes=[services.VoteInput(matter=matter, votes_for=len(roster), votes_against=0, votes_abstain=0)],
            )
        else:
            notice = Notice.objects.filter(matter=matter, closed_at__isnull=True).latest("pk")
            notice.ends_at = timezone.now() - datetime.timedelta(seconds=1)
            notice.save(update_fields=["ends_at"])
            found[step], closed = counted(services.publication_try_close, notice_id=notice.pk)
            assert closed
    assert Matter.objects.get(pk=matter.pk).next_step == END
    return found


def more_data(world, matters: int) -> None:
    """Other matters of the same village and township, at several steps, with their records and notifications."""
    for number in range(matters):
        matter = apply_purchase(world, total=str(AMOUNT), quotations=3)
        act(world.secretary_a1, matter)
        if number % 2:
            hold_meeting(world, matter)


@pytest.fixture
def eager_dossier_off(monkeypatch):
    """Jobs are sent, not run: the dossier, the publication's close and the sequencer are a worker's work."""
    from celery.app.task import Task

    sent = []
    monkeypatch.setattr(Task, "apply_async", lambda task, *args, **kwargs: sent.append(task.name))
    return sent


@override_settings(LEDGER_CHECK_VALUES_IN_HAND=False)
def test_the_queries_of_each_step_are_fixed_whatever_the_data_size(world, eager_dossier_off):
    queries_per_step(world)  # the first matter warms caches (content types, permissions)
    small = queries_per_step(world)
    more_data(world, 6)
    large = queries_per_step(world)
    assert large == small, {step: (small[step], large[step]) for step in small if small[step] != large[step]}
    over = {step: (count, BUDGETS[step]) for step, count in small.items() if count > BUDGETS[step]}
    assert not over, over
    human = [small[step] for step in (Step.PROPOSE, Step.CHECK_BY_TOWNSHIP, Step.APPROVE_BY_TOWNSHIP)]
    assert max(human) <= HUMAN_STEP_BUDGET
    assert sum(small.values()) / len(small) <= MEAN_STEP_BUDGET, small


@override_settings(LEDGER_CHECK_VALUES_IN_HAND=False)
def test_a_lighter_step_still_records_everything(world, eager_dossier_off):
    """The records, history, leaves and notifications of a step are all there, written in bulk."""
    matter = apply_purchase(world, total=str(AMOUNT), quotations=3)
    leaves_before = LedgerEntry.objects.count()
    notifications_before = Notification.objects.count()
    history_before = Matter.history.filter(id=matter.pk).count()
    act(world.secretary_a1, matter)
    record = StepRecord.objects.filter(matter=matter, step=Step.PROPOSE).get()
    assert record.actor == world.secretary_a1 and record.task_id is not None
    assert StepRecord.history.filter(id=record.pk).count() == 1
    assert Matter.history.filter(id=matter.pk).count() == history_before + 1
    # One leaf for the record, one for the matter; none read back.
    new_leaves = LedgerEntry.objects.order_by("pk")[leaves_before:]
    assert sorted(leaf.object_type for leaf in new_leaves) == ["Matter", "StepRecord"]
    matter_leaf = next(leaf for leaf in new_leaves if leaf.object_type == "Matter")
    assert matter_leaf.payload["fields"]["next_step"] == Step.DELIBERATE
    assert matter_leaf.payload["fields"]["amount"] == "60000.00"
    # The supervisor hears of the meeting the matter now waits for, inside the step's transaction.
    rows = list(Notification.objects.order_by("pk")[notifications_before:])
    assert [(row.recipient, row.data.get("step")) for row in rows] == [(world.supervisor_a1, Step.DELIBERATE)]


def test_values_in_hand_are_checked_against_the_row_in_tests(world):
    """The test settings read every covered row logged from the values in hand back and compare them."""
    from django.conf import settings

    assert settings.LEDGER_CHECK_VALUES_IN_HAND
    matter = apply_purchase(world, total="1234.5", quotations=0)
    leaf = LedgerEntry.objects.filter(object_type="Matter", object_pk=matter.pk).latest("pk")
    assert leaf.payload["fields"]["amount"] == "1234.50"


def test_a_lighter_application_still_records_everything(world, eager_dossier_off):
    """The application's lines go in bulk, the matter is written once, whole: every row keeps its history and leaf."""
    leaves_before = LedgerEntry.objects.count()
    matter = apply_purchase(world, total=str(AMOUNT), quotations=3)
    purchase = matter.asset_purchase
    rows = [purchase, *purchase.items.all(), *purchase.quotations.all()]
    assert [type(row).__name__ for row in rows] == ["AssetPurchase", "PurchaseItem"] + ["Quotation"] * 3
    assert all(type(row).history.filter(id=row.pk, history_type="+").count() == 1 for row in rows)
    # One history row for the matter, already with its process.
    assert list(Matter.history.filter(id=matter.pk).values_list("process_id", flat=True)) == [matter.process_id]
    leaves = list(LedgerEntry.objects.order_by("pk")[leaves_before:])
    assert sorted(leaf.object_type for leaf in leaves) == sorted(
        ["Matter", "AssetPurchase", "PurchaseItem", "Quotation", "Quotation", "Quotation", "StepRecord"]
    )
    assert {leaf.matter_id for leaf in leaves} == {matter.pk}
    matter_leaf = next(leaf for leaf in leaves if leaf.object_type == "Matter")
    assert matter_leaf.payload["fields"]["process_id"] == matter.process_id
    lines = {leaf.object_pk: leaf.payload["fields"] for leaf in leaves if leaf.object_type == "Quotation"}
    assert sorted(fields["supplier"] for fields in lines.values()) == ["供应商1", "供应商2", "供应商3"]


def test_a_lighter_meeting_still_records_everything(world, eager_dossier_off):
    """Attendees, their ways and the decision keep their history and leaves, all in the step's one INSERT."""
    from flows.models import MeetingAttendance

    matter = apply_purchase(world, total=str(AMOUNT), quotations=3)
    act(world.secretary_a1, matter)
    leaves_before = LedgerEntry.objects.count()
    meeting = hold_meeting(world, matter)
    attendees = sorted(meeting.attendees.values_list("pk", flat=True))
    ways = list(MeetingAttendance.objects.filter(meeting=meeting))
    assert attendees and sorted(way.member_id for way in ways) == attendees
    assert all(MeetingAttendance.history.filter(id=way.pk).count() == 1 for way in ways)
    leaves = list(LedgerEntry.objects.order_by("pk")[leaves_before:])
    kinds = [leaf.object_type for leaf in leaves]
    assert kinds.count("MeetingAttendance") == len(ways)
    assert {"Meeting", "MeetingDecision", "StepRecord", "Matter"} <= set(kinds)
    # The meeting's latest leaf lists who attended.
    meeting_leaf = [leaf for leaf in leaves if leaf.object_type == "Meeting"][-1]
    assert meeting_leaf.payload["m2m"]["attendees"] == attendees


def test_the_archive_still_asks_for_one_dossier(world, eager_dossier_off):
    """Archiving asks for the matter's first dossier without looking for earlier ones: there is one, pending."""
    from documents.models import RenderedDocument
    from tests.drive import run_to_end

    matter = run_to_end(world, apply_purchase(world, total=str(AMOUNT), quotations=3))
    dossiers = list(RenderedDocument.objects.filter(matter=matter, kind=RenderedDocument.Kind.DOSSIER))
    assert len(dossiers) == 1 and dossiers[0].superseded_at is None and len(dossiers[0].verification_code) == 16
    assert LedgerEntry.objects.filter(object_type="RenderedDocument", object_pk=dossiers[0].pk).count() == 1
