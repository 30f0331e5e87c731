"""Attendance as the law counts it (农村集体经济组织法 art. 27) and the notice of a meeting on the public board."""

import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms import modelform_factory
from django.template.loader import render_to_string
from django.utils import timezone, translation
from PIL import Image

from documents import rendering
from documents.models import Evidence, LedgerEntry
from flows import services
from flows.models import AttendanceWay, Meeting, MeetingAttendance, MeetingNotice, Step
from organizations.models import MeetingBody, MeetingRule
from tests.drive import (
    act,
    announce_for,
    apply_purchase,
    end_publication,
    hold_meeting,
    let_notice_days_pass,
    post_meeting_notice,
    refresh,
)
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

ASSEMBLY = MeetingBody.MEMBER_ASSEMBLY


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def scan(name="委托书.png") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (240, 240, 240)).save(out, "PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def at_assembly(world):
    """A large A1 purchase waiting for the members' assembly (12 members, households of two: A1-00 … A1-05)."""
    matter = apply_purchase(world, total="150000.00", quotations=3)
    for _ in range(10):
        matter = refresh(matter)
        if matter.next_step == Step.RESOLVE_BY_MEMBERS:
            assert matter.member_body == ASSEMBLY
            return matter
        if matter.next_step == Step.PROPOSE:
            act(world.secretary_a1, matter)
        elif matter.next_step in (Step.DELIBERATE, Step.REVIEW_BY_PARTY_MEMBERS):
            hold_meeting(world, matter)
        elif matter.next_step == Step.PUBLISH_RESOLUTION:
            end_publication(matter)
    raise AssertionError(matter.next_step)


def roster(world):
    return services.meeting_roster(organization=world.collective_a1, body=ASSEMBLY, on_date=timezone.localdate())


def record(world, matter, *, in_person=(), attendance=(), votes_for=None, notice=None, held_on=None):
    present = len(in_person) + len(attendance)
    return services.meeting_record(
        user=world.supervisor_a1,
        organization=world.collective_a1,
        body=ASSEMBLY,
        held_on=held_on or timezone.localdate(),
        place="村委会议室",
        chair="赵监委",
        minutes="成员大会表决",
        attendee_ids=[member.pk for member in in_person],
        attendance=list(attendance),
        votes=[
            services.VoteInput(
                matter=matter,
                votes_for=present if votes_for is None else votes_for,
                votes_against=0,
                votes_abstain=0,
            )
        ],
        notice=notice,
    )


def proxy(member, holder, authorisation="scan") -> services.AttendanceInput:
    return services.AttendanceInput(
        member_id=member.pk,
        way=AttendanceWay.PROXY,
        proxy_holder_id=holder.pk if holder else None,
        authorisation=scan() if authorisation == "scan" else authorisation,
    )


def online(member) -> services.AttendanceInput:
    return services.AttendanceInput(member_id=member.pk, way=AttendanceWay.ONLINE)


def messages_of(error: pytest.ExceptionInfo) -> str:
    return " ".join(error.value.messages)


@pytest.fixture
def assembly(world):
    """The matter at the assembly, its notice posted 10 days ago for today."""
    matter = at_assembly(world)
    post_meeting_notice(world.supervisor_a1, matter, ASSEMBLY)
    return matter


# --- the rule table --------------------------------------------------------------------------------


def test_defaults_give_the_laws_notice_days_and_proxies_only_at_the_members_assembly(world):
    rules = {rule.body: rule for rule in MeetingRule.objects.filter(rule_version=world.rule_version)}
    assert {body: rule.notice_days for body, rule in rules.items()} == {
        MeetingBody.TWO_COMMITTEES: 0,
        MeetingBody.PARTY_MEMBERS: 0,
        MeetingBody.VILLAGER_MEETING: 10,
        MeetingBody.VILLAGER_REPRESENTATIVES: 0,
        MeetingBody.MEMBER_ASSEMBLY: 10,
        MeetingBody.MEMBER_REPRESENTATIVES: 0,
    }
    assert {body for body, rule in rules.items() if rule.proxies_per_attendee} == {ASSEMBLY}
    assert rules[ASSEMBLY].proxies_per_attendee == 1


@pytest.mark.parametrize(
    ("body", "article"),
    [
        (MeetingBody.MEMBER_ASSEMBLY, "Rural Collective Economic Organisations Law, art. 27"),
        (MeetingBody.VILLAGER_MEETING, "Organic Law of Villagers' Committees, art. 21"),
    ],
)
def test_rule_table_refuses_fewer_notice_days_than_the_law_and_names_the_article(world, body, article):
    rule = MeetingRule.objects.get(rule_version=world.rule_version, body=body)
    rule.notice_days = 9
    with pytest.raises(ValidationError) as error:
        rule.full_clean()
    assert f"at least 10 days' notice of this meeting ({article})" in str(error.value.message_dict["notice_days"])
    rule.notice_days = 15  # a county may lengthen it
    rule.full_clean()


def test_rule_table_lets_a_county_ask_notice_of_a_body_the_law_is_silent_on(world):
    rule = MeetingRule.objects.get(rule_version=world.rule_version, body=MeetingBody.TWO_COMMITTEES)
    rule.notice_days = 3
    rule.full_clean()


# --- ways of attending count for the quorum -----------------------------------------------------------


def test_online_and_proxy_attendance_count_for_the_quorum(world, assembly):
    members = roster(world)
    assert len(members) == 12  # 2/3 is 8
    in_person = members[0:10:2]  # one of each of the first five households
    attendance = [online(members[11]), proxy(members[1], members[0]), proxy(members[3], members[2])]
    meeting = record(world, assembly, in_person=in_person, attendance=attendance)
    assert (meeting.expected_count, meeting.attended_count) == (12, 8)
    ways = dict(MeetingAttendance.objects.filter(meeting=meeting).values_list("member_id", "way"))
    assert ways[members[11].pk] == AttendanceWay.ONLINE
    assert ways[members[1].pk] == AttendanceWay.PROXY
    assert list(ways.values()).count(AttendanceWay.IN_PERSON) == 5
    carried = MeetingAttendance.objects.get(meeting=meeting, member=members[1])
    assert carried.proxy_holder == members[0]
    assert set(meeting.attendees.all()) == {*in_person, members[11], members[1], members[3]}
    assert refresh(assembly).next_step == Step.PUBLISH_RESOLUTION
    # The scan of the authorisation is evidence of the step, linked to the proxy it proves.
    scan_file = Evidence.objects.get(attendance=carried)
    assert (scan_file.meeting, scan_file.matter, scan_file.step) == (meeting, assembly, Step.RESOLVE_BY_MEMBERS)
    # Attendance rows and the notice are in the tamper-evident log.
    assert LedgerEntry.objects.filter(object_type="MeetingAttendance", object_id=str(carried.pk)).exists()
    assert LedgerEntry.objects.filter(object_type="MeetingNotice", object_id=str(meeting.notice_id)).exists()


def test_without_the_proxies_the_same_meeting_has_no_quorum(world, assembly):
    members = roster(world)
    with pytest.raises(ValidationError) as error:
        record(world, assembly, in_person=members[0:10:2], attendance=[online(members[11])])
    assert "No quorum: 6 of 12 attended" in messages_of(error)
    assert not Meeting.objects.filter(body=ASSEMBLY).exists()


# --- proxies the law does not accept --------------------------------------------------------------


def refused(world, matter, *, in_person, attendance) -> str:
    with pytest.raises(ValidationError) as error:
        record(world, matter, in_person=in_person, attendance=attendance)
    assert not Meeting.objects.filter(body=ASSEMBLY).exists()
    assert (
        not MeetingAttendance.objects.exists() or not MeetingAttendance.objects.filter(meeting__body=ASSEMBLY).exists()
    )
    assert not Evidence.objects.filter(attendance__isnull=False).exists()
    assert refresh(matter).next_step == Step.RESOLVE_BY_MEMBERS
    return " ".join(error.value.message_dict["attendees"])


def test_proxy_to_someone_of_another_household_is_refused(world, assembly):
    members = roster(world)
    message = refused(world, assembly, in_person=members[2:10], attendance=[proxy(members[0], members[2])])
    assert f"{members[0].name}'s proxy: {members[2].name} is not of the same household (A1-00)" in message


def test_more_proxies_than_the_county_allows_are_refused(world, assembly):
    rule = MeetingRule.objects.get(rule_version=assembly.rule_version, body=ASSEMBLY)
    assert rule.proxies_per_attendee == 1
    MemberFactory(organization=world.collective_a1, household="A1-00", name="第三人")
    members = roster(world)
    household = [m for m in members if m.household == "A1-00"]
    holder, others = household[0], household[1:]
    assert len(others) == 2
    message = refused(
        world,
        assembly,
        in_person=[holder, *members[3:10]],
        attendance=[proxy(other, holder) for other in others],
    )
    assert f"{holder.name} carries 2 proxies" in message
    assert "the county allows 1 per attendee." in message


def test_a_county_allowing_two_proxies_accepts_them(world, assembly):
    rule = MeetingRule.objects.get(rule_version=assembly.rule_version, body=ASSEMBLY)
    rule.proxies_per_attendee = 2
    rule.save()
    MemberFactory(organization=world.collective_a1, household="A1-00", name="第三人")
    members = roster(world)
    household = [m for m in members if m.household == "A1-00"]
    holder, others = household[0], household[1:]
    meeting = record(world, assembly, in_person=[holder, *members[3:10]], attendance=[proxy(o, holder) for o in others])
    assert MeetingAttendance.objects.filter(meeting=meeting, proxy_holder=holder).count() == 2


def test_proxy_without_the_scan_is_refused(world, assembly):
    members = roster(world)
    message = refused(
        world, assembly, in_person=[*members[2:10], members[0]], attendance=[proxy(members[1], members[0], None)]
    )
    assert f"{members[1].name}'s proxy: attach the scan of the written authorisation." in message


def test_proxy_with_a_scan_that_is_not_a_scan_is_refused(world, assembly):
    members = roster(world)
    fake = SimpleUploadedFile("委托书.png", b"<html><script>alert(1)</script></html>", content_type="image/png")
    message = refused(
        world, assembly, in_person=[*members[2:10], members[0]], attendance=[proxy(members[1], members[0], fake)]
    )
    assert f"{members[1].name}'s proxy scan:" in message


def test_proxy_whose_holder_is_not_attending_is_refused(world, assembly):
    members = roster(world)
    message = refused(world, assembly, in_person=members[2:10], attendance=[proxy(members[1], members[0])])
    assert f"{members[0].name}, who carried it, is not recorded as attending in person or online." in message


def test_proxy_whose_holder_attends_by_proxy_is_refused(world, assembly):
    members = roster(world)
    message = refused(
        world,
        assembly,
        in_person=members[4:10],
        attendance=[proxy(members[1], members[0]), proxy(members[0], members[1])],
    )
    assert "is not recorded as attending in person or online." in message


def test_proxy_naming_no_holder_is_refused(world, assembly):
    members = roster(world)
    message = refused(world, assembly, in_person=members[2:10], attendance=[proxy(members[1], None)])
    assert f"{members[1].name} attended by proxy: name the household member who carried it." in message


def test_a_body_that_takes_no_proxies_refuses_them(world):
    matter = apply_purchase(world)
    act(world.secretary_a1, matter)
    matter = refresh(matter)
    committee = services.meeting_roster(
        organization=world.collective_a1, body=MeetingBody.TWO_COMMITTEES, on_date=timezone.localdate()
    )
    with pytest.raises(ValidationError) as error:
        services.meeting_record(
            user=world.supervisor_a1,
            organization=world.collective_a1,
            body=MeetingBody.TWO_COMMITTEES,
            held_on=timezone.localdate(),
            place="村委会",
            chair="李书记",
            minutes="商议",
            attendee_ids=[m.pk for m in committee[:4]],
            attendance=[proxy(committee[4], committee[0])],
            votes=[services.VoteInput(matter=matter, votes_for=5, votes_against=0, votes_abstain=0)],
        )
    assert "this meeting body takes no written proxies in the county's rules." in messages_of(error)
    assert not Meeting.objects.exists()


def test_attendee_off_the_roster_is_refused(world, assembly):
    with pytest.raises(ValidationError) as error:
        record(world, assembly, in_person=roster(world)[:8], attendance=[services.AttendanceInput(member_id=0)])
    assert "Only people on this body's roster can be recorded as attending." in messages_of(error)


# --- the notice ---------------------------------------------------------------------------------------


def test_notice_must_announce_the_assembly_at_least_ten_days_ahead(world):
    matter = at_assembly(world)
    nine_days = announce_for(timezone.localdate() + datetime.timedelta(days=9))
    with pytest.raises(ValidationError) as error:
        services.meeting_notice_post(
            user=world.supervisor_a1,
            organization=world.collective_a1,
            body=ASSEMBLY,
            meets_at=nine_days,
            place="村委会议室",
            agenda="审议购置事项",
            matters=[matter],
        )
    earliest = timezone.localdate() + datetime.timedelta(days=10)
    assert (
        f"A Members' assembly is announced at least 10 days ahead (Rural Collective Economic Organisations Law, "
        f"art. 27): posted today, the earliest day it may meet is {earliest.isoformat()}."
    ) in error.value.message_dict["meets_at"]
    assert not MeetingNotice.objects.exists()


def test_notice_of_a_meeting_in_the_past_is_refused(world):
    with pytest.raises(ValidationError) as error:
        services.meeting_notice_post(
            user=world.supervisor_a1,
            organization=world.collective_a1,
            body=MeetingBody.TWO_COMMITTEES,
            meets_at=timezone.now() - datetime.timedelta(hours=1),
            place="村委会",
            agenda="商议",
        )
    assert "A notice announces a meeting still to come." in error.value.message_dict["meets_at"]


@pytest.mark.parametrize("persona", ["cashier_a1", "officer_a", "inspector", "supervisor_a2"])
def test_only_the_villages_secretary_or_supervisor_posts_a_notice(world, persona):
    with pytest.raises(PermissionDenied):
        services.meeting_notice_post(
            user=getattr(world, persona),
            organization=world.collective_a1,
            body=ASSEMBLY,
            meets_at=announce_for(timezone.localdate() + datetime.timedelta(days=12)),
            place="村委会议室",
            agenda="审议",
        )
    assert not MeetingNotice.objects.exists()


def test_secretary_posts_a_notice_with_its_matters(world):
    matter = at_assembly(world)
    notice = services.meeting_notice_post(
        user=world.secretary_a1,
        organization=world.collective_a1,
        body=ASSEMBLY,
        meets_at=announce_for(timezone.localdate() + datetime.timedelta(days=10)),
        place="村委会议室",
        agenda="审议购置事项",
        matters=[matter],
    )
    assert list(notice.matters.all()) == [matter]
    assert notice.posted_by == world.secretary_a1


def test_assembly_without_a_notice_cannot_be_recorded(world):
    matter = at_assembly(world)
    with pytest.raises(ValidationError) as error:
        record(world, matter, in_person=roster(world))
    assert "no notice of it was posted" in " ".join(error.value.message_dict["notice"])
    assert not Meeting.objects.filter(body=ASSEMBLY).exists()
    assert refresh(matter).next_step == Step.RESOLVE_BY_MEMBERS


def test_assembly_held_less_than_the_notice_days_after_its_notice_is_refused_with_the_dates(world):
    matter = at_assembly(world)
    notice = post_meeting_notice(world.supervisor_a1, matter, ASSEMBLY, days_passed=False)
    let_notice_days_pass(notice, 4)  # posted four days ago, for six days from now
    today = timezone.localdate()
    with pytest.raises(ValidationError) as error:
        record(world, matter, in_person=roster(world))
    posted = today - datetime.timedelta(days=4)
    assert (
        f"The notice was posted on {posted.isoformat()}: a meeting held on {today.isoformat()} had 4 days' notice, "
        f"10 are needed. The earliest day it may be held is {(posted + datetime.timedelta(days=10)).isoformat()}."
    ) in error.value.message_dict["notice"]
    assert not Meeting.objects.filter(body=ASSEMBLY).exists()

    let_notice_days_pass(refresh_notice(notice), 6)  # now ten days ago, for today
    meeting = record(world, matter, in_person=roster(world))
    assert meeting.notice == notice
    assert refresh(matter).next_step == Step.PUBLISH_RESOLUTION


def refresh_notice(notice):
    return MeetingNotice.objects.get(pk=notice.pk)


def test_county_that_lengthened_the_notice_counts_its_days(world):
    matter = at_assembly(world)
    rule = MeetingRule.objects.get(rule_version=matter.rule_version, body=ASSEMBLY)
    rule.notice_days = 15
    rule.save()
    notice = post_meeting_notice(world.supervisor_a1, matter, ASSEMBLY, days_passed=False)
    assert notice.meets_on == timezone.localdate() + datetime.timedelta(days=15)
    let_notice_days_pass(notice, 12)
    with pytest.raises(ValidationError) as error:
        record(world, matter, in_person=roster(world), notice=refresh_notice(notice))
    assert "12 days' notice, 15 are needed" in " ".join(error.value.message_dict["notice"])


def test_assembly_held_on_another_day_than_announced_is_refused(world):
    matter = at_assembly(world)
    notice = post_meeting_notice(world.supervisor_a1, matter, ASSEMBLY, days_passed=False)
    let_notice_days_pass(notice, 11)  # posted 11 days ago, for yesterday
    with pytest.raises(ValidationError) as error:
        record(world, matter, in_person=roster(world), notice=refresh_notice(notice))
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    assert (
        f"The notice announced the meeting for {yesterday.isoformat()}, not {timezone.localdate().isoformat()}"
    ) in " ".join(error.value.message_dict["notice"])


def test_notice_of_another_body_does_not_count(world):
    matter = at_assembly(world)
    other = services.meeting_notice_post(
        user=world.supervisor_a1,
        organization=world.collective_a1,
        body=MeetingBody.VILLAGER_MEETING,
        meets_at=announce_for(timezone.localdate() + datetime.timedelta(days=10)),
        place="村委会议室",
        agenda="村民会议",
    )
    let_notice_days_pass(other, 10)
    with pytest.raises(ValidationError) as error:
        record(world, matter, in_person=roster(world), notice=refresh_notice(other))
    assert "This notice announced another meeting." in " ".join(error.value.message_dict["notice"])


def test_minutes_print_each_attendees_way_and_who_carried_a_proxy(world, assembly):
    members = roster(world)
    attendance = [online(members[11]), proxy(members[1], members[0]), proxy(members[3], members[2])]
    meeting = record(world, assembly, in_person=members[0:10:2], attendance=attendance)
    context = rendering.minutes_context(rendering.minutes_request(meeting=meeting))
    ways = {member.pk: member.attendance.way for member in context["attendees"]}
    assert ways[members[1].pk] == AttendanceWay.PROXY
    assert ways[members[11].pk] == AttendanceWay.ONLINE
    html = render_to_string("documents/pdf/minutes.html", context)
    assert f"By written proxy（Proxy carried by {members[0].name}）" in html
    assert "Online (instant messaging)" in html


def test_the_rule_tables_form_refuses_fewer_notice_days_than_the_law(world):
    form_class = modelform_factory(
        MeetingRule, fields=["body", "quorum_numerator", "quorum_denominator", "notice_days"]
    )
    rule = MeetingRule.objects.get(rule_version=world.rule_version, body=ASSEMBLY)
    data = {"body": ASSEMBLY, "quorum_numerator": 2, "quorum_denominator": 3, "notice_days": 7}
    form = form_class(data=data, instance=rule)
    assert not form.is_valid()
    assert "Rural Collective Economic Organisations Law, art. 27" in form.errors["notice_days"][0]
    assert MeetingRule.objects.get(pk=rule.pk).notice_days == 10
