"""What an upload that is not a good workbook gets: a clear message, and nothing saved."""

import pytest
from django.core.exceptions import ValidationError

from imports import services
from imports.models import ImportJob, ImportStatus
from registers.models import Member
from tests.factories import valid_id_number

from .conftest import headers, upload, workbook_bytes


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("members.csv", "集体经济组织编码,姓名\nA2-JJ,张三\n".encode(), ".xlsx"),
        ("members.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, ".xls"),
        ("members.xlsx", b"%PDF-1.4 not a workbook", ".xlsx"),
        ("members.xlsx", b"PK\x03\x04 broken zip", ".xlsx"),
    ],
)
def test_a_file_that_is_not_a_workbook_is_refused_at_upload(world, settings, tmp_path, name, content, words):
    settings.MEDIA_ROOT = tmp_path
    with pytest.raises(ValidationError) as raised:
        services.import_upload(
            user=world.county_admin, scope=world.county, kind="members", uploaded=upload(name, content)
        )
    assert words in raised.value.messages[0]
    assert not ImportJob.objects.exists()


def test_wrong_headers_are_reported_on_the_header_row(world, run_import):
    wrong = ["集体经济组织编码", "名字", "身份证号", "户号", "成员身份依据", "备注"]
    job = run_import(
        "members", {"成员": [wrong, [world.collective_a2.code, "张三", valid_id_number(), "H", "出生", ""]]}
    )
    assert job.status == ImportStatus.REJECTED
    problems = {(e["row"], e["column"]) for e in job.errors}
    assert problems == {(1, "名字"), (1, "备注"), (1, "姓名")}


def test_a_missing_sheet_is_reported(world, run_import):
    job = run_import("members", {"Sheet1": [headers("members")]})
    assert job.status == ImportStatus.REJECTED
    assert job.errors[0]["sheet"] == "成员" and job.errors[0]["row"] == 0


def test_one_wrong_row_among_many_saves_nothing(world, run_import):
    rows = [[world.collective_a2.code, f"成员{n}", valid_id_number(), "H", "出生"] for n in range(30)]
    rows[17][4] = "不知道"
    count = Member.objects.count()
    job = run_import("members", {"成员": [headers("members")[:5], *rows]}, confirm=True)
    assert job.status == ImportStatus.REJECTED
    assert [(e["row"], e["column"]) for e in job.errors] == [(19, "成员身份依据")]
    assert Member.objects.count() == count


def test_an_import_that_meets_a_changed_register_at_confirmation_writes_nothing(world, run_import, settings, tmp_path):
    """The import checks every row again when it runs: a row that went wrong since the dry run stops all of it."""
    first, second = valid_id_number(), valid_id_number()
    rows = [
        [world.collective_a2.code, "张三", first, "H", "出生"],
        [world.collective_a2.code, "李四", second, "H", "出生"],
    ]
    job = run_import("members", {"成员": [headers("members")[:5], *rows]})
    assert job.status == ImportStatus.CHECKED
    Member.objects.create(organization=world.collective_b1, name="李四", id_number=second, household="B")
    services.import_confirm(job=job, user=world.county_admin)
    job = services.import_apply(job=job, user=world.county_admin)
    assert job.status == ImportStatus.REJECTED
    assert [(e["row"], e["column"]) for e in job.errors] == [(3, "身份证号")]
    assert not Member.objects.filter(organization=world.collective_a2, name="张三").exists()
    assert job.applied_at is None


def test_the_template_example_row_left_in_is_skipped(world, run_import):
    from imports.importers import IMPORTERS

    spec = IMPORTERS["members"].sheets[0]
    example = [column.example for column in spec.columns]
    job = run_import("members", {"成员": [spec.headers, example]})
    assert job.status == ImportStatus.CHECKED
    assert job.summary["counts"] == {}


def test_workbook_bytes_helper_makes_a_real_workbook():
    assert workbook_bytes({"成员": [["a"]]}).startswith(b"PK")
