"""Delegation (转办/委托): a township post's tasks go to another holder of the same post, who acts "A for B"."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation
from viewflow.workflow.status import STATUS

from flows import delegation as delegations
from flows.models import Decision, DelegatedTask, Delegation, Notification, NotificationKind, Step, StepRecord
from flows.services import TaskConflict, step_perform, task_take
from organizations.models import Post, Role
from tests.drive import act, refresh
from tests.factories import PostFactory
from tests.workdesk import task_of, waiting_at

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def leader_post(world, user=None) -> Post:
    return Post.objects.get(user=user or world.leader_a, role=Role.TOWNSHIP_LEADER, organization=world.township_a)


def delegate(world, *, days: int = 3, now: bool = True, delegator=None, to=None, post=None) -> Delegation:
    delegator = delegator or world.leader_a
    return delegations.delegation_create(
        user=delegator,
        post=post or leader_post(world, delegator),
        delegate=to or world.second_leader_a,
        starts_on=TODAY(),
        ends_on=TODAY() + datetime.timedelta(days=days),
        reason="到县委党校参加培训",
        hand_over_now=now,
    )


def test_tasks_the_leader_holds_go_to_the_delegate_at_once(world):
    matter = waiting_at(world, Step.APPROVE_BY_TOWNSHIP)
    task_take(user=world.leader_a, task_id=task_of(matter).pk)
    delegation = delegate(world)
    task = task_of(matter)
    assert (task.owner, task.status) == (world.second_leader_a, STATUS.ASSIGNED)
    handover = DelegatedTask.objects.get(task=task)
    assert (handover.delegation, handover.from_user, handover.to_user) == (
        delegation,
        world.leader_a,
        world.second_leader_a,
    )
    # The hand-over is in the matter's own record, and so in its history and dossier.
    record = StepRecord.objects.get(matter=matter, decision=Decision.DELEGATE)
    assert (record.step, record.actor, record.task) == (Step.APPROVE_BY_TOWNSHIP, world.leader_a, task)
    assert "到县委党校参加培训" in record.opinion
    notice = Notification.objects.get(recipient=world.second_leader_a, kind=NotificationKind.DELEGATED)
    assert matter.title in notice.body


def test_the_delegates_record_reads_for_the_delegator(world):
    matter = waiting_at(world, Step.APPROVE_BY_TOWNSHIP)
    task_take(user=world.leader_a, task_id=task_of(matter).pk)
    delegate(world)
    record = act(world.second_leader_a, matter, opinion="同意（代）")
    assert (record.actor, record.on_behalf_of) == (world.second_leader_a, world.leader_a)
    assert refresh(matter).next_step == Step.IMPLEMENT


def test_the_delegator_can_no_longer_act_on_a_handed_over_task(world):
    matter = waiting_at(world, Step.APPROVE_BY_TOWNSHIP)
    task_take(user=world.leader_a, task_id=task_of(matter).pk)
    delegate(world)
    with pytest.raises(TaskConflict):
        step_perform(user=world.leader_a, task_id=task_of(matter).pk, decision=Decision.AGREE)


def test_tasks_that_arrive_during_the_period_go_to_the_delegate(world):
    delegate(world, now=False)
    matter = waiting_at(world, Step.APPROVE_BY_TOWNSHIP)
    task = task_of(matter)
    assert task.owner == world.second_leader_a
    assert DelegatedTask.objects.filter(task=task, from_user=world.leader_a).exists()
    record = act(world.second_leader_a, matter)
    assert record.on_behalf_of == world.leader_a


def test_a_task_that_arrives_is_news_for_the_delegate_only(world, django_capture_on_commit_callbacks):
    delegate(world, now=False)
    matter = waiting_at(world, Step.CHECK_BY_TOWNSHIP)
    with django_capture_on_commit_callbacks(execute=True):
        act(world.officer_a, matter)
    new_task = Notification.objects.filter(kind=NotificationKind.TASK_NEW, matter=matter)
    assert set(new_task.values_list("recipient", flat=True)) == {world.second_leader_a.pk}


def test_an_ended_delegation_sends_new_tasks_back_to_the_post(world):
    delegation = delegate(world, now=False)
    delegations.delegation_end(user=world.leader_a, delegation_id=delegation.pk)
    matter = waiting_at(world, Step.APPROVE_BY_TOWNSHIP)
    assert task_of(matter).owner is None
    assert Delegation.objects.get(pk=delegation.pk).revoked_at is not None


def test_a_delegation_in_the_future_hands_over_nothing_yet(world):
    delegations.delegation_create(
        user=world.leader_a,
        post=leader_post(world),
        delegate=world.second_leader_a,
        starts_on=TODAY() + datetime.timedelta(days=2),
        ends_on=TODAY() + datetime.timedelta(days=4),
        reason="休假",
        hand_over_now=False,
    )
    matter = waiting_at(world, Step.APPROVE_BY_TOWNSHIP)
    assert task_of(matter).owner is None


def test_the_delegate_must_hold_the_same_post(world):
    for stranger in (world.officer_a, world.leader_b, world.leader_a):
        with pytest.raises(ValidationError) as raised:
            delegate(world, to=stranger)
        assert "holds the same post" in str(raised.value)
    assert not Delegation.objects.exists()


def test_a_village_post_cannot_be_delegated(world):
    post = Post.objects.get(user=world.secretary_a1)
    with pytest.raises(PermissionDenied):
        delegations.delegation_create(
            user=world.secretary_a1,
            post=post,
            delegate=world.cashier_a1,
            starts_on=TODAY(),
            ends_on=TODAY(),
            reason="休假",
            hand_over_now=False,
        )


def test_someone_elses_post_cannot_be_delegated(world):
    with pytest.raises(PermissionDenied):
        delegate(world, delegator=world.second_leader_a, post=leader_post(world), to=world.second_leader_a)


@pytest.mark.parametrize(
    "starts, ends, reason, now, field",
    [
        (-1, 2, "休假", False, "starts_on"),
        (0, -1, "休假", False, "ends_on"),
        (0, 120, "休假", False, "ends_on"),
        (0, 2, "  ", False, "reason"),
        (1, 2, "休假", True, "hand_over_now"),
    ],
)
def test_a_bad_delegation_is_refused_and_nothing_saved(world, starts, ends, reason, now, field):
    with pytest.raises(ValidationError) as raised:
        delegations.delegation_create(
            user=world.leader_a,
            post=leader_post(world),
            delegate=world.second_leader_a,
            starts_on=TODAY() + datetime.timedelta(days=starts),
            ends_on=TODAY() + datetime.timedelta(days=ends),
            reason=reason,
            hand_over_now=now,
        )
    assert field in raised.value.message_dict
    assert not Delegation.objects.exists()


def test_overlapping_delegations_of_a_post_are_refused(world):
    delegate(world, now=False)
    with pytest.raises(ValidationError, match="already handed over"):
        delegate(world, now=False)
    # Nor may the delegate hand the same post back for the same days.
    with pytest.raises(ValidationError, match="has handed this post over"):
        delegate(world, delegator=world.second_leader_a, to=world.leader_a, now=False)


def test_a_delegation_never_reaches_beyond_the_delegators_post(world):
    """The leader also leads township B; handing over A's post leaves B's tasks where they are."""
    PostFactory(user=world.leader_a, organization=world.township_b, role=Role.TOWNSHIP_LEADER)
    in_b = waiting_at(world, Step.APPROVE_BY_TOWNSHIP, title="西山的事项")
    # Carry a B matter: the world's helpers drive A1; move it to B's collective for this test.
    in_b.organization = world.collective_b1
    in_b.save()
    task_take(user=world.leader_a, task_id=task_of(in_b).pk)
    delegate(world)
    assert task_of(in_b).owner == world.leader_a
    assert not DelegatedTask.objects.exists()


def test_only_the_delegator_ends_a_delegation_and_only_once(world):
    delegation = delegate(world, now=False)
    with pytest.raises(PermissionDenied):
        delegations.delegation_end(user=world.second_leader_a, delegation_id=delegation.pk)
    delegations.delegation_end(user=world.leader_a, delegation_id=delegation.pk)
    with pytest.raises(TaskConflict):
        delegations.delegation_end(user=world.leader_a, delegation_id=delegation.pk)


def test_a_task_handed_on_twice_is_acted_on_for_the_first_holder(world):
    third = PostFactory(organization=world.township_a, role=Role.TOWNSHIP_LEADER).user
    matter = waiting_at(world, Step.APPROVE_BY_TOWNSHIP)
    task_take(user=world.leader_a, task_id=task_of(matter).pk)
    delegate(world)
    delegations.delegation_create(
        user=world.second_leader_a,
        post=leader_post(world, world.second_leader_a),
        delegate=third,
        starts_on=TODAY() + datetime.timedelta(days=5),
        ends_on=TODAY() + datetime.timedelta(days=6),
        reason="出差",
        hand_over_now=False,
    )
    second = Delegation.objects.get(delegator=world.second_leader_a)
    Delegation.objects.filter(pk=second.pk).update(starts_on=TODAY())
    delegations.delegation_hand_over_held(delegation=refresh_delegation(second))
    assert DelegatedTask.principal(task_id=task_of(matter).pk, user=third) == world.leader_a


def refresh_delegation(delegation: Delegation) -> Delegation:
    return Delegation.objects.select_related("delegator", "delegate", "organization").get(pk=delegation.pk)
