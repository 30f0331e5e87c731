"""A batch and a colleague's single approval at the same moment: each matter is agreed exactly once, the batch
names the one it lost, and the others stay done. And a hand-over racing the delegator's own approval."""

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from flows import delegation as delegations
from flows.batch import batch_approve
from flows.models import Decision, DelegatedTask, Step, StepRecord
from flows.services import step_perform, task_take
from organizations.models import Post, Role
from tests.conftest import build_world
from tests.drive import refresh
from tests.workdesk import task_of, waiting_at

from .test_two_approvers import run_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _needs_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("row locks are only real on PostgreSQL (SQLite serialises whole transactions)")


def test_a_batch_and_a_single_approval_at_once_agree_each_matter_once():
    world = build_world()
    matters = [waiting_at(world, Step.APPROVE_BY_TOWNSHIP, title=f"购置{n}") for n in range(3)]
    contested = matters[1]
    outcome = {}

    def batch():
        outcome["batch"] = batch_approve(
            user=world.leader_a, task_ids=[task_of(m).pk for m in matters], opinion="批量同意"
        )

    def single():
        step_perform(user=world.second_leader_a, task_id=task_of(contested).pk, decision=Decision.AGREE, opinion="同意")

    results = run_at_once(batch, single)
    assert results[0] == "ok"  # the batch never raises for one matter: it reports it
    for matter in matters:
        assert StepRecord.objects.filter(matter=matter, step=Step.APPROVE_BY_TOWNSHIP).count() == 1
        assert refresh(matter).next_step == Step.IMPLEMENT
    done = {matter.pk for matter, _record in outcome["batch"].done}
    failed = {matter.pk for matter, _reason in outcome["batch"].failed}
    assert done | failed == {m.pk for m in matters}
    assert {matters[0].pk, matters[2].pk} <= done
    # Whoever won the contested matter, its one record says so.
    winner = StepRecord.objects.get(matter=contested, step=Step.APPROVE_BY_TOWNSHIP).actor
    assert (winner == world.leader_a) == (contested.pk in done) and (results[1] == "ok") == (contested.pk in failed)


def test_a_hand_over_racing_the_delegators_own_approval_leaves_one_outcome():
    world = build_world()
    matter = waiting_at(world, Step.APPROVE_BY_TOWNSHIP)
    task_take(user=world.leader_a, task_id=task_of(matter).pk)
    today = timezone.localdate()
    delegation = delegations.delegation_create(
        user=world.leader_a,
        post=Post.objects.get(user=world.leader_a, role=Role.TOWNSHIP_LEADER),
        delegate=world.second_leader_a,
        starts_on=today,
        ends_on=today + datetime.timedelta(days=1),
        reason="出差",
        hand_over_now=False,
    )
    task_id = task_of(matter).pk

    results = run_at_once(
        lambda: delegations.delegation_hand_over_held(delegation=delegation),
        lambda: step_perform(user=world.leader_a, task_id=task_id, decision=Decision.AGREE, opinion="同意"),
    )
    assert results[0] == "ok"
    approved = StepRecord.objects.filter(matter=matter, step=Step.APPROVE_BY_TOWNSHIP, decision=Decision.AGREE)
    handed = DelegatedTask.objects.filter(task_id=task_id).exists()
    # Either the leader approved first (nothing left to hand over) or the task went to the delegate first.
    assert approved.exists() != handed
