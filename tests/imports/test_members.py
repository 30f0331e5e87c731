import datetime

from imports.models import ImportStatus
from registers.models import Member
from registers.selectors import member_by_id_number
from tests.factories import valid_id_number

from .conftest import headers


def member_row(collective, id_number, name="张三", household="H-01", basis="原始成员", **extra):
    row = [collective.code, name, id_number, household, basis, extra.get("joined", "2018-06-30"), "", "", "", ""]
    return row


def test_members_are_imported_with_history_naming_the_import(world, run_import):
    first, second = valid_id_number(), valid_id_number()
    sheets = {
        "成员": [
            headers("members"),
            member_row(world.collective_a2, first),
            member_row(world.collective_a2, second, "李四"),
        ]
    }
    job = run_import("members", sheets, confirm=True)
    assert job.status == ImportStatus.APPLIED, job.errors
    member = member_by_id_number(organization=world.collective_a2, id_number=first)
    assert member.name == "张三"
    assert member.joined_on == datetime.date(2018, 6, 30)
    record = member.history.first()
    assert f"#{job.pk}" in record.history_change_reason
    assert record.history_user == world.county_admin


def test_reimporting_the_same_file_changes_nothing(world, run_import):
    id_number = valid_id_number()
    sheets = {"成员": [headers("members"), member_row(world.collective_a2, id_number)]}
    run_import("members", sheets, confirm=True)
    count = Member.objects.count()
    again = run_import("members", sheets)
    assert again.status == ImportStatus.CHECKED
    assert again.summary["counts"]["成员"] == {"unchanged": 1}
    assert again.summary["changes"] == []
    assert Member.objects.count() == count


def test_a_corrected_file_updates_only_what_changed_and_the_preview_says_so(world, run_import):
    first, second = valid_id_number(), valid_id_number()
    rows = [member_row(world.collective_a2, first), member_row(world.collective_a2, second, "李四")]
    run_import("members", {"成员": [headers("members"), *rows]}, confirm=True)
    untouched = member_by_id_number(organization=world.collective_a2, id_number=first)
    history_before = untouched.history.count()
    rows[1] = member_row(world.collective_a2, second, "李四", household="H-02")
    job = run_import("members", {"成员": [headers("members"), *rows]})
    assert job.summary["counts"]["成员"] == {"unchanged": 1, "update": 1}
    [change] = job.summary["changes"]
    assert change["row"] == 3
    assert change["fields"] == [["户号", "H-01", "H-02"]]
    assert member_by_id_number(organization=world.collective_a2, id_number=second).household == "H-01"
    job = run_import("members", {"成员": [headers("members"), *rows]}, confirm=True)
    assert job.status == ImportStatus.APPLIED
    assert member_by_id_number(organization=world.collective_a2, id_number=second).household == "H-02"
    assert untouched.history.count() == history_before


def test_a_failing_check_digit_is_reported_on_its_row_and_nothing_is_saved(world, run_import):
    good = valid_id_number()
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    sheets = {"成员": [headers("members"), member_row(world.collective_a2, good), member_row(world.collective_a2, bad)]}
    count = Member.objects.count()
    job = run_import("members", sheets, confirm=True)
    assert job.status == ImportStatus.REJECTED
    assert [(e["row"], e["column"]) for e in job.errors] == [(3, "身份证号")]
    assert Member.objects.count() == count


def test_a_member_in_two_households_is_refused(world, run_import):
    id_number = valid_id_number()
    sheets = {
        "成员": [
            headers("members"),
            member_row(world.collective_a2, id_number, household="H-01"),
            member_row(world.collective_a2, id_number, household="H-07"),
        ]
    }
    job = run_import("members", sheets)
    assert job.status == ImportStatus.REJECTED
    [error] = job.errors
    assert (error["row"], error["column"]) == (3, "身份证号")
    assert "H-01" in error["message"] and "2" in error["message"]


def test_a_duplicate_id_number_inside_the_file_is_refused(world, run_import):
    id_number = valid_id_number()
    row = member_row(world.collective_a2, id_number)
    job = run_import("members", {"成员": [headers("members"), row, list(row)]})
    assert job.status == ImportStatus.REJECTED
    assert [(e["row"], e["column"]) for e in job.errors] == [(3, "身份证号")]


def test_a_member_of_another_collective_is_refused(world, run_import):
    taken = world.members_a1[0].id_number
    job = run_import("members", {"成员": [headers("members"), member_row(world.collective_a2, taken)]})
    assert job.status == ImportStatus.REJECTED
    assert world.collective_a1.name in job.errors[0]["message"]


def test_an_id_number_typed_as_a_number_is_refused(world, run_import):
    row = member_row(world.collective_a2, 110101199003074316)
    job = run_import("members", {"成员": [headers("members"), row]})
    assert [(e["row"], e["column"]) for e in job.errors] == [(2, "身份证号")]


def test_every_bad_cell_of_a_row_is_reported(world, run_import):
    row = [world.collective_a2.code, "", valid_id_number(), "H-01", "娶亲", "2018-02-30", "", "也许", "", ""]
    job = run_import("members", {"成员": [headers("members"), row]})
    assert sorted(e["column"] for e in job.errors) == sorted(["姓名", "成员身份依据", "加入日期", "党员"])


def test_a_collective_outside_the_tree_or_the_jurisdiction_is_refused(world, run_import):
    rows = [member_row(world.village_a2, valid_id_number()), ["NO-SUCH", "王五", valid_id_number(), "H", "出生"]]
    job = run_import("members", {"成员": [headers("members"), *rows]})
    assert [(e["row"], e["column"]) for e in job.errors] == [(2, "集体经济组织编码"), (3, "集体经济组织编码")]
