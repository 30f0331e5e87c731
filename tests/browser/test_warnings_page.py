"""Early warnings in a real browser: the township leader opens the warnings, filters the red ones, opens one,
records how it was handled, and it leaves the open list."""

import pytest
from playwright.sync_api import expect

from demo.warnings import demo_warning_cases
from registers.models import EarlyWarning, WarningLevel
from registers.warnings import warnings_scan

pytestmark = pytest.mark.django_db(transaction=True)

HANDLING = "经核实，该笔支出未履行审批程序，已责令村委会补办手续并追回款项。"


def test_township_leader_handles_a_red_warning(actor, demo):
    demo_warning_cases()
    warnings_scan()
    page = actor.login("leader_dh")

    page.click(".nav-group[data-group=oversight] .nav-heading")
    page.click("#nav-warnings")
    expect(page.locator("#warnings")).to_be_visible()
    page.select_option("#warning-filter select[name=level]", WarningLevel.RED)
    page.click("#warning-filter-submit")
    rows = page.locator("#warnings tbody tr[data-warning]")
    expect(rows.first).to_be_visible()
    assert set(rows.evaluate_all("rows => rows.map(row => row.dataset.level)")) == {WarningLevel.RED}
    # Only the township's own villages: nothing from 西山乡.
    shown = {int(pk) for pk in rows.evaluate_all("rows => rows.map(row => row.dataset.warning)")}
    assert {warning.organization.parent.code for warning in EarlyWarning.objects.filter(pk__in=shown)} <= {
        "DH01",
        "DH02",
    }

    first = rows.first
    warning_id = int(first.get_attribute("data-warning"))
    first.locator("a").first.click()
    expect(page.locator("#warning")).to_have_attribute("data-state", "open")
    page.fill("#id_handling", HANDLING)
    page.click("#handle-submit")

    expect(page.locator("#warnings")).to_be_visible()
    assert "level=red" in page.url
    expect(page.locator(f'#warnings tr[data-warning="{warning_id}"]')).to_have_count(0)
    warning = EarlyWarning.objects.get(pk=warning_id)
    assert warning.handling == HANDLING and warning.handled_by.username == "leader_dh"

    page.goto(f"{actor.base_url}/registers/warnings/?state=handled")
    expect(page.locator(f'#warnings tr[data-warning="{warning_id}"]')).to_have_attribute("data-state", "handled")
