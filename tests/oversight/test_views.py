"""The statistics pages: who reads which place, the home page of the county and the inspector, Excel exports."""

import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from oversight.figures import figures_rebuild
from tests.drive import apply_purchase, run_to_end
from tests.responses import body_of

pytestmark = pytest.mark.django_db


def place_url(organization, **query) -> str:
    return reverse("oversight:place", args=[organization.pk]) + (
        "?" + "&".join(f"{key}={value}" for key, value in query.items()) if query else ""
    )


@pytest.fixture
def figures(world):
    run_to_end(world, apply_purchase(world, title="办公电脑"))
    figures_rebuild()


@pytest.mark.parametrize("persona", ["inspector", "county_admin"])
def test_the_home_of_the_county_and_the_inspector_is_the_overview(client, world, persona):
    client.force_login(getattr(world, persona))
    response = client.get(reverse("flows:inbox"))
    assert response.status_code == 302 and response.url == reverse("oversight:home")
    home = client.get(reverse("oversight:home"))
    assert home.status_code == 302 and home.url == reverse("oversight:place", args=[world.county.pk])


def test_a_township_leader_reads_the_township_and_its_villages(client, world, figures):
    client.force_login(world.leader_a)
    assert client.get(reverse("oversight:home")).url == reverse("oversight:place", args=[world.township_a.pk])
    assert client.get(place_url(world.township_a)).status_code == 200
    assert client.get(place_url(world.village_a1)).status_code == 200
    assert client.get(place_url(world.county)).status_code == 404
    assert client.get(place_url(world.township_b)).status_code == 404


@pytest.mark.parametrize("persona", ["secretary_a1", "officer_a", "supervisor_a1"])
def test_posts_that_do_not_oversee_read_no_statistics(client, world, persona):
    client.force_login(getattr(world, persona))
    assert client.get(reverse("oversight:home")).status_code == 403
    assert client.get(place_url(world.village_a1)).status_code == 403


def test_an_inspector_of_one_township_reads_only_it(client, world):
    client.force_login(world.inspector_b)
    assert client.get(place_url(world.township_b)).status_code == 200
    assert client.get(place_url(world.township_a)).status_code == 404


def test_statistics_need_a_login(client, world):
    response = client.get(place_url(world.county))
    assert response.status_code == 302 and reverse("login") in response.url


def test_the_page_shows_each_chart_with_its_table_and_export(client, world, figures):
    client.force_login(world.inspector)
    content = client.get(place_url(world.county)).content.decode()
    for key in ("months", "types", "places", "steps", "objections"):
        section = content.split(f'id="table-{key}"')[1].split("</section>")[0]
        assert f'data-chart="{key}"' in section and "<table>" in section and f"table={key}" in section
    # The chart library is the product's own static file, never a CDN.
    assert "/static/vendor/echarts/echarts.min.js" in content
    assert "cdn" not in content.lower()


def test_a_place_page_links_up_and_down_the_tree(client, world, figures):
    client.force_login(world.inspector)
    township = client.get(place_url(world.township_a)).content.decode()
    assert place_url(world.county, year=timezone.localdate().year).replace("&", "&amp;") in township
    assert reverse("oversight:place", args=[world.village_a1.pk]) in township


@pytest.mark.parametrize("year", ["abc", "1900", "99999"])
def test_a_strange_year_shows_this_year(client, world, year):
    client.force_login(world.inspector)
    response = client.get(place_url(world.county, year=year))
    assert response.status_code == 200 and response.context["year"] == timezone.localdate().year


def test_the_excel_export_has_one_sheet_per_table(client, world, figures):
    client.force_login(world.inspector)
    response = client.get(reverse("oversight:export", args=[world.county.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(body_of(response)))
    assert len(workbook.sheetnames) == 7
    months = workbook.worksheets[0]
    rows = list(months.iter_rows(values_only=True))
    assert rows[1][0] == "Month" or rows[1][0] == "月份"
    current = f"{timezone.localdate():%Y-%m}"
    assert next(row for row in rows if row[0] == current)[1] == 1


def test_one_table_can_be_exported_alone(client, world, figures):
    client.force_login(world.inspector)
    response = client.get(reverse("oversight:export", args=[world.county.pk]) + "?table=types")
    assert len(load_workbook(io.BytesIO(body_of(response))).sheetnames) == 1
    assert client.get(reverse("oversight:export", args=[world.county.pk]) + "?table=nope").status_code == 404


def test_the_export_is_refused_outside_the_jurisdiction(client, world):
    client.force_login(world.leader_b)
    assert client.get(reverse("oversight:export", args=[world.township_a.pk])).status_code == 404
