"""The county administrator loads a new township from Excel: template, a broken copy's report, the good copy."""

import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from organizations.models import Organization

pytestmark = pytest.mark.django_db(transaction=True)

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"


def upload(page, base, name):
    page.goto(f"{base}/imports/")
    page.select_option("#id_kind", "county")
    page.set_input_files("#id_file", str(SAMPLES / name))
    page.click("#upload button[type=submit]")
    page.wait_for_url(re.compile(r"/imports/jobs/\d+/$"))
    # The dry run runs in the worker; the page follows its progress and redraws when it is done.
    page.wait_for_selector("#problems, #confirm")


def test_the_county_administrator_imports_a_new_township(actor, live_server, demo, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    base = live_server.url
    page = actor.login("county_admin")
    assert page.locator("#nav-imports").count() == 1
    page.goto(f"{base}/imports/")

    with page.expect_download() as downloaded:
        page.click("#templates a[data-kind=county]")
    template = load_workbook(io.BytesIO(Path(downloaded.value.path()).read_bytes()))
    assert template.sheetnames[0] == "填写说明" and "成员" in template.sheetnames
    assert [cell.value for cell in template["成员"][1]][:3] == ["集体经济组织编码", "姓名", "身份证号"]

    upload(page, base, "import-new-township-broken.xlsx")
    problems = page.locator("#errors tbody tr")
    assert problems.count() >= 6
    text = page.locator("#errors").inner_text()
    assert "身份证号" in text and "校验位" in text and "NT02-ZY-009" in text
    assert page.locator("#confirm").count() == 0
    with page.expect_download() as report:
        page.click("#report")
    rows = list(load_workbook(io.BytesIO(Path(report.value.path()).read_bytes()))["成员"].iter_rows(values_only=True))
    assert rows[0][-1] == "错误说明" and "校验位" in rows[2][-1]
    assert not Organization.objects.filter(code="NT00").exists()

    upload(page, base, "import-new-township.xlsx")
    assert page.locator("#problems").count() == 0
    preview = page.locator("#counts").inner_text()
    assert "成员" in preview and "资产" in preview
    page.click("#confirm button[type=submit]")
    page.wait_for_selector("#job-status:has-text('已导入')")

    page.goto(f"{base}/registers/members/?q=赵长河")
    assert "青山村股份经济合作社" in page.locator("main").inner_text()
    page.goto(f"{base}/registers/assets/")
    assets = page.locator("#assets").inner_text()
    assert "NT01-ZC-001" in assets and "绿水村文化活动室" in assets
