"""The demo journey of issue 2, in a real browser: an asset purchase from pre-application to archive."""

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from flows.models import Matter, MatterStatus
from registers.models import Asset
from tests.drive import post_meeting_notice

from .session import leave_signed_out

pytestmark = pytest.mark.django_db(transaction=True)


def record_step(page, opinion, decision=None):
    if decision:
        page.select_option("#id_decision", decision)
    page.fill("#id_opinion", opinion)
    page.click("#perform")
    expect(page.locator(".messages")).to_be_visible()


def open_matter(page, base_url, matter):
    page.goto(f"{base_url}/matters/{matter.pk}/")


def hold_meeting(actor, base_url, matter, body):
    # A body that needs a notice (a members' assembly: 10 days) has one on the board, its days passed.
    post_meeting_notice(get_user_model().objects.get(username="sup_dh01"), matter, body)
    page = actor.login("sup_dh01")
    page.goto(f"{base_url}/meetings/new/?body={body}")
    # The local date (Asia/Shanghai): from 16:00 UTC on, the UTC date of the application is the day before it.
    page.fill("#id_held_on", timezone.localtime(matter.created_at).date().isoformat())
    page.fill("#id_place", "村委会会议室")
    page.fill("#id_chair", "监委会主任")
    page.fill("#id_minutes", "会议讨论并表决购置事项")
    boxes = page.locator("input[name=attendees]")
    for index in range(boxes.count()):
        boxes.nth(index).check()
    page.check(f"#id_m{matter.pk}-on_agenda")
    page.fill(f"#id_m{matter.pk}-votes_for", str(boxes.count()))
    page.fill(f"#id_m{matter.pk}-votes_against", "0")
    page.fill(f"#id_m{matter.pk}-votes_abstain", "0")
    page.click("#meeting-form button[type=submit]")
    expect(page.get_by_text(matter.title).first).to_be_visible()


def test_asset_purchase_from_pre_application_to_archive(demo, actor, live_server, let_publications_end):
    base = live_server.url

    # The secretary applies for a large purchase with three quotations.
    page = actor.login("sec_dh01")
    page.click("main >> text=新建申请")  # the inbox's button (the bar's link sits in a closed menu)
    page.click("text=资产购置")
    page.fill("#id_title", "购置村级农机具")
    page.fill("#id_funding_source", "集体经营收入")
    page.fill("#id_reason", "春耕生产需要")
    page.fill("#id_chosen_supplier", "东湖农机公司")
    page.fill("#id_total", "120000.00")
    page.fill("#id_items-0-name", "旋耕机")
    page.fill("#id_items-0-category", "机器设备")
    page.fill("#id_items-0-quantity", "2")
    page.fill("#id_items-0-unit_price", "60000.00")
    for index, (supplier, amount) in enumerate(
        [("东湖农机公司", "120000"), ("西山机械厂", "126000"), ("县农资公司", "131000")]
    ):
        page.fill(f"#id_quotations-{index}-supplier", supplier)
        page.fill(f"#id_quotations-{index}-amount", amount)
    page.set_input_files("#id_files", files=[{"name": "报价单.png", "mimeType": "image/png", "buffer": PNG}])
    page.click("#application-form button[type=submit]")
    expect(page.locator("#matter-status")).to_be_visible()
    matter = Matter.objects.get(title="购置村级农机具")
    assert re.search(r"/matters/\d+/$", page.url)
    expect(page.locator("#path li.current")).to_have_text("党组织提议")

    # The secretary proposes it for the party branch.
    record_step(page, "支部提议上会")

    # The supervisor records the two-committee meeting, the party members' meeting and the members' assembly.
    hold_meeting(actor, base, matter, "two_committees")
    hold_meeting(actor, base, matter, "party_members")
    hold_meeting(actor, base, matter, "member_assembly")

    # The resolution is on the public board, readable without login.
    leave_signed_out(page)
    page.goto(f"{base}/board/")
    page.click("text=东湖村")
    expect(page.get_by_text("购置村级农机具").first).to_be_visible()
    assert let_publications_end() == 1

    # The township officer checks, the leader approves.
    page = actor.login("officer_dh")
    expect(page.locator("#inbox")).to_contain_text("购置村级农机具")
    open_matter(page, base, matter)
    record_step(page, "材料齐全，符合规定")
    page = actor.login("leader_dh")
    open_matter(page, base, matter)
    page.click("text=认领")
    record_step(page, "同意购置")

    # The cashier implements: the bought items become asset cards.
    page = actor.login("cashier_dh01")
    open_matter(page, base, matter)
    record_step(page, "合同已签订，货款已支付")
    assert let_publications_end() == 1

    matter.refresh_from_db()
    assert matter.status == MatterStatus.ARCHIVED
    page.goto(f"{base}/registers/assets/")
    expect(page.locator("#assets")).to_contain_text("旋耕机")
    open_matter(page, base, matter)
    expect(page.locator("#archive-number")).to_have_text(matter.archive_number)
    expect(page.locator("#path li.current")).to_have_count(0)
    assert Asset.objects.filter(source_matter=matter).count() == 1


def _png() -> bytes:
    """A small real PNG: the evidence upload checks content, not names."""
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(buffer, format="PNG")
    return buffer.getvalue()


PNG = _png()
