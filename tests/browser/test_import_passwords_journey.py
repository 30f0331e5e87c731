"""On a phone, the security administrator gives an import's accounts their one-time passwords; one of them logs in."""

import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from imports import services
from imports.models import ImportStatus
from tests.conftest import build_world
from tests.imports.conftest import headers, upload, workbook_bytes

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 375, "height": 740}
NEW_PASSWORD = "Dongfang-2026"


def import_accounts(world):
    """The system administrator's confirmed import of two village cadres (no password yet)."""
    rows = [
        headers("users"),
        ["sec_a9", "王", "建国", world.village_a1.code, "村党组织书记"],
        ["cashier_a9", "李", "秀梅", world.village_a1.code, "村报账员"],
    ]
    user = world.system_admin
    job = services.import_upload(
        user=user, scope=world.county, kind="users", uploaded=upload("村干部.xlsx", workbook_bytes({"用户": rows}))
    )
    job = services.import_check(job=job)
    services.import_confirm(job=job, user=user)
    job = services.import_apply(job=job, user=user)
    assert job.status == ImportStatus.APPLIED, job.errors
    return job


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_the_security_administrator_issues_an_imports_passwords(actor, live_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    world = build_world()
    job = import_accounts(world)
    base = live_server.url
    page = actor.page
    page.set_viewport_size(PHONE)

    actor.login("secadmin", "pw")
    page.goto(f"{base}/imports/initial-passwords/")
    assert fits_the_screen(page)
    page.click(f"#password-jobs a[href$='/initial-passwords/{job.pk}/']")
    page.wait_for_url(re.compile(rf"/imports/initial-passwords/{job.pk}/$"))
    assert page.locator("#count-waiting").inner_text() == "2"
    assert "当面" in page.locator("#issue-form").inner_text()
    assert fits_the_screen(page)

    with page.expect_download() as downloaded:
        page.click("#issue")
    sheet = load_workbook(io.BytesIO(Path(downloaded.value.path()).read_bytes())).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert "当面" in rows[1][0] and "销毁" in rows[1][0]
    header = rows.index(["用户名", "姓名", "单位", "一次性密码"])
    issued = {row[0]: row for row in rows[header + 1 :]}
    assert sorted(issued) == ["cashier_a9", "sec_a9"]
    assert issued["sec_a9"][1:3] == ["王建国", world.village_a1.name]

    # A second time the page says they were issued, and gives no sheet.
    page.goto(f"{base}/imports/initial-passwords/{job.pk}/")
    assert page.locator("#count-waiting").inner_text() == "0"
    assert page.locator("#issue-form").count() == 0 and page.locator("#again-form").is_visible()

    # The village secretary logs in with the sheet's password and must choose their own first.
    actor.login("sec_a9", issued["sec_a9"][3])
    page.wait_for_url(re.compile(r"/administration/account/password/"))
    assert fits_the_screen(page)
    page.fill("#id_old_password", issued["sec_a9"][3])
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    page.click("form.card button[type=submit]")
    page.wait_for_url(lambda url: "/administration/account/password/" not in url)
    assert page.goto(f"{base}/").status == 200
    assert "/administration/account/password/" not in page.url
