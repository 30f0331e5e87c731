"""Batch approval (批量审批): N ordinary steps, each its own record, within the county's limits."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from flows.batch import BATCH_MAX, batch_approve, batch_items
from flows.models import Decision, Step, StepRecord
from flows.services import task_take
from tests.drive import act, refresh
from tests.workdesk import task_of, waiting_at

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """Messages in the language of the source, so that the tests can quote them."""
    with translation.override("en"):
        yield


def at_approval(world, count: int, **kwargs) -> list:
    return [waiting_at(world, Step.APPROVE_BY_TOWNSHIP, title=f"购置{n}", **kwargs) for n in range(count)]


def test_a_batch_agrees_each_matter_with_its_own_record_and_history(world):
    matters = at_approval(world, 3)
    outcome = batch_approve(user=world.leader_a, task_ids=[task_of(m).pk for m in matters], opinion="同意。")
    assert outcome.step == Step.APPROVE_BY_TOWNSHIP
    assert [matter.pk for matter, _record in outcome.done] == [m.pk for m in matters]
    assert outcome.failed == []
    for matter in matters:
        record = StepRecord.objects.get(matter=matter, step=Step.APPROVE_BY_TOWNSHIP)
        assert (record.decision, record.actor, record.opinion) == (Decision.AGREE, world.leader_a, "同意。")
        assert refresh(matter).next_step == Step.IMPLEMENT
        # The change of step is in the matter's own history, as for a step agreed alone.
        assert refresh(matter).history.filter(next_step=Step.IMPLEMENT).exists()


def test_a_matter_changed_meanwhile_fails_alone_and_says_why(world):
    first, second, third = at_approval(world, 3)
    task_ids = [task_of(m).pk for m in (first, second, third)]
    act(world.second_leader_a, second, decision=Decision.RETURN, opinion="补充材料", return_to=Step.APPLY)
    outcome = batch_approve(user=world.leader_a, task_ids=task_ids, opinion="同意")
    assert [matter.pk for matter, _record in outcome.done] == [first.pk, third.pk]
    assert [(matter.pk, reason) for matter, reason in outcome.failed] == [
        (second.pk, "This step has already been handled.")
    ]
    assert refresh(second).next_step == Step.APPLY
    assert not StepRecord.objects.filter(matter=second, actor=world.leader_a).exists()


def test_tasks_of_different_steps_are_refused_and_nothing_is_done(world):
    at_check = waiting_at(world, Step.CHECK_BY_TOWNSHIP)
    at_approve = waiting_at(world, Step.APPROVE_BY_TOWNSHIP)
    with pytest.raises(ValidationError, match="one and the same step"):
        batch_approve(user=world.leader_a, task_ids=[task_of(at_check).pk, task_of(at_approve).pk], opinion="同意")
    assert refresh(at_approve).next_step == Step.APPROVE_BY_TOWNSHIP
    assert refresh(at_check).next_step == Step.CHECK_BY_TOWNSHIP


def test_a_village_step_is_never_agreed_in_a_batch(world):
    matter = waiting_at(world, Step.PROPOSE)
    with pytest.raises(ValidationError, match="Only the township check and the township approval"):
        batch_items(user=world.secretary_a1, task_ids=[task_of(matter).pk])


@pytest.mark.parametrize("task_ids", [[], ["x"], [None]])
def test_nothing_selected_is_refused(world, task_ids):
    with pytest.raises(ValidationError, match="Select the matters"):
        batch_items(user=world.leader_a, task_ids=task_ids)


def test_too_many_at_once_is_refused(world):
    with pytest.raises(ValidationError, match="at most"):
        batch_items(user=world.leader_a, task_ids=range(1, BATCH_MAX + 2))


def test_an_amount_above_the_countys_limit_stays_out(world):
    within, above = (
        waiting_at(world, Step.APPROVE_BY_TOWNSHIP, total="50000.00"),
        waiting_at(world, Step.APPROVE_BY_TOWNSHIP, total="50000.01"),
    )
    outcome = batch_approve(user=world.leader_a, task_ids=[task_of(within).pk, task_of(above).pk], opinion="同意")
    assert [matter.pk for matter, _record in outcome.done] == [within.pk]
    ((matter, reason),) = outcome.failed
    assert matter.pk == above.pk and "Above the batch limit" in reason
    assert refresh(above).next_step == Step.APPROVE_BY_TOWNSHIP


def test_a_county_that_sets_no_limit_allows_no_batch(world):
    world.rule_version.batch_approval_limit = Decimal("0")
    world.rule_version.save()
    matter = waiting_at(world, Step.APPROVE_BY_TOWNSHIP)
    outcome = batch_approve(user=world.leader_a, task_ids=[task_of(matter).pk], opinion="同意")
    assert outcome.done == [] and "allow no batch approval" in outcome.failed[0][1]


def test_a_matter_without_evidence_stays_out(world):
    bare = waiting_at(world, Step.APPROVE_BY_TOWNSHIP, evidence=False)
    _step, (item,) = batch_items(user=world.leader_a, task_ids=[task_of(bare).pk])
    assert (item.evidence_count, item.can_agree) == (0, False)
    assert "No evidence" in item.problem


def test_the_confirmation_lists_amount_and_evidence_count(world):
    matter = waiting_at(world, Step.CHECK_BY_TOWNSHIP, total="8000.00")
    step, (item,) = batch_items(user=world.officer_a, task_ids=[task_of(matter).pk])
    assert step == Step.CHECK_BY_TOWNSHIP
    assert (item.matter.amount, item.evidence_count, item.problem) == (Decimal("8000.00"), 1, "")


def test_a_step_taken_by_a_colleague_stays_out(world):
    matter = waiting_at(world, Step.APPROVE_BY_TOWNSHIP)
    task_take(user=world.second_leader_a, task_id=task_of(matter).pk)
    _step, (item,) = batch_items(user=world.leader_a, task_ids=[task_of(matter).pk])
    assert "has taken this step" in item.problem


def test_tasks_outside_the_jurisdiction_are_refused(world):
    matter = waiting_at(world, Step.APPROVE_BY_TOWNSHIP)
    with pytest.raises(PermissionDenied):
        batch_items(user=world.leader_b, task_ids=[task_of(matter).pk])
    with pytest.raises(PermissionDenied):
        batch_items(user=world.inspector, task_ids=[task_of(matter).pk])
