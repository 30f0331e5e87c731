"""The township leader approving, in a real browser, a purchase from the county's evidence amount whose
application carries no file: the page asks for a confirmation and refuses without it; once confirmed the
approval is recorded and the warning it raises links back to the matter. And amounts are typed as people
write them: "1e5" is refused on the application page with a message in Chinese."""

import random

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from demo.seed import _drive, bands_reaching, cast_for, collective_code, purchase_data
from flows.models import Matter, Step, StepRecord
from flows.services import matter_apply
from organizations.models import Organization, TransactionType
from organizations.rules import rule_version_in_force
from registers.models import EarlyWarning, WarningRule
from registers.warnings import warnings_scan

pytestmark = pytest.mark.django_db(transaction=True)


def unfiled_purchase_waiting_for_the_leader() -> Matter:
    collective = Organization.objects.get(code=collective_code("DH01"))
    version = rule_version_in_force(county=collective.county, on_date=timezone.localdate())
    band = bands_reaching(version, Step.APPROVE_BY_TOWNSHIP)[0]
    rng = random.Random("browser-no-file")
    data = purchase_data(rng, band, quotation_threshold=version.quotation_threshold)
    while data["total"] < version.evidence_threshold:
        data = purchase_data(rng, band, quotation_threshold=version.quotation_threshold)
    cast = cast_for(collective)
    matter = matter_apply(
        user=cast.secretary,
        organization=collective,
        transaction_type=TransactionType.ASSET_PURCHASE,
        data={**data, "title": "购置村部空调（无报价单）"},
    )
    _drive(matter, cast, Step.APPROVE_BY_TOWNSHIP, rng)
    return matter


def test_the_leader_confirms_approving_without_an_application_file(actor, demo):
    matter = unfiled_purchase_waiting_for_the_leader()
    page = actor.login("leader_dh")
    page.goto(f"{actor.base_url}/matters/{matter.pk}/")
    confirmation = page.locator("#id_confirm_without_evidence")
    expect(confirmation).to_be_visible()
    page.select_option("#id_decision", "agree")
    page.fill("#id_opinion", "同意。")
    page.click("#perform")
    expect(page.locator("#step-action .errorlist")).to_contain_text("勾选确认")
    assert not StepRecord.objects.filter(matter=matter, step=Step.APPROVE_BY_TOWNSHIP).exists()

    page.select_option("#id_decision", "agree")
    page.fill("#id_opinion", "已电话核实报价，同意。")
    page.check("#id_confirm_without_evidence")
    page.click("#perform")
    expect(page.locator("#id_confirm_without_evidence")).to_have_count(0)
    record = StepRecord.objects.get(matter=matter, step=Step.APPROVE_BY_TOWNSHIP)
    assert record.no_evidence_confirmed

    warnings_scan()
    warning = EarlyWarning.objects.get(rule=WarningRule.APPROVED_WITHOUT_EVIDENCE, matter=matter)
    page.goto(f"{actor.base_url}/registers/warnings/{warning.pk}/")
    expect(page.locator("#warning-rule-explanation")).to_contain_text("申请未附任何证明材料")
    page.locator("#warning-causes a").first.click()
    page.wait_for_url(f"**/matters/{matter.pk}/")


def test_the_application_page_refuses_an_exponent_in_an_amount(actor, demo):
    page = actor.login("sec_dh01")
    page.click("main >> text=新建申请")
    page.click("text=资产购置")
    page.fill("#id_title", "购置村级农机具")
    page.fill("#id_funding_source", "集体经营收入")
    page.fill("#id_reason", "春耕生产需要")
    page.fill("#id_chosen_supplier", "东湖农机公司")
    page.fill("#id_total", "1e5")
    page.fill("#id_items-0-name", "旋耕机")
    page.fill("#id_items-0-category", "机器设备")
    page.fill("#id_items-0-quantity", "1")
    page.fill("#id_items-0-unit_price", "100,000.00")
    page.click("#application-form button[type=submit]")
    expect(page.locator("#application-form")).to_contain_text("不能含字母、指数（如 1e5）")
    assert not Matter.objects.filter(title="购置村级农机具").exists()
