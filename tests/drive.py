"""Moving a matter through the spine in tests, each step by the persona who owns it."""

import datetime
from decimal import Decimal

from django.utils import timezone

from flows import services
from flows.models import Decision, Matter, MeetingNotice, Notice, Step
from organizations.models import MeetingBody, MeetingRule

from .conftest import purchase_data

MEETING_BODY_OF_STEP = {
    Step.DELIBERATE: MeetingBody.TWO_COMMITTEES,
    Step.REVIEW_BY_PARTY_MEMBERS: MeetingBody.PARTY_MEMBERS,
}


def apply_purchase(world, total="8000.00", quotations=0, user=None, organization=None, **overrides) -> Matter:
    data = purchase_data(Decimal(total), quotations=quotations, **overrides)
    return services.matter_apply(
        user=user or world.secretary_a1,
        organization=organization or world.collective_a1,
        transaction_type="asset_purchase",
        data=data,
    )


def refresh(matter: Matter) -> Matter:
    return Matter.objects.get(pk=matter.pk)


def act(user, matter: Matter, decision=Decision.AGREE, opinion="同意", return_to="", data=None):
    matter = refresh(matter)
    task = services.active_task(matter, matter.next_step)
    return services.step_perform(
        user=user, task_id=task.pk, decision=decision, opinion=opinion, return_to=return_to, data=data
    )


def announce_for(day: datetime.date, at=datetime.time(23, 0)) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, at))


def let_notice_days_pass(notice: MeetingNotice, days: int) -> MeetingNotice:
    """As if the notice had been posted ``days`` days ago for a meeting today: moves its dates, not the clock."""
    notice.posted_at -= datetime.timedelta(days=days)
    notice.meets_at -= datetime.timedelta(days=days)
    notice.save(update_fields=["posted_at", "meets_at"])  # saved, so the tamper-evident log records it
    return notice


def post_meeting_notice(user, matter: Matter, body: str, *, days_passed: bool = True) -> MeetingNotice | None:
    """The meeting's notice on the public board, its notice days already passed; None for a body that needs none."""
    days = MeetingRule.objects.get(rule_version=matter.rule_version, body=body).notice_days
    if not days:
        return None
    notice = services.meeting_notice_post(
        user=user,
        organization=matter.organization,
        body=body,
        meets_at=announce_for(timezone.localdate() + datetime.timedelta(days=days)),
        place="村委会议室",
        agenda=matter.title,
        matters=[matter],
    )
    return let_notice_days_pass(notice, days) if days_passed else notice


def hold_meeting(world, matter: Matter, *, passed=True, attended=None, user=None):
    """The supervisor records the meeting the matter waits for, with a quorum unless told otherwise."""
    matter = refresh(matter)
    body = MEETING_BODY_OF_STEP.get(matter.next_step, matter.member_body)
    user = user or world.supervisor_a1
    post_meeting_notice(user, matter, body)
    roster = services.meeting_roster(organization=matter.organization, body=body, on_date=timezone.localdate())
    count = len(roster) if attended is None else attended
    present = roster[:count]
    votes_for = count if passed else 0
    return services.meeting_record(
        user=user,
        organization=matter.organization,
        body=body,
        held_on=timezone.localdate(),
        place="村委会议室",
        chair="赵监委",
        minutes="讨论并表决",
        attendee_ids=[member.pk for member in present],
        votes=[
            services.VoteInput(matter=matter, votes_for=votes_for, votes_against=count - votes_for, votes_abstain=0)
        ],
    )


def end_publication(matter: Matter) -> bool:
    """Let the publication period pass (moves the deadline, not the clock), then close as beat would."""
    notice = Notice.objects.filter(matter=matter, closed_at__isnull=True).latest("pk")
    notice.ends_at = timezone.now() - datetime.timedelta(seconds=1)
    notice.save(update_fields=["ends_at"])  # saved, so the tamper-evident log records it
    return services.publication_try_close(notice_id=notice.pk)


def run_to_end(world, matter: Matter, leader=None) -> Matter:
    """Carry the matter from wherever it is to the archive, every step agreeing."""
    for _ in range(20):
        matter = refresh(matter)
        step = matter.next_step
        if step in (Step.PROPOSE,):
            act(world.secretary_a1, matter)
        elif step in (Step.DELIBERATE, Step.REVIEW_BY_PARTY_MEMBERS, Step.RESOLVE_BY_MEMBERS):
            hold_meeting(world, matter)
        elif step in (Step.PUBLISH_RESOLUTION, Step.PUBLISH_RESULT):
            end_publication(matter)
        elif step == Step.CHECK_BY_TOWNSHIP:
            act(world.officer_a, matter)
        elif step == Step.APPROVE_BY_TOWNSHIP:
            act(leader or world.leader_a, matter)
        elif step == Step.IMPLEMENT:
            act(world.cashier_a1, matter, decision=Decision.DONE, opinion="已签订合同并付款")
        else:
            return matter
    raise AssertionError(f"matter stuck at {matter.next_step}")
