"""The security administrator gives every account of an import its one-time password at once, as a sheet."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from openpyxl import load_workbook

from administration.models import AccountProfile, EventKind, PasswordHistory, SecurityEvent
from administration.services import BATCH_PASSWORD_ITERATIONS, initial_passwords_issue
from imports.models import ImportStatus
from organizations.models import Organization, OrganizationKind, Role
from tests.factories import PostFactory, UserFactory

from .conftest import headers

User = get_user_model()
GOOD = "Dongfang-2026"
ROWS = [
    ["sec_a9", "王", "建国", "A1", "村党组织书记"],
    ["officer_a9", "田", "晓东", "TA", "乡镇农经站工作人员"],
    # Known already, with a password of its own: it gets a new post, not a new password.
    ["sec_a2", "钱", "书记", "B1", "村务监督委员会主任"],
]


@pytest.fixture
def client(client):
    """The tests read the English texts; the product's default language is Chinese (test_the_pages_are_in_chinese)."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def run_users(world, run_import):
    def run(*rows, confirm=True):
        return run_import("users", {"用户": [headers("users"), *rows]}, confirm=confirm, user=world.system_admin)

    return run


@pytest.fixture
def imported(run_users):
    job = run_users(*ROWS)
    assert job.status == ImportStatus.APPLIED, job.errors
    return job


def page_url(job):
    return reverse("imports:initial_passwords", args=[job.pk])


def again_url(job):
    return reverse("imports:initial_passwords_again", args=[job.pk])


def sheet_rows(response):
    assert response.status_code == 200, response.content.decode()[:2000]
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response["Cache-Control"] == "no-store"
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def issued_passwords(response) -> dict[str, list]:
    rows = sheet_rows(response)
    start = rows.index(["Username", "Name", "Organisation", "One-time password"]) + 1
    return {row[0]: row for row in rows[start:]}


def login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR="203.0.113.5")


def resets():
    return SecurityEvent.objects.filter(kind=EventKind.PASSWORD_RESET)


def test_every_waiting_account_gets_its_password_on_one_sheet(client, world, imported):
    client.force_login(world.security_admin)
    page = client.get(page_url(imported))
    assert page.status_code == 200
    assert (page.context["accounts"], page.context["waiting"], page.context["chosen"]) == (3, 2, 1)
    response = client.post(page_url(imported))
    rows = sheet_rows(response)
    assert f"#{imported.pk}" in rows[0][0]
    assert "in person" in rows[1][0] and "destroy" in rows[1][0]
    assert "cannot be downloaded again" in rows[2][0]
    issued = issued_passwords(response)
    assert sorted(issued) == ["officer_a9", "sec_a9"]
    assert issued["sec_a9"][1:3] == ["王建国", world.village_a1.name]
    assert issued["officer_a9"][1:3] == ["田晓东", world.township_a.name]
    for username, row in issued.items():
        account = User.objects.get(username=username)
        assert account.check_password(row[3])
        assert AccountProfile.objects.get(user=account).must_change_password
        assert PasswordHistory.objects.filter(user=account).count() == 1
    world.secretary_a2.refresh_from_db()
    assert world.secretary_a2.check_password("pw")  # its own password, untouched
    # The password works once: the first login leads to the password change and nowhere else.
    client.logout()
    assert login(client, "sec_a9", issued["sec_a9"][3]).status_code == 302
    inbox = client.get(reverse("flows:inbox"))
    assert inbox.status_code == 302 and inbox.url.startswith(reverse("administration:password_change"))
    changed = client.post(
        reverse("administration:password_change"),
        {"old_password": issued["sec_a9"][3], "new_password1": GOOD, "new_password2": GOOD},
    )
    assert changed.status_code == 302
    assert client.get(reverse("flows:inbox")).status_code == 200


def test_each_issue_is_in_the_security_log(client, world, imported):
    client.force_login(world.security_admin)
    client.post(page_url(imported))
    logged = resets().filter(actor=world.security_admin)
    made = User.objects.filter(username__in=["sec_a9", "officer_a9"])
    assert sorted(logged.values_list("object_id", flat=True)) == sorted(str(account.pk) for account in made)
    assert all(f"#{imported.pk}" in event.description and event.object_type == "User" for event in logged)
    assert set(logged.values_list("organization", flat=True)) == {world.county.pk}


def test_a_second_download_is_refused(client, world, imported):
    client.force_login(world.security_admin)
    first = issued_passwords(client.post(page_url(imported)))
    hashes = dict(User.objects.filter(username__in=first).values_list("username", "password"))
    logged = resets().count()
    second = client.post(page_url(imported))
    assert second.status_code == 409
    assert "already issued" in second.context["message"]
    assert second["Content-Type"].startswith("text/html")
    assert dict(User.objects.filter(username__in=first).values_list("username", "password")) == hashes
    assert resets().count() == logged
    page = client.get(page_url(imported))
    assert (page.context["waiting"], page.context["issued"]) == (0, 2)
    assert b'id="issue-form"' not in page.content and b'id="again-form"' in page.content


def test_issuing_again_needs_the_box_ticked_resets_and_is_logged(client, world, imported):
    client.force_login(world.security_admin)
    first = issued_passwords(client.post(page_url(imported)))
    # officer_a9 has already chosen its own password: a new sheet leaves it alone.
    officer = User.objects.get(username="officer_a9")
    officer.set_password(GOOD)
    officer.save()
    AccountProfile.objects.filter(user=officer).update(must_change_password=False)
    unticked = client.post(again_url(imported))
    assert unticked.status_code == 400
    assert "Tick the box" in unticked.content.decode()
    assert User.objects.get(username="sec_a9").check_password(first["sec_a9"][3])
    again = issued_passwords(client.post(again_url(imported), {"confirm": "on"}))
    assert list(again) == ["sec_a9"]
    secretary = User.objects.get(username="sec_a9")
    assert secretary.check_password(again["sec_a9"][3]) and not secretary.check_password(first["sec_a9"][3])
    assert User.objects.get(username="officer_a9").check_password(GOOD)
    assert resets().filter(object_id=str(secretary.pk), description__contains="set again").count() == 1
    assert resets().count() == 3


def test_nothing_to_reset_again_is_said(client, world, imported):
    client.force_login(world.security_admin)
    issued = issued_passwords(client.post(page_url(imported)))
    AccountProfile.objects.filter(user__username__in=issued).update(must_change_password=False)
    response = client.post(again_url(imported), {"confirm": "on"})
    assert response.status_code == 409
    assert "nothing to reset" in response.context["message"]


@pytest.mark.parametrize("persona", ["system_admin", "audit_admin", "county_admin", "secretary_a1"])
def test_only_the_security_administrator_opens_the_pages(client, world, imported, persona):
    client.force_login(getattr(world, persona))
    assert client.get(reverse("imports:password_jobs")).status_code == 403
    assert client.get(page_url(imported)).status_code == 403
    assert client.post(page_url(imported)).status_code == 403
    assert client.post(again_url(imported), {"confirm": "on"}).status_code == 403
    assert not User.objects.get(username="sec_a9").has_usable_password()
    assert not resets().exists()


def test_a_security_administrator_of_another_county_finds_no_such_job(client, world, imported):
    other_county = Organization.objects.create(name="邻县", code="N", kind=OrganizationKind.COUNTY)
    other = UserFactory(username="secadmin_n")
    PostFactory(user=other, organization=other_county, role=Role.SECURITY_ADMIN)
    client.force_login(other)
    assert client.get(page_url(imported)).status_code == 404
    assert client.post(page_url(imported)).status_code == 404
    assert client.post(again_url(imported), {"confirm": "on"}).status_code == 404
    assert imported.pk not in [job.pk for job in client.get(reverse("imports:password_jobs")).context["jobs"]]
    assert not User.objects.get(username="sec_a9").has_usable_password()
    assert not resets().exists()


def test_an_unknown_job_is_a_404(client, world):
    client.force_login(world.security_admin)
    assert client.get(reverse("imports:initial_passwords", args=[999999])).status_code == 404
    assert client.post(reverse("imports:initial_passwords", args=[999999])).status_code == 404


def test_a_job_of_another_kind_is_refused_without_showing_it(client, world, run_import):
    job = run_import("members", {"成员": [headers("members")]}, confirm=True)
    assert job.status == ImportStatus.APPLIED, job.errors
    client.force_login(world.security_admin)
    for response in (
        client.get(page_url(job)),
        client.post(page_url(job)),
        client.post(again_url(job), {"confirm": "on"}),
    ):
        assert response.status_code == 404
        assert "not an import of accounts" in response.context["problem"]
        assert job.original_name not in response.content.decode()
        assert b'id="issue-form"' not in response.content
    assert not resets().exists()


def test_an_unconfirmed_dry_run_is_explained_and_changes_nothing(client, world, imported, run_users):
    # sec_a9 (imported, still without a password) is on a second workbook that is only checked.
    dry_run = run_users(["sec_a9", "王", "建国", "A2", "村报账员"], confirm=False)
    assert dry_run.status == ImportStatus.CHECKED
    client.force_login(world.security_admin)
    response = client.post(page_url(dry_run))
    assert response.status_code == 400
    assert "not imported" in response.context["problem"] and "confirmed" in response.context["problem"]
    assert client.post(again_url(dry_run), {"confirm": "on"}).status_code == 400
    assert not User.objects.get(username="sec_a9").has_usable_password()
    assert not resets().exists()


def test_the_list_shows_the_confirmed_imports_of_accounts(client, world, imported, run_users, run_import):
    run_users(["x9", "李", "四", "A1", "村报账员"], confirm=False)
    run_import("members", {"成员": [headers("members")]})
    client.force_login(world.security_admin)
    page = client.get(reverse("imports:password_jobs"))
    assert [job.pk for job in page.context["jobs"]] == [imported.pk]
    assert page_url(imported).encode() in page.content


def test_the_pages_are_in_chinese(client, world, imported):
    client.force_login(world.security_admin)
    page = client.get(page_url(imported), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "发放初始密码并下载密码表" in page and "当面" in page
    response = client.post(page_url(imported), HTTP_ACCEPT_LANGUAGE="zh-hans")
    rows = sheet_rows(response)
    assert "当面" in rows[1][0] and ["用户名", "姓名", "单位", "一次性密码"] in rows


def test_the_service_refuses_administrators_and_accounts_outside_the_area(world):
    with pytest.raises(PermissionDenied):
        initial_passwords_issue(actor=world.security_admin, accounts=[world.audit_admin], source="x")
    with pytest.raises(PermissionDenied):
        initial_passwords_issue(actor=world.security_admin, accounts=[world.security_admin], source="x")
    outside = UserFactory(username="outsider")
    PostFactory(
        user=outside,
        organization=Organization.objects.create(name="邻县", code="N", kind=OrganizationKind.COUNTY),
        role=Role.COUNTY_ADMIN,
    )
    with pytest.raises(PermissionDenied):
        initial_passwords_issue(actor=world.security_admin, accounts=[outside], source="x")
    with pytest.raises(PermissionDenied):
        initial_passwords_issue(actor=world.system_admin, accounts=[world.secretary_a1], source="x")
    assert not resets().exists()


def test_a_batch_hashes_with_fewer_rounds_and_the_first_login_rehashes(world, imported, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    account = User.objects.get(username="sec_a9")
    [(_account, password)] = initial_passwords_issue(actor=world.security_admin, accounts=[account], source="x")
    stored = User.objects.get(pk=account.pk).password
    assert stored.split("$")[:2] == ["pbkdf2_sha256", str(BATCH_PASSWORD_ITERATIONS)]
    account = User.objects.get(pk=account.pk)
    assert account.check_password(password)  # Django rehashes on success with its own rounds
    assert User.objects.get(pk=account.pk).password.split("$")[1] != str(BATCH_PASSWORD_ITERATIONS)
    assert check_password(password, User.objects.get(pk=account.pk).password)
