"""The meeting capture pages: attendance ways and proxies on the form, the sign-in sheet (template and import),
the notice of a meeting and the board that shows it."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from flows import services
from flows.models import AttendanceWay, Meeting, MeetingAttendance, MeetingNotice, Step
from organizations.models import MeetingBody
from tests.drive import hold_meeting, post_meeting_notice, refresh
from tests.factories import MemberFactory

from .conftest import PNG_BYTES

pytestmark = pytest.mark.django_db

ASSEMBLY = MeetingBody.MEMBER_ASSEMBLY
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def assembly(world, matter_at):
    """A large purchase of A1 at the members' assembly, its notice posted ten days ago for today."""
    matter = matter_at(Step.RESOLVE_BY_MEMBERS, total="150000.00", quotations=3)
    assert matter.member_body == ASSEMBLY
    return matter


@pytest.fixture
def noticed(world, assembly):
    post_meeting_notice(world.supervisor_a1, assembly, ASSEMBLY)
    return assembly


def roster(world):
    return services.meeting_roster(organization=world.collective_a1, body=ASSEMBLY, on_date=timezone.localdate())


def assembly_post(world, matter, *, attendees, votes_for=None, **extra) -> dict:
    data = {
        "organization": str(world.collective_a1.pk),
        "body": ASSEMBLY,
        "held_on": timezone.localdate().isoformat(),
        "place": "村委会议室",
        "chair": "赵监委",
        "minutes": "成员大会表决购置事项",
        "attendees": [str(member.pk) for member in attendees],
        f"m{matter.pk}-on_agenda": "on",
        f"m{matter.pk}-votes_for": str(len(attendees) if votes_for is None else votes_for),
        f"m{matter.pk}-votes_against": "0",
        f"m{matter.pk}-votes_abstain": "0",
    }
    data.update(extra)
    return data


def scan_file(name="委托书.png"):
    return SimpleUploadedFile(name, PNG_BYTES, content_type="image/png")


def create_url(body=ASSEMBLY):
    return reverse("flows:meeting_create") + f"?body={body}"


# --- the roster on the page -------------------------------------------------------------------------


def test_roster_is_grouped_by_household_with_a_way_per_member_and_the_script_from_a_static_file(client, world, noticed):
    client.force_login(world.supervisor_a1)
    response = client.get(create_url())
    content = response.content.decode()
    assert response.status_code == 200
    assert content.count('class="household"') == 6
    for member in roster(world):
        assert f'name="way_{member.pk}"' in content
        assert f'name="holder_{member.pk}"' in content
        assert f'name="scan_{member.pk}"' in content
    assert 'data-household-select="all"' in content
    assert 'id="roster-search"' in content
    assert "/static/flows/roster.js" in content
    assert "<script>" not in content  # the CSP allows no inline script without its nonce
    assert reverse("flows:sign_in_sheet_template") in content


def test_proxy_holders_offered_are_the_members_own_household(client, world, noticed):
    client.force_login(world.supervisor_a1)
    content = client.get(create_url()).content.decode()
    first, second, third = roster(world)[:3]
    holder_select = content.split(f'name="holder_{first.pk}"')[1].split("</select>")[0]
    assert f'value="{second.pk}"' in holder_select
    assert f'value="{third.pk}"' not in holder_select


# --- recording with ways and proxies -------------------------------------------------------------------


def test_supervisor_records_an_assembly_with_online_and_proxy_attendance(client, world, noticed):
    members = roster(world)
    in_person = members[0:10:2]
    attendees = [*in_person, members[1], members[3], members[11]]
    data = assembly_post(
        world,
        noticed,
        attendees=attendees,
        **{
            f"way_{members[11].pk}": AttendanceWay.ONLINE,
            f"way_{members[1].pk}": AttendanceWay.PROXY,
            f"holder_{members[1].pk}": str(members[0].pk),
            f"scan_{members[1].pk}": scan_file(),
            f"way_{members[3].pk}": AttendanceWay.PROXY,
            f"holder_{members[3].pk}": str(members[2].pk),
            f"scan_{members[3].pk}": scan_file("委托书2.png"),
        },
    )
    client.force_login(world.supervisor_a1)
    response = client.post(reverse("flows:meeting_create"), data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    meeting = Meeting.objects.get(body=ASSEMBLY)
    assert meeting.attended_count == 8
    assert MeetingAttendance.objects.filter(meeting=meeting, way=AttendanceWay.PROXY).count() == 2
    assert refresh(noticed).next_step == Step.PUBLISH_RESOLUTION
    page = client.get(meeting.get_absolute_url()).content.decode()
    assert "In person: 5 · Online (instant messaging): 1 · By written proxy: 2" in page
    assert "委托书.png" in page


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("other_household", "is not of the same household (A1-00)"),
        ("no_scan", "proxy: attach the scan of the written authorisation."),
        ("holder_absent", "who carried it, is not recorded as attending in person or online."),
    ],
)
def test_proxy_the_law_does_not_accept_is_refused_on_the_form(client, world, noticed, case, message):
    members = roster(world)
    holder = members[2] if case == "other_household" else members[1]
    attendees = [members[0], *members[3:10]]
    if case != "holder_absent":
        attendees.append(holder)
    extra = {f"way_{members[0].pk}": AttendanceWay.PROXY, f"holder_{members[0].pk}": str(holder.pk)}
    if case != "no_scan":
        extra[f"scan_{members[0].pk}"] = scan_file()
    if case == "other_household":
        # The page offers only household members; a forged value is still refused by the service.
        extra.pop(f"holder_{members[0].pk}")
    client.force_login(world.supervisor_a1)
    response = client.post(reverse("flows:meeting_create"), assembly_post(world, noticed, attendees=attendees, **extra))
    assert response.status_code == 400
    if case == "other_household":
        assert "name the household member who carried it." in response.content.decode()
    else:
        assert message in response.content.decode()
    assert not Meeting.objects.filter(body=ASSEMBLY).exists()
    assert refresh(noticed).next_step == Step.RESOLVE_BY_MEMBERS


def test_a_holder_forged_from_another_household_is_refused(client, world, noticed):
    members = roster(world)
    data = assembly_post(
        world,
        noticed,
        attendees=[members[0], *members[2:10]],
        **{
            f"way_{members[0].pk}": AttendanceWay.PROXY,
            f"holder_{members[0].pk}": str(members[2].pk),
            f"scan_{members[0].pk}": scan_file(),
        },
    )
    client.force_login(world.supervisor_a1)
    response = client.post(reverse("flows:meeting_create"), data)
    assert response.status_code == 400  # not a choice of the form: only household members are offered
    assert not Meeting.objects.filter(body=ASSEMBLY).exists()


def test_an_unknown_way_is_refused(client, world, noticed):
    members = roster(world)
    data = assembly_post(world, noticed, attendees=members, **{f"way_{members[0].pk}": "by_pigeon"})
    client.force_login(world.supervisor_a1)
    response = client.post(reverse("flows:meeting_create"), data)
    assert response.status_code == 400
    assert not Meeting.objects.filter(body=ASSEMBLY).exists()


# --- the notice on recording --------------------------------------------------------------------------


def test_recording_an_assembly_without_a_notice_is_refused_on_the_form(client, world, assembly):
    client.force_login(world.supervisor_a1)
    response = client.post(reverse("flows:meeting_create"), assembly_post(world, assembly, attendees=roster(world)))
    assert response.status_code == 400
    assert "no notice of it was posted. Post the notice first." in response.content.decode()
    assert not Meeting.objects.filter(body=ASSEMBLY).exists()


def test_recording_too_soon_after_the_notice_says_the_dates(client, world, assembly):
    notice = post_meeting_notice(world.supervisor_a1, assembly, ASSEMBLY, days_passed=False)
    client.force_login(world.supervisor_a1)
    data = assembly_post(world, assembly, attendees=roster(world), notice=str(notice.pk))
    response = client.post(reverse("flows:meeting_create"), data)
    today = timezone.localdate().isoformat()
    earliest = (timezone.localdate() + datetime.timedelta(days=10)).isoformat()
    assert response.status_code == 400
    content = response.content.decode()
    assert f"The notice was posted on {today}: a meeting held on {today} had 0 days&#x27; notice" in content
    assert f"The earliest day it may be held is {earliest}." in content
    assert not Meeting.objects.filter(body=ASSEMBLY).exists()


# --- the sign-in sheet ---------------------------------------------------------------------------------


def test_template_lists_the_roster_household_by_household(client, world, noticed):
    client.force_login(world.supervisor_a1)
    response = client.get(
        reverse("flows:sign_in_sheet_template"), {"organization": world.collective_a1.pk, "body": ASSEMBLY}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(min_row=2, max_col=2, values_only=True))
    assert rows == [(m.household, m.name) for m in sorted(roster(world), key=lambda m: (m.household, m.name, m.pk))]
    assert sheet["C1"].value == "Attended (本人 / 线上 / 委托)"


@pytest.mark.parametrize("persona", ["secretary_a1", "officer_a", "inspector", "supervisor_a2"])
def test_template_is_refused_to_all_but_the_villages_supervisor(client, world, persona):
    client.force_login(getattr(world, persona))
    response = client.get(reverse("flows:sign_in_sheet_template"), {"organization": world.collective_a1.pk})
    assert response.status_code == 403


def sheet(rows) -> SimpleUploadedFile:
    workbook = Workbook()
    worksheet = workbook.active
    worksheet.append(["户号", "姓名", "参会方式", "受托人", "签名"])
    for row in rows:
        worksheet.append(list(row))
    output = io.BytesIO()
    workbook.save(output)
    return SimpleUploadedFile("签到表.xlsx", output.getvalue(), content_type=XLSX)


def import_post(world, matter, upload, **extra) -> dict:
    data = assembly_post(world, matter, attendees=[], action="import", sign_in_sheet=upload)
    data.update(extra)
    return data


def test_importing_a_good_sheet_ticks_the_roster_and_saves_nothing_yet(client, world, noticed):
    members = roster(world)
    rows = [(m.household, m.name, "本人", "", "签") for m in members[0:10:2]]
    rows += [
        (members[1].household, members[1].name, "委托", members[0].name, ""),
        (members[11].household, members[11].name, "线上", "", ""),
        (members[3].household, members[3].name, "", "", ""),  # absent
    ]
    client.force_login(world.supervisor_a1)
    response = client.post(reverse("flows:meeting_create"), import_post(world, noticed, sheet(rows)))
    content = response.content.decode()
    assert response.status_code == 200
    assert "Imported the sign-in sheet: 5 in person, 1 online, 1 by proxy." in content
    assert f'id="attendee-{members[0].pk}" checked' in content
    assert f'id="attendee-{members[3].pk}" checked' not in content
    way = content.split(f'name="way_{members[1].pk}"')[1].split("</select>")[0]
    assert '<option value="proxy" selected>' in way
    holder = content.split(f'name="holder_{members[1].pk}"')[1].split("</select>")[0]
    assert f'<option value="{members[0].pk}" selected>' in holder
    assert 'value="村委会议室"' in content  # what was typed stays
    assert not Meeting.objects.filter(body=ASSEMBLY).exists()


def test_a_sheet_with_wrong_rows_imports_nothing_and_reports_each_row(client, world, noticed):
    members = roster(world)
    rows = [
        (members[0].household, members[0].name, "本人", "", ""),  # row 2: fine
        (members[2].household, "王不在", "本人", "", ""),  # row 3: not on the roster
        (members[4].household, members[4].name, "请假", "", ""),  # row 4: not a way
        (members[1].household, members[1].name, "委托", members[2].name, ""),  # row 5: other household
        (members[5].household, members[5].name, "委托", members[4].name, ""),  # row 6: holder not attending
        (members[6].household, members[6].name, "委托", "", ""),  # row 7: no holder
        ("Z-99", "某人", "本人", "", ""),  # row 8: no such household
        (members[0].household, members[0].name, "线上", "", ""),  # row 9: twice
    ]
    client.force_login(world.supervisor_a1)
    response = client.post(reverse("flows:meeting_create"), import_post(world, noticed, sheet(rows)))
    assert response.status_code == 400
    content = response.content.decode()
    assert "Nothing was imported; correct these rows and import the sheet again." in content
    table = content.split('id="sheet-problems"')[1].split("</table>")[0]
    expected = [
        ("3", "B（Name）", f"王不在 of household {members[2].household} is not on this meeting&#x27;s roster."),
        ("4", "C（Attended (本人 / 线上 / 委托)）", "“请假” is not a way of attending"),
        ("5", "D（Proxy carried by）", f"{members[2].name} is not a member of household {members[1].household}"),
        ("6", "D（Proxy carried by）", f"{members[4].name}, who carried the proxy, is not marked as attending"),
        ("7", "D（Proxy carried by）", "Name the household member who carried the proxy."),
        ("8", "A（Household）", "No household “Z-99” on this meeting&#x27;s roster."),
        ("9", "B（Name）", f"{members[0].name} is already in row 2."),
    ]
    for row, column, message in expected:
        assert f"<tr><td>{row}</td><td>{column}</td><td>{message}" in table, (row, table)
    assert "<tr><td>2</td>" not in table
    # Nothing ticked from the sheet, nothing saved.
    assert f'id="attendee-{members[0].pk}" checked' not in content
    assert not Meeting.objects.filter(body=ASSEMBLY).exists()


def test_a_proxy_over_the_limit_in_the_sheet_is_reported(client, world, noticed):
    third = MemberFactory(organization=world.collective_a1, household="A1-00", name="第三人")
    members = roster(world)
    first, second = [m for m in members if m.household == "A1-00" and m.pk != third.pk]
    rows = [
        (first.household, first.name, "本人", "", ""),
        (second.household, second.name, "委托", first.name, ""),
        (third.household, third.name, "委托", first.name, ""),
    ]
    client.force_login(world.supervisor_a1)
    response = client.post(reverse("flows:meeting_create"), import_post(world, noticed, sheet(rows)))
    assert response.status_code == 400
    assert (
        f"<tr><td>4</td><td>D（Proxy carried by）</td><td>{first.name} already carries 1 proxies, "
        "as many as the county allows per attendee." in response.content.decode()
    )


def test_a_file_that_is_not_a_workbook_is_reported(client, world, noticed):
    fake = SimpleUploadedFile("签到表.xlsx", b"not a workbook", content_type=XLSX)
    client.force_login(world.supervisor_a1)
    response = client.post(reverse("flows:meeting_create"), import_post(world, noticed, fake))
    assert response.status_code == 400
    assert "The file is not an Excel workbook (.xlsx)" in response.content.decode()


def test_import_without_a_file_asks_for_one(client, world, noticed):
    client.force_login(world.supervisor_a1)
    data = import_post(world, noticed, None)
    del data["sign_in_sheet"]
    response = client.post(reverse("flows:meeting_create"), data)
    assert response.status_code == 400
    assert "Choose the filled-in sign-in sheet to import." in response.content.decode()


# --- posting a notice, and the board -------------------------------------------------------------------


def notice_post(world, matter=None, *, days=10, **extra) -> dict:
    meets = timezone.localdate() + datetime.timedelta(days=days)
    data = {
        "organization": str(world.collective_a1.pk),
        "body": ASSEMBLY,
        "meets_at": f"{meets.isoformat()}T09:30",
        "place": "村委会大礼堂",
        "agenda": "一、审议购置农机具事项\n二、其他",
    }
    if matter is not None:
        data["matters"] = [str(matter.pk)]
    data.update(extra)
    return data


def test_supervisor_posts_a_notice_and_the_board_shows_it_without_login(client, world, assembly):
    client.force_login(world.supervisor_a1)
    url = reverse("flows:meeting_notice_create")
    assert assembly.title in client.get(url, {"body": ASSEMBLY}).content.decode()
    response = client.post(url, notice_post(world, assembly))
    notice = MeetingNotice.objects.get()
    assert response.status_code == 302
    assert response.url == notice.get_absolute_url()
    assert list(notice.matters.all()) == [assembly]
    client.logout()
    village = client.get(reverse("board:village", args=[world.village_a1.pk])).content.decode()
    assert notice.get_absolute_url() in village
    assert "村委会大礼堂" in village
    page = client.get(notice.get_absolute_url()).content.decode()
    assert "Notice of the Members&#x27; assembly" in page
    assert "一、审议购置农机具事项" in page
    assert assembly.title in page
    assert timezone.localtime(notice.meets_at).strftime("%Y-%m-%d %H:%M") in page


def test_notice_less_than_ten_days_ahead_is_refused_on_the_form(client, world, assembly):
    client.force_login(world.supervisor_a1)
    response = client.post(reverse("flows:meeting_notice_create"), notice_post(world, assembly, days=7))
    assert response.status_code == 400
    assert "is announced at least 10 days ahead (Rural Collective Economic Organisations Law, art. 27)" in (
        response.content.decode()
    )
    assert not MeetingNotice.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"), [("meets_at", "next week"), ("place", ""), ("agenda", ""), ("body", "town_hall")]
)
def test_notice_form_refuses_bad_input(client, world, field, value):
    client.force_login(world.supervisor_a1)
    data = notice_post(world, **{field: value})
    response = client.post(reverse("flows:meeting_notice_create"), data)
    assert response.status_code in (400, 404)
    assert not MeetingNotice.objects.exists()


@pytest.mark.parametrize("persona", ["cashier_a1", "officer_a", "leader_a", "inspector", "county_admin"])
def test_notice_form_is_refused_to_those_who_do_not_convene_the_meeting(client, world, persona):
    client.force_login(getattr(world, persona))
    assert client.get(reverse("flows:meeting_notice_create")).status_code == 403
    assert client.post(reverse("flows:meeting_notice_create"), notice_post(world)).status_code == 403
    assert not MeetingNotice.objects.exists()


def test_notice_form_is_refused_for_another_villages_collective(client, world):
    client.force_login(world.supervisor_a2)
    response = client.post(reverse("flows:meeting_notice_create"), notice_post(world))
    assert response.status_code == 403
    assert not MeetingNotice.objects.exists()


def test_board_notice_of_an_unknown_meeting_is_404(client, world):
    assert client.get(reverse("board:meeting_notice", args=[999999])).status_code == 404


def test_meeting_page_links_the_notice_it_answered(client, world, noticed):
    hold_meeting(world, noticed)
    meeting = Meeting.objects.get(body=ASSEMBLY)
    client.force_login(world.inspector)
    page = client.get(meeting.get_absolute_url()).content.decode()
    assert meeting.notice.get_absolute_url() in page


def test_a_two_committee_meeting_still_needs_no_notice(client, world, matter_at):
    matter = matter_at(Step.DELIBERATE)
    meeting = hold_meeting(world, matter)
    assert meeting.notice is None
