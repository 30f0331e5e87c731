"""Issue 10 in a real browser: a members' assembly announced on the public board ten days ahead, its outcome
refused too early and accepted once the days have passed; the attendance roster (households, search, the
sign-in sheet import) and a proxy with its scan."""

import datetime
import io
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from PIL import Image
from playwright.sync_api import expect

from demo.seed import cast_for
from flows.models import AttendanceWay, Matter, Meeting, MeetingAttendance, MeetingNotice, Step
from flows.services import matter_apply, meeting_roster
from organizations.models import MeetingBody, Organization, TransactionType
from tests.drive import let_notice_days_pass, post_meeting_notice

from .session import leave_signed_out
from .test_inspector_dossier import BODY_OF_STEP, hold_meeting, perform

pytestmark = pytest.mark.django_db(transaction=True)

ASSEMBLY = MeetingBody.MEMBER_ASSEMBLY
TITLE = "购置村集体冷库设备"
PHONE = {"width": 390, "height": 844}


def matter_at_assembly() -> Matter:
    """A large purchase of the demo village DH01, carried by its demo users to the members' assembly."""
    collective = Organization.objects.get(code="DH01-JJ")
    cast = cast_for(collective)
    matter = matter_apply(
        user=cast.secretary,
        organization=collective,
        transaction_type=TransactionType.ASSET_PURCHASE,
        data={
            "title": TITLE,
            "reason": "农产品储存需要",
            "funding_source": "集体经营收入",
            "chosen_supplier": "东湖制冷设备公司",
            "total": Decimal("150000.00"),
            "items": [{"name": "冷库机组", "category": "机器设备", "quantity": 1, "unit_price": Decimal("150000.00")}],
            "quotations": [
                {"supplier": "东湖制冷设备公司", "amount": Decimal("150000.00")},
                {"supplier": "西山机电公司", "amount": Decimal("156000.00")},
                {"supplier": "县农资公司", "amount": Decimal("161000.00")},
            ],
        },
    )
    for _ in range(10):
        matter.refresh_from_db()
        if matter.next_step == Step.RESOLVE_BY_MEMBERS:
            assert matter.member_body == ASSEMBLY
            return matter
        if matter.next_step == Step.PROPOSE:
            perform(matter, cast.secretary, "agree", "同意提交商议。")
        elif matter.next_step in BODY_OF_STEP:
            hold_meeting(matter, cast)
    raise AssertionError(matter.next_step)


def fill_meeting(page, matter, *, everyone=True):
    page.fill("#id_held_on", timezone.localdate().isoformat())
    page.fill("#id_place", "村委会大礼堂")
    page.fill("#id_chair", "监委会主任")
    page.fill("#id_minutes", "成员大会审议冷库设备购置事项，举手表决。")
    if everyone:
        page.click("button[data-roster=all]")
    page.check(f"#id_m{matter.pk}-on_agenda")
    ticked = page.locator("input[name=attendees]:checked").count()
    page.fill(f"#id_m{matter.pk}-votes_for", str(ticked))
    page.fill(f"#id_m{matter.pk}-votes_against", "0")
    page.fill(f"#id_m{matter.pk}-votes_abstain", "0")


def test_members_assembly_notice_on_the_board_then_outcome_refused_too_early_and_accepted_later(
    demo, actor, live_server
):
    base = live_server.url
    matter = matter_at_assembly()
    today = timezone.localdate()
    meets = today + datetime.timedelta(days=10)

    # The supervisor posts the notice: time, place and agenda, ten days ahead. Nine days is refused.
    page = actor.login("sup_dh01")
    page.goto(f"{base}/meetings/notices/new/?body={ASSEMBLY}")
    page.fill("#id_meets_at", f"{(meets - datetime.timedelta(days=1)).isoformat()}T09:30")
    page.fill("#id_place", "村委会大礼堂")
    page.fill("#id_agenda", "一、审议购置村集体冷库设备\n二、其他事项")
    page.check(f"input[name=matters][value='{matter.pk}']")
    page.click("#meeting-notice-form button[type=submit]")
    expect(page.locator("#meeting-notice-form")).to_contain_text("应至少提前10日通知")
    expect(page.locator("#meeting-notice-form")).to_contain_text(meets.isoformat())
    assert not MeetingNotice.objects.exists()
    page.fill("#id_meets_at", f"{meets.isoformat()}T09:30")
    page.check(f"input[name=matters][value='{matter.pk}']")
    page.click("#meeting-notice-form button[type=submit]")
    expect(page.locator("#meeting-notice")).to_contain_text("村委会大礼堂")
    notice = MeetingNotice.objects.get()

    # Anyone reads it on the village's public board, on a phone, without logging in.
    leave_signed_out(page)
    page.set_viewport_size(PHONE)
    village = Organization.objects.get(code="DH01")
    page.goto(f"{base}/board/villages/{village.pk}/")
    expect(page.locator("#meeting-notices")).to_contain_text("成员大会")
    expect(page.locator("#meeting-notices")).to_contain_text(f"{meets.isoformat()} 09:30")
    page.click("#meeting-notices a")
    expect(page.locator("h1")).to_have_text("成员大会会议通知")
    expect(page.locator("#meeting-notice")).to_contain_text("一、审议购置村集体冷库设备")
    expect(page.locator("#meeting-notice")).to_contain_text(TITLE)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.set_viewport_size({"width": 1280, "height": 900})

    # Recording the outcome today is refused: the notice went up today, not ten days before.
    page = actor.login("sup_dh01")
    page.goto(f"{base}/meetings/new/?body={ASSEMBLY}")
    fill_meeting(page, matter)
    page.click("#record-meeting")
    refusal = page.locator("#meeting-form")
    expect(refusal).to_contain_text(f"会议通知发布于{today.isoformat()}")
    expect(refusal).to_contain_text(f"最早可于{meets.isoformat()}召开")
    assert not Meeting.objects.filter(body=ASSEMBLY).exists()

    # Ten days later (the notice's dates move back, not the clock) the assembly is recorded.
    let_notice_days_pass(notice, 10)
    page.goto(f"{base}/meetings/new/?body={ASSEMBLY}")
    fill_meeting(page, matter)
    page.click("#record-meeting")
    expect(page.locator(".messages")).to_contain_text("会议已录入")
    meeting = Meeting.objects.get(body=ASSEMBLY)
    assert meeting.notice == notice
    assert Matter.objects.get(pk=matter.pk).next_step == Step.PUBLISH_RESOLUTION
    expect(page.locator("main")).to_contain_text("会议通知")


def png_scan() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (400, 300), (250, 250, 250)).save(out, "PNG")
    return out.getvalue()


def test_roster_by_household_search_and_sign_in_sheet_import_with_a_proxy(demo, actor, live_server, tmp_path):
    base = live_server.url
    matter = matter_at_assembly()
    user = cast_for(matter.organization).supervisor
    post_meeting_notice(user, matter, ASSEMBLY)  # its ten days already passed
    roster = meeting_roster(organization=matter.organization, body=ASSEMBLY, on_date=timezone.localdate())
    households: dict[str, list] = {}
    for member in roster:
        households.setdefault(member.household, []).append(member)
    household, people = next((name, people) for name, people in households.items() if len(people) >= 2)

    page = actor.login("sup_dh01")
    page.goto(f"{base}/meetings/new/?body={ASSEMBLY}")
    count = page.locator("#roster-count")
    expect(count).to_have_text(f"已勾选：0 / {len(roster)}")

    # All / none of one household.
    group = page.locator(f"fieldset.household[data-household='{household}']")
    group.locator("button[data-household-select=all]").click()
    expect(count).to_have_text(f"已勾选：{len(people)} / {len(roster)}")
    for member in people:
        expect(page.locator(f"#attendee-{member.pk}")).to_be_checked()
    group.locator("button[data-household-select=none]").click()
    expect(count).to_have_text(f"已勾选：0 / {len(roster)}")

    # Search by name: only the matching member stays in view.
    target = people[1]
    page.fill("#roster-search", target.name)
    expect(page.locator(".roster-member:visible")).to_have_count(sum(1 for m in roster if target.name in m.name))
    expect(page.locator(f".roster-member[data-name='{target.name}']")).to_be_visible()
    page.fill("#roster-search", "没有这个人")
    expect(page.locator("#roster-empty")).to_be_visible()
    page.fill("#roster-search", "")
    expect(page.locator(".roster-member:visible")).to_have_count(len(roster))

    # A proxy shows its holder and scan only once chosen.
    proxy_fields = page.locator(f".proxy-fields[data-proxy-for='{target.pk}']")
    page.check(f"#attendee-{target.pk}")
    expect(proxy_fields).to_be_hidden()
    page.select_option(f"select[name=way_{target.pk}]", AttendanceWay.PROXY)
    expect(proxy_fields).to_be_visible()
    page.click("button[data-roster=none]")

    # The sign-in sheet: download the template of this roster, fill it in as the signed paper says.
    with page.expect_download() as download:
        page.click("#sheet-template")
    path = tmp_path / "签到表.xlsx"
    download.value.save_as(path)
    workbook = load_workbook(path)
    sheet = workbook.active
    holder = people[0]
    bad = tmp_path / "签到表-有误.xlsx"
    for row in range(2, sheet.max_row + 1):
        name = sheet[f"B{row}"].value
        sheet[f"C{row}"] = "委托" if name == target.name else "本人"
        if name == target.name:
            sheet[f"D{row}"] = holder.name
    sheet["C2"] = "请假"  # one wrong row first
    workbook.save(bad)
    sheet["C2"] = "本人" if sheet["B2"].value != target.name else "委托"
    workbook.save(path)

    # A wrong row: nothing is imported, and the report names the row and the column.
    page.set_input_files("#id_sign_in_sheet", str(bad))
    page.click("#sheet-import-button")
    problems = page.locator("#sheet-problems")
    expect(problems).to_contain_text("未导入任何内容")
    expect(problems.locator("tbody tr").first).to_contain_text("2")
    expect(problems).to_contain_text("“请假”不是参会方式")
    expect(page.locator("#roster-count")).to_have_text(f"已勾选：0 / {len(roster)}")

    # The corrected sheet ticks everyone, the proxy with its holder.
    page.set_input_files("#id_sign_in_sheet", str(path))
    page.click("#sheet-import-button")
    expect(page.locator(".messages")).to_contain_text(f"本人到会{len(roster) - 1}人，线上0人，委托1人")
    expect(page.locator("#roster-count")).to_have_text(f"已勾选：{len(roster)} / {len(roster)}")
    expect(page.locator(f"select[name=holder_{target.pk}]")).to_have_value(str(holder.pk))
    expect(proxy_fields).to_be_visible()

    # Record: without the proxy's scan it is refused; with it the assembly is recorded, the proxy counted.
    fill_meeting(page, matter, everyone=False)
    page.click("#record-meeting")
    expect(page.locator("#meeting-form")).to_contain_text("请上传书面委托书的扫描件")
    assert not Meeting.objects.filter(body=ASSEMBLY).exists()
    page.set_input_files(
        f"input[name=scan_{target.pk}]", files=[{"name": "委托书.png", "mimeType": "image/png", "buffer": png_scan()}]
    )
    page.click("#record-meeting")
    expect(page.locator(".messages")).to_contain_text("会议已录入")
    meeting = Meeting.objects.get(body=ASSEMBLY)
    assert meeting.attended_count == len(roster)
    proxy = MeetingAttendance.objects.get(meeting=meeting, way=AttendanceWay.PROXY)
    assert (proxy.member, proxy.proxy_holder) == (target, holder)
    expect(page.locator("#attendance")).to_contain_text("委托书.png")
