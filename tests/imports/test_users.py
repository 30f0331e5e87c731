"""Accounts and posts from a workbook: the system administrator's, made as the accounts page makes them."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from administration.models import AccountProfile, EventKind, SecurityEvent
from administration.services import password_reset
from imports.models import ImportJob, ImportStatus
from organizations.models import Organization, OrganizationKind, Post, Role
from tests.factories import PostFactory, UserFactory

from .conftest import credit_code, headers, upload, workbook_bytes

User = get_user_model()


def users(*rows):
    return {"用户": [headers("users"), *rows]}


@pytest.fixture
def run_users(world, run_import):
    def run(*rows, confirm=True, user=None):
        return run_import("users", users(*rows), confirm=confirm, user=user or world.system_admin)

    return run


def problems(job):
    return [(error["row"], error["column"]) for error in job.errors]


def test_accounts_and_posts_are_made_owing_a_password_change(world, run_users):
    job = run_users(
        ["sec_a9", "王", "建国", world.village_a1.code, "村党组织书记"],
        ["officer_a9", "田", "晓东", world.township_a.code, "乡镇农经站工作人员"],
    )
    assert job.status == ImportStatus.APPLIED, job.errors
    secretary = User.objects.get(username="sec_a9")
    assert (secretary.last_name, secretary.first_name) == ("王", "建国")
    assert list(secretary.posts.values_list("organization__code", "role")) == [
        (world.village_a1.code, Role.VILLAGE_SECRETARY)
    ]
    # No password anyone knows: the security administrator sets the one-time initial password.
    assert not secretary.has_usable_password()
    profile = AccountProfile.objects.get(user=secretary)
    assert profile.must_change_password and profile.home_organization == world.county
    assert profile.created_by == world.system_admin
    post = Post.objects.get(user__username="officer_a9")
    assert f"#{job.pk}" in post.history.first().history_change_reason
    # The worker that imports has no request: the import writes the security log itself.
    logged = SecurityEvent.objects.filter(actor=world.system_admin, object_id__in=[str(secretary.pk), str(post.pk)])
    assert set(logged.values_list("kind", flat=True)) == {EventKind.USER_CHANGED, EventKind.POST_GRANTED}
    password = password_reset(actor=world.security_admin, account=secretary)
    secretary.refresh_from_db()
    assert secretary.check_password(password)


def test_a_second_import_of_the_same_file_changes_nothing(world, run_users):
    row = ["sec_a9", "王", "建国", world.village_a1.code, "村党组织书记"]
    run_users(row)
    again = run_users(row, confirm=False)
    assert again.status == ImportStatus.CHECKED
    assert again.summary["counts"]["用户"] == {"unchanged": 1}
    assert User.objects.filter(username="sec_a9").count() == 1
    assert Post.objects.filter(user__username="sec_a9").count() == 1


def test_a_known_account_gets_its_new_name_and_post(world, run_users):
    job = run_users(["sec_a2", "钱", "书记", world.village_b1.code, "村务监督委员会主任"])
    assert job.status == ImportStatus.APPLIED, job.errors
    world.secretary_a2.refresh_from_db()
    assert world.secretary_a2.last_name == "钱"
    assert set(world.secretary_a2.posts.values_list("organization__code", "role")) == {
        (world.village_a2.code, Role.VILLAGE_SECRETARY),
        (world.village_b1.code, Role.VILLAGE_SUPERVISOR),
    }
    assert world.secretary_a2.has_usable_password()


def test_the_organisation_is_found_by_its_credit_code(world, run_users):
    world.village_a2.credit_code = credit_code(5)
    world.village_a2.save()
    job = run_users(["cashier_a2", "李", "秀梅", credit_code(5), "村报账员"])
    assert job.status == ImportStatus.APPLIED, job.errors
    assert Post.objects.get(user__username="cashier_a2").organization == world.village_a2


def test_an_unknown_organisation_is_refused_on_its_row(world, run_users):
    job = run_users(
        ["sec_a9", "王", "建国", world.village_a1.code, "村党组织书记"], ["x", "李", "四", "NOPE", "村报账员"]
    )
    assert job.status == ImportStatus.REJECTED
    assert problems(job) == [(3, "单位编码")]
    assert "NOPE" in job.errors[0]["message"]
    assert not User.objects.filter(username="sec_a9").exists()


def test_an_unknown_role_and_an_administrators_role_are_refused(world, run_users):
    job = run_users(
        ["x1", "李", "四", world.village_a1.code, "村长"],
        ["x2", "李", "五", world.county.code, "系统管理员"],
        ["x3", "李", "六", world.county.code, Role.SECURITY_ADMIN.value],
    )
    assert problems(job) == [(2, "岗位"), (3, "岗位"), (4, "岗位")]
    assert "村党组织书记" in job.errors[0]["message"]


def test_a_post_not_held_at_that_level_is_refused(world, run_users):
    job = run_users(
        ["x1", "李", "四", world.township_a.code, "村党组织书记"],
        ["x2", "李", "五", world.collective_a1.code, "村报账员"],
    )
    assert problems(job) == [(2, "岗位"), (3, "岗位")]
    assert world.township_a.name in job.errors[0]["message"]


def test_a_username_twice_in_the_file_is_refused(world, run_users):
    job = run_users(
        ["sec_a9", "王", "建国", world.village_a1.code, "村党组织书记"],
        ["sec_a9", "王", "建军", world.village_a2.code, "村党组织书记"],
    )
    assert problems(job) == [(3, "用户名")]
    assert "2" in job.errors[0]["message"]


def test_a_bad_username_and_missing_cells_are_refused(world, run_users):
    job = run_users(["王 建国", "王", "建国", world.village_a1.code, "村党组织书记"], ["x", "", "四", "", "村报账员"])
    assert sorted(problems(job)) == [(2, "用户名"), (3, "单位编码"), (3, "姓")]


def test_administrators_accounts_and_outsiders_accounts_are_not_touched(world, run_users):
    outside_county = Organization.objects.create(name="邻县", code="N", kind=OrganizationKind.COUNTY)
    outsider = UserFactory(username="outsider")
    PostFactory(user=outsider, organization=outside_county, role=Role.COUNTY_ADMIN)
    job = run_users(
        ["secadmin", "乔", "安全", world.village_a1.code, "村报账员"],
        ["outsider", "外", "人", world.village_a1.code, "村报账员"],
        ["x", "李", "四", outside_county.code, "县级管理员"],
    )
    assert sorted(problems(job)) == [(2, "用户名"), (3, "用户名"), (4, "单位编码")]
    assert (
        not Post.objects.filter(organization=world.village_a1, role=Role.VILLAGE_CASHIER)
        .exclude(user=world.cashier_a1)
        .exists()
    )


def test_only_the_system_administrator_imports_accounts(world, run_import):
    with pytest.raises(PermissionDenied):
        run_import("users", users(["x", "李", "四", world.village_a1.code, "村报账员"]), user=world.county_admin)


def test_the_system_administrator_imports_no_registers(world, run_import):
    with pytest.raises(PermissionDenied):
        run_import("members", {"成员": [headers("members")]}, user=world.system_admin)


def test_the_import_page_offers_the_system_administrator_only_accounts(client, world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(world.system_admin)
    page = client.get(reverse("imports:home"))
    assert page.status_code == 200
    assert [kind for kind, _label in page.context["kinds"]] == ["users"]
    assert b"baselines-link" not in page.content
    assert client.get(reverse("imports:template", args=["users"])).status_code == 200
    assert client.get(reverse("imports:template", args=["members"])).status_code == 404
    assert client.get(reverse("imports:baselines")).status_code == 403
    members = upload("members.xlsx", workbook_bytes({"成员": [headers("members")]}))
    response = client.post(reverse("imports:home"), {"kind": "members", "scope": world.county.pk, "file": members})
    assert response.status_code == 400 and not ImportJob.objects.exists()
    client.force_login(world.county_admin)
    assert "users" not in [kind for kind, _label in client.get(reverse("imports:home")).context["kinds"]]
    assert client.get(reverse("imports:template", args=["users"])).status_code == 404


def test_the_system_administrator_uploads_checks_and_confirms_through_the_pages(client, world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(world.system_admin)
    content = workbook_bytes(users(["sec_a9", "王", "建国", world.village_a1.code, "村党组织书记"]))
    response = client.post(
        reverse("imports:home"), {"kind": "users", "scope": world.county.pk, "file": upload("users.xlsx", content)}
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302 and job.status == ImportStatus.CHECKED, job.errors
    assert client.get(reverse("imports:job_detail", args=[job.pk])).status_code == 200
    client.post(reverse("imports:job_confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportStatus.APPLIED
    assert Post.objects.filter(user__username="sec_a9", organization=world.village_a1).exists()
    # Imported inside the request (tasks run eagerly here): logged once, by the security log's receivers.
    made = User.objects.get(username="sec_a9")
    assert SecurityEvent.objects.filter(kind=EventKind.USER_CHANGED, object_id=str(made.pk)).count() == 1
    # The county administrator does not see (or confirm) the system administrator's account imports.
    client.force_login(world.county_admin)
    assert client.get(reverse("imports:job_detail", args=[job.pk])).status_code == 404
