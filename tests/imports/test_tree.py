from imports.models import ImportStatus
from organizations.models import Organization, OrganizationKind

from .conftest import credit_code, headers


def tree(*rows):
    return {"组织": [headers("tree"), *rows]}


def test_a_new_township_with_two_villages_is_imported_under_the_county(world, run_import):
    rows = [
        ["NT", "新塘镇", "乡镇", world.county.code, ""],
        ["NT-1", "上村", "村", "NT", ""],
        ["NT-1-JJ", "上村股份经济合作社", "集体经济组织", "NT-1", credit_code(1)],
        ["NT-2", "下村", "村", "NT", ""],
        ["NT-2-JJ", "下村经济合作社", "集体经济组织", "NT-2", credit_code(2)],
    ]
    job = run_import("tree", tree(*rows), confirm=True)
    assert job.status == ImportStatus.APPLIED, job.errors
    township = Organization.objects.get(code="NT")
    collective = Organization.objects.get(code="NT-2-JJ")
    assert township.parent == world.county and township.kind == OrganizationKind.TOWNSHIP
    assert collective.path.startswith(township.path)
    assert collective.credit_code == credit_code(2)
    assert collective.village.code == "NT-2"
    assert f"#{job.pk}" in collective.history.first().history_change_reason
    again = run_import("tree", tree(*rows))
    assert again.summary["counts"]["组织"] == {"unchanged": 5}


def test_organisations_are_matched_by_credit_code(world, run_import):
    world.collective_a2.credit_code = credit_code(7)
    world.collective_a2.save()
    row = ["A2-JJ", "桃园村股份经济合作社（改名）", "集体经济组织", "A2", credit_code(7)]
    job = run_import("tree", tree(row), confirm=True)
    assert job.status == ImportStatus.APPLIED, job.errors
    world.collective_a2.refresh_from_db()
    assert world.collective_a2.name == "桃园村股份经济合作社（改名）"


def test_a_wrong_credit_code_check_character_is_refused(world, run_import):
    code = credit_code(3)
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    job = run_import("tree", tree(["NT", "新塘镇", "乡镇", world.county.code, wrong]))
    assert job.status == ImportStatus.REJECTED
    assert [(e["row"], e["column"]) for e in job.errors] == [(2, "统一社会信用代码")]
    assert not Organization.objects.filter(code="NT").exists()


def test_a_parent_that_does_not_exist_is_refused(world, run_import):
    job = run_import("tree", tree(["NT-1", "上村", "村", "NT", ""]))
    assert [(e["row"], e["column"]) for e in job.errors] == [(2, "上级编码")]


def test_a_level_that_does_not_fit_under_its_parent_is_refused(world, run_import):
    job = run_import("tree", tree(["X", "某镇", "乡镇", world.village_a1.code, ""]))
    assert [(e["row"], e["column"]) for e in job.errors] == [(2, "上级编码")]


def test_an_import_does_not_move_an_organisation(world, run_import):
    job = run_import("tree", tree(["A2", "桃园村", "村", world.township_b.code, ""]))
    assert [(e["row"], e["column"]) for e in job.errors] == [(2, "上级编码")]


def test_a_township_administrator_cannot_add_outside_the_jurisdiction(world, run_import):
    from organizations.models import Role
    from tests.factories import PostFactory, UserFactory

    admin_b = UserFactory(username="admin_b")
    PostFactory(user=admin_b, organization=world.township_b, role=Role.COUNTY_ADMIN)
    rows = [["NT", "新塘镇", "乡镇", world.county.code, ""], ["B2", "新村", "村", world.township_b.code, ""]]
    job = run_import("tree", tree(*rows), user=admin_b, scope=world.township_b)
    assert [(e["row"], e["column"]) for e in job.errors] == [(2, "编码")]


def test_duplicate_codes_in_the_file_are_refused(world, run_import):
    rows = [["NT", "新塘镇", "乡镇", world.county.code, ""], ["NT", "新塘乡", "乡镇", world.county.code, ""]]
    job = run_import("tree", tree(*rows))
    assert [(e["row"], e["column"]) for e in job.errors] == [(3, "编码")]
