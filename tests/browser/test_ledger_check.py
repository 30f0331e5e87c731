"""The county administrator opens the ledger page before any check ran, asks for one, and reads its result;
the inspector reads it too but has no button."""

import pytest
from playwright.sync_api import expect

from documents.models import LedgerCheck

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_county_administrator_asks_for_a_check_and_the_inspector_reads_it(demo, actor, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    page = actor.login_to("county_admin", "/documents/ledger/")
    expect(page.locator("#ledger-result")).to_have_attribute("data-ok", "none")
    expect(page.locator("#ledger-check-none")).to_contain_text("尚未校验过")
    # Celery runs the job at once in the tests (CELERY_TASK_ALWAYS_EAGER): the redirect shows its result.
    page.get_by_role("button", name="立即校验整个账本").click()
    page.wait_for_url("**/documents/ledger/")
    expect(page.locator(".messages")).to_contain_text("已请求校验整个账本")
    expect(page.locator("#ledger-result")).to_have_attribute("data-ok", "yes")
    expect(page.locator("#ledger-result")).to_have_attribute("data-stale", "no")
    expect(page.locator("#ledger-check-when")).to_contain_text("应要求")
    expect(page.locator("#ledger-check-when")).to_contain_text("未重读存储文件")
    check = LedgerCheck.objects.get()
    assert check.requested_by.username == "county_admin"

    page = actor.login_to("inspector", "/documents/ledger/")
    expect(page.locator("#ledger-result")).to_have_attribute("data-ok", "yes")
    expect(page.locator("#ledger-check-request")).to_have_count(0)
