"""Meeting pages: only the village's supervisor records, quorum is enforced, other places see nothing."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from flows import services
from flows.models import Meeting, MeetingDecision, Step
from organizations.models import MeetingBody
from tests.drive import hold_meeting, post_meeting_notice, refresh

pytestmark = pytest.mark.django_db


def committee_roster(world):
    return services.meeting_roster(
        organization=world.collective_a1, body=MeetingBody.TWO_COMMITTEES, on_date=timezone.localdate()
    )


def meeting_post(world, matter, *, attended: int = 5, votes_for: int = 5, held_on=None, organization=None) -> dict:
    """The POST body of the meeting form: the first ``attended`` of the two committees, one matter on the agenda."""
    present = committee_roster(world)[:attended]
    return {
        "organization": str((organization or world.collective_a1).pk),
        "body": MeetingBody.TWO_COMMITTEES,
        "held_on": (held_on or timezone.localdate()).isoformat(),
        "place": "村委会议室",
        "chair": "赵监委",
        "minutes": "讨论购置办公电脑",
        "attendees": [str(member.pk) for member in present],
        f"m{matter.pk}-on_agenda": "on",
        f"m{matter.pk}-votes_for": str(votes_for),
        f"m{matter.pk}-votes_against": str(attended - votes_for),
        f"m{matter.pk}-votes_abstain": "0",
    }


# --- who may record a meeting ------------------------------------------------------------


@pytest.mark.parametrize(
    "persona", ["secretary_a1", "cashier_a1", "officer_a", "leader_a", "inspector", "county_admin"]
)
def test_persona_who_is_not_a_supervisor_gets_403_on_the_meeting_form(client, world, matter_at, persona):
    matter = matter_at(Step.DELIBERATE)
    client.force_login(getattr(world, persona))
    assert client.get(reverse("flows:meeting_create")).status_code == 403
    assert client.post(reverse("flows:meeting_create"), meeting_post(world, matter)).status_code == 403
    assert not Meeting.objects.exists()
    assert refresh(matter).next_step == Step.DELIBERATE


def test_supervisor_of_another_village_gets_403_for_this_villages_collective(client, world, matter_at):
    matter = matter_at(Step.DELIBERATE)
    client.force_login(world.supervisor_a2)
    url = reverse("flows:meeting_create")
    assert client.get(url, {"organization": world.collective_a1.pk}).status_code == 403
    assert client.post(url, meeting_post(world, matter)).status_code == 403
    assert not Meeting.objects.exists()
    assert refresh(matter).next_step == Step.DELIBERATE


def test_supervisor_gets_the_roster_and_the_pending_matters(client, world, matter_at):
    matter = matter_at(Step.DELIBERATE)
    client.force_login(world.supervisor_a1)
    response = client.get(reverse("flows:meeting_create"), {"body": MeetingBody.TWO_COMMITTEES})
    assert response.status_code == 200
    content = response.content.decode()
    assert matter.title in content
    for member in committee_roster(world):
        assert member.name in content


def test_an_unknown_meeting_body_is_404(client, world):
    client.force_login(world.supervisor_a1)
    assert client.get(reverse("flows:meeting_create"), {"body": "town_hall"}).status_code == 404


# --- recording a meeting ------------------------------------------------------------------


def test_supervisor_records_a_meeting_and_the_matter_moves_on(client, world, matter_at):
    matter = matter_at(Step.DELIBERATE)
    client.force_login(world.supervisor_a1)
    response = client.post(reverse("flows:meeting_create"), meeting_post(world, matter))
    meeting = Meeting.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("flows:meeting_detail", args=[meeting.pk])
    assert (meeting.expected_count, meeting.attended_count, meeting.recorded_by) == (5, 5, world.supervisor_a1)
    assert MeetingDecision.objects.get(meeting=meeting).passed
    assert refresh(matter).next_step == Step.PUBLISH_RESOLUTION


def test_meeting_without_quorum_is_refused_with_the_reason(client, world, matter_at):
    matter = matter_at(Step.DELIBERATE)
    client.force_login(world.supervisor_a1)
    response = client.post(reverse("flows:meeting_create"), meeting_post(world, matter, attended=2, votes_for=2))
    assert response.status_code == 400
    assert "No quorum: 2 of 5 attended, more than 1/2 needed (3)." in response.content.decode()
    assert not Meeting.objects.exists()
    assert not MeetingDecision.objects.exists()
    assert refresh(matter).next_step == Step.DELIBERATE


def test_meeting_dated_in_the_future_is_refused(client, world, matter_at):
    matter = matter_at(Step.DELIBERATE)
    client.force_login(world.supervisor_a1)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = client.post(reverse("flows:meeting_create"), meeting_post(world, matter, held_on=tomorrow))
    assert response.status_code == 400
    assert "A meeting cannot be recorded before it is held." in response.content.decode()
    assert not Meeting.objects.exists()


def test_meeting_with_nothing_on_the_agenda_is_refused(client, world, matter_at):
    matter = matter_at(Step.DELIBERATE)
    client.force_login(world.supervisor_a1)
    data = meeting_post(world, matter)
    del data[f"m{matter.pk}-on_agenda"]
    response = client.post(reverse("flows:meeting_create"), data)
    assert response.status_code == 400
    assert "Put at least one pending matter on the agenda." in response.content.decode()
    assert not Meeting.objects.exists()


def test_meeting_attendee_off_the_roster_is_refused(client, world, matter_at):
    matter = matter_at(Step.DELIBERATE)
    client.force_login(world.supervisor_a1)
    data = meeting_post(world, matter)
    data["attendees"].append(str(world.members_a1[-1].pk))  # a member, but not on the two committees
    response = client.post(reverse("flows:meeting_create"), data)
    assert response.status_code == 400
    assert not Meeting.objects.exists()
    assert refresh(matter).next_step == Step.DELIBERATE


# --- who may see a meeting -----------------------------------------------------------------


@pytest.mark.parametrize("persona", ["supervisor_a2", "secretary_a2", "secretary_b1", "officer_b", "inspector_b"])
def test_persona_of_another_place_gets_404_on_the_meeting(client, world, matter_at, persona):
    meeting = hold_meeting(world, matter_at(Step.DELIBERATE))
    client.force_login(getattr(world, persona))
    assert client.get(reverse("flows:meeting_detail", args=[meeting.pk])).status_code == 404
    assert (
        reverse("flows:meeting_detail", args=[meeting.pk])
        not in client.get(reverse("flows:meeting_list")).content.decode()
    )


@pytest.mark.parametrize("persona", ["secretary_a1", "supervisor_a1", "officer_a", "leader_a", "inspector"])
def test_persona_whose_jurisdiction_covers_the_village_sees_the_meeting(client, world, matter_at, persona):
    matter = matter_at(Step.DELIBERATE)
    meeting = hold_meeting(world, matter)
    client.force_login(getattr(world, persona))
    response = client.get(reverse("flows:meeting_detail", args=[meeting.pk]))
    assert response.status_code == 200
    assert matter.title in response.content.decode()
    assert (
        reverse("flows:meeting_detail", args=[meeting.pk]) in client.get(reverse("flows:meeting_list")).content.decode()
    )


def test_members_assembly_with_a_majority_under_two_thirds_of_all_members_fails_and_says_why(client, world, matter_at):
    """农村集体经济组织法 art. 27: 2/3 present and a majority of them is not enough; 2/3 of ALL members must agree."""
    matter = matter_at(Step.RESOLVE_BY_MEMBERS, total="120000.00", quotations=3)
    assert matter.member_body == MeetingBody.MEMBER_ASSEMBLY
    roster = services.meeting_roster(
        organization=world.collective_a1, body=MeetingBody.MEMBER_ASSEMBLY, on_date=timezone.localdate()
    )
    assert len(roster) == 12
    post_meeting_notice(world.supervisor_a1, matter, MeetingBody.MEMBER_ASSEMBLY)  # art. 27: 10 days ahead
    client.force_login(world.supervisor_a1)
    data = {
        **meeting_post(world, matter),
        "body": MeetingBody.MEMBER_ASSEMBLY,
        "attendees": [str(member.pk) for member in roster[:9]],
        f"m{matter.pk}-votes_for": "7",
        f"m{matter.pk}-votes_against": "2",
    }
    response = client.post(reverse("flows:meeting_create"), data)
    assert response.status_code == 302
    decision = MeetingDecision.objects.get(matter=matter, meeting__body=MeetingBody.MEMBER_ASSEMBLY)
    reason = (
        "Not passed: 7 votes for, 9 attended of 12 who should attend; a decision needs at least 2/3 of those who "
        "should attend, that is 8 votes for."
    )
    assert (decision.passed, decision.reason) == (False, reason)
    matter = refresh(matter)
    assert matter.next_step == Step.APPLY  # the default on a failed vote: back to the applicant
    page = client.get(reverse("flows:matter_detail", args=[matter.pk])).content.decode()
    assert reason in page
