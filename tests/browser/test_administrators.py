"""A new user of the demo logs in as each of the three administrators and finds only their own work."""

import re

import pytest

from demo.seed import DEFAULT_PASSWORD

from .session import leave_signed_out

pytestmark = pytest.mark.django_db(transaction=True)


def login(page, base_url, username):
    leave_signed_out(page)
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.click("button[type=submit]")


def test_each_administrator_does_only_their_own_work(page, live_server, demo):
    page.set_default_timeout(15000)
    base = live_server.url

    login(page, base, "sysadmin")
    page.wait_for_url(re.compile(r"/administration/accounts/$"))
    assert page.locator(".nav-group[data-group=admin]").is_visible()
    page.fill("#id_username", "new_cashier")
    page.fill("#id_last_name", "钱")
    page.fill("#id_first_name", "多多")
    page.click("form.card button[type=submit]")
    password = page.locator("#initial-password").inner_text()
    assert len(password) >= 10
    assert page.goto(f"{base}/administration/security/policy/").status == 403
    assert page.goto(f"{base}/administration/audit/log/").status == 403

    login(page, base, "secadmin")
    page.wait_for_url(re.compile(r"/administration/security/policy/$"))
    page.fill("#id_failure_limit", "4")
    page.click("form.card button[type=submit]")
    assert page.locator("#id_failure_limit").input_value() == "4"
    assert page.goto(f"{base}/administration/accounts/").status == 403

    login(page, base, "auditadmin")
    page.wait_for_url(re.compile(r"/administration/audit/log/$"))
    rows = page.locator("table tbody tr")
    text = " ".join(rows.all_inner_texts())
    assert "new_cashier" in text or "sysadmin" in text  # the account creation and the logins are in the log
    page.goto(f"{base}/administration/audit/log/verify/")
    assert page.locator("#log-check.ok").is_visible()
    assert page.goto(f"{base}/administration/security/lockouts/").status == 403
    assert page.goto(f"{base}/registers/members/").status == 200
    assert "股份经济合作社" not in page.locator("main").inner_text()  # no business data: no member of any collective

    # The new cashier changes the one-time password at the first login.
    leave_signed_out(page)
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "new_cashier")
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/administration/account/password/"))
