"""The county administrator changes a threshold through the console, and a new matter takes the new band."""

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from flows.models import Matter, Step
from organizations.models import RuleVersion

pytestmark = pytest.mark.django_db(transaction=True)


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(buffer, format="PNG")
    return buffer.getvalue()


def test_the_county_administrator_raises_a_threshold_and_a_new_matter_takes_the_new_band(demo, actor, live_server):
    page = actor.login("county_admin")
    page.click(".nav-group[data-group=oversight] .nav-heading")
    page.click("#nav-rules")
    page.wait_for_url(re.compile(r"/rules/\d+/$"))
    expect(page.locator("#in-force")).to_contain_text("第1版")
    expect(page.locator("main")).to_contain_text("2万元以下")

    page.click("#new-version")
    # A gap first: the check says where, and nothing is saved.
    page.fill("#id_band-asset_purchase-0-max_amount", "30000")
    page.fill("#id_version-note", "小额购置标准提高到3万元")
    page.click("#check")
    expect(page.locator("#problems")).to_contain_text("档次重叠")
    assert RuleVersion.objects.filter(county__code="DEMO").count() == 1
    page.fill("#id_band-asset_purchase-1-min_amount", "30000")
    page.click("#check")
    expect(page.locator("#diff")).to_contain_text("3万元以下")
    expect(page.locator("#diff")).to_contain_text("2万元以下")
    page.click("#save")
    expect(page.locator(".messages")).to_contain_text("第2版")
    expect(page.locator("#diff")).to_contain_text("3万元至10万元")

    # The secretary applies for a purchase of 25,000 yuan: the new band, without the township leader.
    page = actor.login("sec_dh01")
    page.click("main >> text=新建申请")
    page.click("text=资产购置")
    page.fill("#id_title", "购置灌溉设备")
    page.fill("#id_funding_source", "集体经营收入")
    page.fill("#id_reason", "春灌需要")
    page.fill("#id_chosen_supplier", "东湖农机公司")
    page.fill("#id_total", "25000.00")
    page.fill("#id_items-0-name", "水泵")
    page.fill("#id_items-0-category", "机器设备")
    page.fill("#id_items-0-quantity", "1")
    page.fill("#id_items-0-unit_price", "25000.00")
    for index, (supplier, amount) in enumerate(
        [("东湖农机公司", "25000"), ("西山机械厂", "26000"), ("县农资公司", "27000")]
    ):
        page.fill(f"#id_quotations-{index}-supplier", supplier)
        page.fill(f"#id_quotations-{index}-amount", amount)
    page.set_input_files("#id_files", files=[{"name": "报价单.png", "mimeType": "image/png", "buffer": _png()}])
    page.click("#application-form button[type=submit]")
    expect(page.locator("#matter-status")).to_be_visible()
    expect(page.locator("main")).to_contain_text("规则第2版，3万元以下档")
    matter = Matter.objects.get(title="购置灌溉设备")
    assert matter.rule_version.number == 2 and Step.APPROVE_BY_TOWNSHIP not in matter.required_steps
