"""Issue 13 in a real browser: the inspector's home is the county's statistics, drawn by ECharts with each
table beneath, down to a township, and exported to Excel."""

import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import expect

from demo.seed import demo_collectives, matters_seed
from flows.models import Matter
from organizations.models import Organization
from oversight.figures import figures_rebuild

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_inspector_reads_the_county_statistics(demo, actor, live_server):
    matters_seed(count=11, collectives=demo_collectives())
    figures_rebuild()
    county = Organization.objects.get(code="DEMO")

    page = actor.login_to("inspector", f"/statistics/{county.pk}/")
    expect(page.locator("h1")).to_contain_text(f"示范县 {timezone.localdate().year}年统计分析")
    # Each chart is drawn from our own copy of ECharts, its table beneath.
    for key in ("months", "types", "places", "steps"):
        chart = page.locator(f'[data-chart="{key}"]')
        expect(chart).to_have_attribute("data-drawn", "yes")
        expect(chart.locator("svg")).to_have_count(1)
        expect(page.locator(f"#table-{key} table")).to_be_visible()
    applied = page.locator("#totals .stat").first.locator(".figure")
    expect(applied).to_have_text(str(Matter.objects.count()))
    places = page.locator("#table-places tbody tr")
    expect(places).to_have_count(2)
    expect(places.first).to_contain_text("东湖镇")

    with page.expect_download() as download:
        page.click("#table-types [data-export=types]")
    workbook = load_workbook(io.BytesIO(open(download.value.path(), "rb").read()))
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows[1][0] == "类型" and rows[2][0] == "资产购置"
    assert rows[2][1] == Matter.objects.filter(transaction_type="asset_purchase").count()

    page.click(".drill a:has-text('东湖镇')")
    expect(page.locator("h1")).to_contain_text("东湖镇")
    expect(page.locator(".crumbs a")).to_contain_text("示范县")
    expect(page.locator("#table-places th").first).to_have_text("村")
