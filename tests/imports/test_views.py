"""The import pages, as the county administrator and as the people who may not use them."""

import io

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from imports.models import ImportJob, ImportStatus
from registers.models import Member
from tests.factories import valid_id_number

from .conftest import headers, upload, workbook_bytes


@pytest.fixture
def client(client, settings, tmp_path):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    settings.MEDIA_ROOT = tmp_path
    return client


def members_file(world, *id_numbers, name="members.xlsx"):
    rows = [[world.collective_a2.code, f"成员{n}", id_number, "H-1", "出生"] for n, id_number in enumerate(id_numbers)]
    return upload(name, workbook_bytes({"成员": [headers("members")[:5], *rows]}))


def post_upload(client, world, uploaded, kind="members"):
    return client.post(reverse("imports:home"), {"kind": kind, "scope": world.county.pk, "file": uploaded})


@pytest.mark.parametrize("kind", ["tree", "members", "assets", "resources", "contracts", "shares", "accounts", "users"])
def test_every_template_has_headers_an_example_row_and_an_explanation(client, world, kind):
    client.force_login(world.system_admin if kind == "users" else world.county_admin)
    response = client.get(reverse("imports:template", args=[kind]))
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert workbook.sheetnames[0] == "填写说明"
    first = workbook[workbook.sheetnames[1]]
    rows = list(first.iter_rows(values_only=True, max_row=2))
    assert list(rows[0]) == headers(kind)
    assert any(value not in (None, "") for value in rows[1])
    explained = {row[1] for row in workbook["填写说明"].iter_rows(values_only=True, min_row=5)}
    assert set(headers(kind)) <= explained


def test_upload_check_and_confirm_through_the_pages(client, world):
    client.force_login(world.county_admin)
    response = post_upload(client, world, members_file(world, valid_id_number(), valid_id_number()))
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == reverse("imports:job_detail", args=[job.pk])
    assert job.status == ImportStatus.CHECKED  # tasks run eagerly in tests
    page = client.get(response.url)
    assert b'id="confirm"' in page.content and "成员0" in page.content.decode()
    status = client.get(reverse("imports:job_status", args=[job.pk])).json()
    assert status == {"status": "checked", "label": "Checked: ready to confirm", "progress": 100, "finished": True}
    client.post(reverse("imports:job_confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportStatus.APPLIED and job.applied_by == world.county_admin
    assert Member.objects.filter(organization=world.collective_a2, name="成员1").exists()
    again = client.post(reverse("imports:job_confirm", args=[job.pk]), follow=True)
    assert b"Only a checked import" in again.content


def test_a_broken_workbook_shows_its_problems_and_the_report_has_an_error_column(client, world):
    client.force_login(world.county_admin)
    bad = valid_id_number()[:17] + "Y"
    post_upload(client, world, members_file(world, valid_id_number(), bad))
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.REJECTED
    page = client.get(reverse("imports:job_detail", args=[job.pk])).content.decode()
    assert "1 problem found: nothing was imported" in page and 'id="confirm"' not in page
    response = client.get(reverse("imports:job_report", args=[job.pk]))
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert workbook.sheetnames == ["错误汇总", "成员"]
    rows = list(workbook["成员"].iter_rows(values_only=True))
    assert rows[0][-1] == "错误说明" and rows[1][-1] in ("", None) and "身份证号" in rows[2][-1]
    summary = list(workbook["错误汇总"].iter_rows(values_only=True))
    assert summary[1][:3] == ("成员", 3, "身份证号")
    client.post(reverse("imports:job_confirm", args=[job.pk]))
    assert not Member.objects.filter(name="成员0").exists()


def test_a_file_that_is_not_a_workbook_gets_a_form_error(client, world):
    client.force_login(world.county_admin)
    response = post_upload(client, world, upload("members.csv", b"a,b\n1,2\n"))
    assert response.status_code == 400
    assert b"This is not an Excel workbook (.xlsx)" in response.content
    assert not ImportJob.objects.exists()


# The system administrator imports accounts only (tests/imports/test_users.py).
@pytest.mark.parametrize("persona", ["secretary_a1", "leader_a", "inspector", "security_admin"])
def test_only_the_county_administrator_imports(client, world, persona):
    client.force_login(getattr(world, persona))
    assert client.get(reverse("imports:home")).status_code == 403
    assert client.get(reverse("imports:template", args=["members"])).status_code == 403
    assert post_upload(client, world, members_file(world, valid_id_number())).status_code == 403
    assert client.get(reverse("imports:baselines")).status_code == 403
    assert not ImportJob.objects.exists()


def test_another_administrators_job_is_out_of_reach(client, world):
    from organizations.models import Role
    from tests.factories import PostFactory, UserFactory

    client.force_login(world.county_admin)
    post_upload(client, world, members_file(world, valid_id_number()))
    job = ImportJob.objects.get()
    admin_b = UserFactory(username="admin_b")
    PostFactory(user=admin_b, organization=world.township_b, role=Role.COUNTY_ADMIN)
    client.force_login(admin_b)
    for name in ("imports:job_detail", "imports:job_status", "imports:job_report"):
        assert client.get(reverse(name, args=[job.pk])).status_code == 404
    assert client.post(reverse("imports:job_confirm", args=[job.pk])).status_code == 404
    job.refresh_from_db()
    assert job.status == ImportStatus.CHECKED


def test_the_baselines_page_confirms_a_register(client, world):
    client.force_login(world.county_admin)
    page = client.get(reverse("imports:baselines"))
    assert f'data-baseline="{world.collective_a2.code}-members"'.encode() in page.content
    response = client.post(
        reverse("imports:baselines"), {"organization": world.collective_a2.pk, "register": "members"}, follow=True
    )
    assert b"The baseline is confirmed" in response.content
    assert f'data-baseline="{world.collective_a2.code}-members"'.encode() not in response.content
    assert client.post(reverse("imports:baselines"), {"organization": "x", "register": "members"}).status_code == 404


def test_the_navigation_shows_the_import_to_the_county_administrator_only(client, world):
    client.force_login(world.county_admin)
    assert b'id="nav-imports"' in client.get(reverse("imports:home")).content
    client.force_login(world.secretary_a1)
    assert b'id="nav-imports"' not in client.get(reverse("registers:asset_list")).content


def test_the_chinese_pages_name_the_organisation_an_import_is_for_not_a_vote(world):
    chinese = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    chinese.force_login(world.county_admin)
    post_upload(chinese, world, members_file(world, valid_id_number()))
    job = ImportJob.objects.get()
    for url in (reverse("imports:home"), reverse("imports:job_detail", args=[job.pk])):
        content = chinese.get(url).content.decode()
        assert "所属单位" in content and "赞成" not in content
