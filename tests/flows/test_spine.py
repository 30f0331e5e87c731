"""The spine's turns: returns, withdrawals, failed votes, objections, rejections, conflicts."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from flows import services
from flows.models import Decision, Matter, MatterStatus, Notice, Step, StepRecord
from flows.tasks import close_due_publications
from organizations.models import MeetingBody, MeetingRule, OnFailedVote
from organizations.rules import rule_version_seed_defaults
from registers.models import Asset
from tests.conftest import purchase_data
from tests.drive import act, apply_purchase, end_publication, hold_meeting, refresh, run_to_end

pytestmark = pytest.mark.django_db


def to_step(world, matter, step):
    """Agree every step until the matter waits at ``step``."""
    for _ in range(20):
        matter = refresh(matter)
        if matter.next_step == step:
            return matter
        if matter.next_step == Step.PROPOSE:
            act(world.secretary_a1, matter)
        elif matter.next_step in (Step.DELIBERATE, Step.REVIEW_BY_PARTY_MEMBERS, Step.RESOLVE_BY_MEMBERS):
            hold_meeting(world, matter)
        elif matter.next_step in (Step.PUBLISH_RESOLUTION, Step.PUBLISH_RESULT):
            end_publication(matter)
        elif matter.next_step == Step.CHECK_BY_TOWNSHIP:
            act(world.officer_a, matter)
        elif matter.next_step == Step.APPROVE_BY_TOWNSHIP:
            act(world.leader_a, matter)
    raise AssertionError(f"never reached {step}")


def test_leader_returns_to_pre_application_and_it_reruns_from_there(world):
    matter = to_step(world, apply_purchase(world, total="50000.00", quotations=3), Step.APPROVE_BY_TOWNSHIP)
    act(world.leader_a, matter, decision=Decision.RETURN, opinion="报价单不全", return_to=Step.APPLY)
    matter = refresh(matter)
    assert matter.next_step == Step.APPLY
    revised = purchase_data(Decimal("45000.00"), quotations=3, title="购置办公电脑（修改）")
    act(world.secretary_a1, matter, decision=Decision.SUBMIT, opinion="已补充", data=revised)
    matter = refresh(matter)
    assert matter.title == "购置办公电脑（修改）"
    assert matter.amount == Decimal("45000.00")
    assert matter.next_step == Step.PROPOSE
    matter = run_to_end(world, matter)
    assert matter.status == MatterStatus.ARCHIVED
    returned = matter.step_records.get(decision=Decision.RETURN)
    assert (returned.step, returned.return_to, returned.actor) == (Step.APPROVE_BY_TOWNSHIP, Step.APPLY, world.leader_a)
    assert matter.step_records.filter(step=Step.PROPOSE, decision=Decision.AGREE).count() == 2


def test_officer_returns_to_deliberation_and_the_meeting_sits_again(world):
    matter = to_step(world, apply_purchase(world), Step.CHECK_BY_TOWNSHIP)
    act(world.officer_a, matter, decision=Decision.RETURN, opinion="会议记录缺签字", return_to=Step.DELIBERATE)
    assert refresh(matter).next_step == Step.DELIBERATE
    hold_meeting(world, matter)
    assert refresh(matter).next_step == Step.PUBLISH_RESOLUTION


def test_return_needs_an_earlier_step_and_a_reason(world):
    matter = to_step(world, apply_purchase(world), Step.CHECK_BY_TOWNSHIP)
    with pytest.raises(ValidationError) as error:
        act(world.officer_a, matter, decision=Decision.RETURN, opinion="", return_to=Step.APPLY)
    assert "opinion" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        act(world.officer_a, matter, decision=Decision.RETURN, opinion="不全", return_to=Step.IMPLEMENT)
    assert "return_to" in error.value.message_dict
    assert refresh(matter).next_step == Step.CHECK_BY_TOWNSHIP
    assert not StepRecord.objects.filter(matter=matter, decision=Decision.RETURN).exists()


def test_rejection_ends_the_matter(world):
    matter = to_step(world, apply_purchase(world), Step.CHECK_BY_TOWNSHIP)
    act(world.officer_a, matter, decision=Decision.REJECT, opinion="不符合规定")
    matter = refresh(matter)
    assert matter.status == MatterStatus.REJECTED
    assert matter.process.status == "DONE"
    assert not Asset.objects.filter(source_matter=matter).exists()


def test_applicant_withdraws_before_township_approval(world):
    matter = to_step(world, apply_purchase(world), Step.CHECK_BY_TOWNSHIP)
    services.matter_withdraw(user=world.cashier_a1, matter_id=matter.pk, reason="不再需要")
    matter = refresh(matter)
    assert matter.status == MatterStatus.WITHDRAWN
    assert matter.process.status == "CANCELED"
    assert matter.step_records.filter(decision=Decision.WITHDRAW, step=Step.CHECK_BY_TOWNSHIP).exists()
    assert services.active_task(matter, Step.CHECK_BY_TOWNSHIP) is None


def test_withdrawal_closes_an_open_notice(world):
    matter = to_step(world, apply_purchase(world), Step.PUBLISH_RESOLUTION)
    services.matter_withdraw(user=world.secretary_a1, matter_id=matter.pk, reason="撤回")
    assert not Notice.objects.filter(matter=matter, closed_at__isnull=True).exists()


def test_no_withdrawal_after_township_approval(world):
    matter = to_step(world, apply_purchase(world), Step.IMPLEMENT)
    with pytest.raises(services.TaskConflict):
        services.matter_withdraw(user=world.secretary_a1, matter_id=matter.pk, reason="晚了")
    assert refresh(matter).status == MatterStatus.IN_PROGRESS


def test_other_village_cannot_withdraw(world):
    matter = apply_purchase(world)
    with pytest.raises(PermissionDenied):
        services.matter_withdraw(user=world.secretary_a2, matter_id=matter.pk, reason="x")


def test_failed_vote_returns_the_matter_to_the_applicant(world):
    matter = to_step(world, apply_purchase(world), Step.DELIBERATE)
    hold_meeting(world, matter, passed=False)
    matter = refresh(matter)
    assert matter.next_step == Step.APPLY
    failed = matter.step_records.get(decision=Decision.FAILED)
    assert "0" in failed.opinion


def test_failed_vote_stops_the_matter_when_the_rule_says_so(world):
    rule = MeetingRule.objects.get(rule_version=world.rule_version, body=MeetingBody.TWO_COMMITTEES)
    rule.on_failed_vote = OnFailedVote.STOP
    rule.save()  # saved, as a county would: the rule table is in the tamper-evident log
    matter = to_step(world, apply_purchase(world), Step.DELIBERATE)
    hold_meeting(world, matter, passed=False)
    assert refresh(matter).status == MatterStatus.REJECTED


def test_meeting_without_quorum_is_refused_and_saves_nothing(world):
    matter = to_step(world, apply_purchase(world), Step.DELIBERATE)
    with pytest.raises(ValidationError) as error:
        hold_meeting(world, matter, attended=2)  # 2 of 5 committee members
    assert "2" in error.value.messages[0] and "5" in error.value.messages[0]
    assert refresh(matter).next_step == Step.DELIBERATE
    assert not matter.meeting_decisions.exists()


def test_meeting_refuses_people_off_the_roster(world):
    matter = to_step(world, apply_purchase(world), Step.DELIBERATE)
    outsider = world.members_a1[-1]  # not a committee member
    with pytest.raises(ValidationError):
        services.meeting_record(
            user=world.supervisor_a1,
            organization=world.collective_a1,
            body=MeetingBody.TWO_COMMITTEES,
            held_on=timezone.localdate(),
            place="会议室",
            chair="赵",
            minutes="x",
            attendee_ids=[outsider.pk],
            votes=[services.VoteInput(matter=matter, votes_for=1, votes_against=0, votes_abstain=0)],
        )


def test_one_meeting_decides_several_matters(world):
    first = to_step(world, apply_purchase(world, title="甲"), Step.DELIBERATE)
    second = to_step(world, apply_purchase(world, title="乙"), Step.DELIBERATE)
    roster = services.meeting_roster(
        organization=world.collective_a1, body=MeetingBody.TWO_COMMITTEES, on_date=timezone.localdate()
    )
    meeting = services.meeting_record(
        user=world.supervisor_a1,
        organization=world.collective_a1,
        body=MeetingBody.TWO_COMMITTEES,
        held_on=timezone.localdate(),
        place="会议室",
        chair="赵",
        minutes="两项议题",
        attendee_ids=[member.pk for member in roster],
        votes=[
            services.VoteInput(matter=first, votes_for=5, votes_against=0, votes_abstain=0),
            services.VoteInput(matter=second, votes_for=1, votes_against=4, votes_abstain=0),
        ],
    )
    assert meeting.decisions.count() == 2
    assert refresh(first).next_step == Step.PUBLISH_RESOLUTION
    assert refresh(second).next_step == Step.APPLY


def test_supervisor_of_another_village_cannot_record_the_meeting(world):
    matter = to_step(world, apply_purchase(world), Step.DELIBERATE)
    with pytest.raises(PermissionDenied):
        hold_meeting(world, matter, user=world.supervisor_a2)


def test_objection_holds_publication_until_handled(world):
    matter = to_step(world, apply_purchase(world), Step.PUBLISH_RESOLUTION)
    notice = Notice.objects.get(matter=matter)
    objection = services.objection_submit(
        notice=notice, name="张三", phone="13800000000", text="价格偏高", client_key="k"
    )
    assert end_publication(matter) is False
    assert refresh(matter).next_step == Step.PUBLISH_RESOLUTION
    services.objection_handle(user=world.supervisor_a1, objection_id=objection.pk, handling="已核实，价格合理")
    matter = refresh(matter)
    assert matter.next_step == Step.CHECK_BY_TOWNSHIP
    assert Notice.objects.get(pk=notice.pk).closed_at is not None


def test_objection_after_the_period_is_refused(world):
    matter = to_step(world, apply_purchase(world), Step.PUBLISH_RESOLUTION)
    notice = Notice.objects.get(matter=matter)
    Notice.objects.filter(pk=notice.pk).update(ends_at=timezone.now() - datetime.timedelta(minutes=1))
    notice.refresh_from_db()
    with pytest.raises(ValidationError):
        services.objection_submit(notice=notice, name="张三", phone="13800000000", text="晚了", client_key="k")
    assert not notice.objections.exists()


def test_objections_are_rate_limited(world, settings):
    settings.OBJECTION_RATE_PER_HOUR = 2
    matter = to_step(world, apply_purchase(world), Step.PUBLISH_RESOLUTION)
    notice = Notice.objects.get(matter=matter)
    for _ in range(2):
        services.objection_submit(notice=notice, name="张三", phone="13800000000", text="意见", client_key="same")
    with pytest.raises(ValidationError):
        services.objection_submit(notice=notice, name="张三", phone="13800000000", text="意见", client_key="same")
    assert notice.objections.count() == 2


def test_publication_does_not_close_early(world):
    matter = to_step(world, apply_purchase(world), Step.PUBLISH_RESOLUTION)
    notice = Notice.objects.get(matter=matter)
    assert services.publication_try_close(notice_id=notice.pk) is False
    assert refresh(matter).next_step == Step.PUBLISH_RESOLUTION


def test_beat_sweep_moves_due_publications_on_once(world):
    matter = to_step(world, apply_purchase(world), Step.PUBLISH_RESOLUTION)
    Notice.objects.filter(matter=matter).update(ends_at=timezone.now() - datetime.timedelta(seconds=1))
    assert close_due_publications() == 1
    assert close_due_publications() == 0
    matter = refresh(matter)
    assert matter.next_step == Step.CHECK_BY_TOWNSHIP
    assert matter.step_records.filter(step=Step.PUBLISH_RESOLUTION, decision=Decision.DONE).count() == 1


def test_acting_twice_is_a_conflict_with_no_double_effect(world):
    matter = to_step(world, apply_purchase(world), Step.IMPLEMENT)
    task = services.active_task(matter, Step.IMPLEMENT)
    services.step_perform(user=world.cashier_a1, task_id=task.pk, decision=Decision.DONE, opinion="已付款")
    with pytest.raises(services.TaskConflict):
        services.step_perform(user=world.secretary_a1, task_id=task.pk, decision=Decision.DONE, opinion="再次")
    assert Asset.objects.filter(source_matter=matter).count() == 1


def test_a_step_taken_by_someone_else_is_a_conflict(world):
    matter = to_step(world, apply_purchase(world, total="50000.00", quotations=3), Step.APPROVE_BY_TOWNSHIP)
    task = services.active_task(matter, Step.APPROVE_BY_TOWNSHIP)
    services.task_take(user=world.leader_a, task_id=task.pk)
    with pytest.raises(services.TaskConflict):
        services.step_perform(user=world.second_leader_a, task_id=task.pk, decision=Decision.AGREE, opinion="同意")
    services.step_perform(user=world.leader_a, task_id=task.pk, decision=Decision.AGREE, opinion="同意")
    assert refresh(matter).next_step == Step.IMPLEMENT


def test_inspector_and_other_places_cannot_act(world):
    matter = to_step(world, apply_purchase(world), Step.CHECK_BY_TOWNSHIP)
    task = services.active_task(matter, Step.CHECK_BY_TOWNSHIP)
    for intruder in (world.inspector, world.officer_b, world.secretary_a1, world.county_admin):
        with pytest.raises(PermissionDenied):
            services.step_perform(user=intruder, task_id=task.pk, decision=Decision.AGREE, opinion="x")
    assert refresh(matter).next_step == Step.CHECK_BY_TOWNSHIP


def test_a_later_rule_version_never_changes_a_running_matter(world):
    matter = apply_purchase(world, total="50000.00", quotations=3)
    newer = rule_version_seed_defaults(county=world.county, effective_from=timezone.localdate())
    for band in newer.bands.filter(transaction_type="asset_purchase"):
        band.township_approval, band.member_body = False, ""
        band.save()
    matter = refresh(matter)
    assert matter.rule_version == world.rule_version
    assert Step.APPROVE_BY_TOWNSHIP in matter.required_steps
    later = apply_purchase(world, total="50000.00", quotations=3)
    assert later.rule_version == newer
    assert Step.APPROVE_BY_TOWNSHIP not in later.required_steps


def test_a_total_that_is_not_the_sum_of_the_items_is_refused(world):
    two_items = [
        {"name": "桌子", "category": "家具", "quantity": 2, "unit_price": Decimal("300.00")},
        {"name": "椅子", "category": "家具", "quantity": 4, "unit_price": Decimal("100.00")},
    ]
    with pytest.raises(ValidationError) as error:
        apply_purchase(world, total="1100.00", items=two_items)
    assert "1000.00" in error.value.message_dict["total"][0]
    assert Matter.objects.count() == 0


def test_an_application_without_items_is_refused(world):
    with pytest.raises(ValidationError):
        apply_purchase(world, items=[])
    assert Matter.objects.count() == 0


def test_zero_or_negative_amounts_are_refused(world):
    for price in (Decimal("0"), Decimal("-5")):
        data = purchase_data(price)
        with pytest.raises(ValidationError):
            services.matter_apply(
                user=world.secretary_a1, organization=world.collective_a1, transaction_type="asset_purchase", data=data
            )
    assert Matter.objects.count() == 0


def test_quotations_required_above_threshold(world):
    with pytest.raises(ValidationError) as error:
        apply_purchase(world, total="15000.00", quotations=2)
    assert "3" in error.value.messages[0]
    assert Matter.objects.count() == 0


def test_chosen_supplier_must_have_quoted(world):
    with pytest.raises(ValidationError) as error:
        apply_purchase(world, total="15000.00", quotations=3, chosen_supplier="别家")
    assert "chosen_supplier" in error.value.message_dict


def test_only_village_applicants_may_apply(world):
    for outsider in (world.secretary_b1, world.officer_a, world.inspector, world.supervisor_a1):
        with pytest.raises(PermissionDenied):
            apply_purchase(world, user=outsider)
    assert Matter.objects.count() == 0
