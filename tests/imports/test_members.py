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
