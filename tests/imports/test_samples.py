"""The sample workbooks of docs/samples: the good one imports a new township whole, the broken one says why not."""

from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile

from imports import services
from imports.models import ImportStatus
from organizations.models import Organization
from registers.models import Asset, Contract, ContractPayment, FundAccount, Member, Resource, ShareLedgerEntry

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"


def run(world, name, *, confirm=False):
    content = (SAMPLES / name).read_bytes()
    job = services.import_upload(
        user=world.county_admin, scope=world.county, kind="county", uploaded=SimpleUploadedFile(name, content)
    )
    job = services.import_check(job=job)
    if confirm and job.status == ImportStatus.CHECKED:
        services.import_confirm(job=job, user=world.county_admin)
        job = services.import_apply(job=job, user=world.county_admin)
    return job


def test_the_filled_sample_imports_a_new_township_with_two_villages(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    world.county.code = "DEMO"
    world.county.save()
    job = run(world, "import-new-township.xlsx")
    assert job.status == ImportStatus.CHECKED, job.errors
    assert job.summary["counts"]["组织"] == {"create": 5}
    assert not Organization.objects.filter(code="NT00").exists()
    job = run(world, "import-new-township.xlsx", confirm=True)
    assert job.status == ImportStatus.APPLIED, job.errors
    township = Organization.objects.get(code="NT00")
    assert sorted(township.children.values_list("code", flat=True)) == ["NT01", "NT02"]
    collective = Organization.objects.get(code="NT01-JJ")
    assert Member.objects.filter(organization=collective).count() == 7
    assert Asset.objects.filter(organization__code="NT02-JJ").count() == 2
    assert Resource.objects.filter(organization=collective).count() == 2
    assert Contract.objects.get(code="NT01-HT-001").resource.code == "NT01-ZY-001"
    assert ContractPayment.objects.filter(contract__organization__path__startswith=township.path).count() == 4
    assert FundAccount.objects.filter(organization=collective).count() == 2
    assert ShareLedgerEntry.objects.filter(organization=collective).count() == 7
    again = run(world, "import-new-township.xlsx")
    assert again.status == ImportStatus.CHECKED
    assert all(set(counts) == {"unchanged"} for counts in again.summary["counts"].values())


def test_the_broken_sample_reports_each_mistake_on_its_row_and_saves_nothing(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    world.county.code = "DEMO"
    world.county.save()
    job = run(world, "import-new-township-broken.xlsx", confirm=True)
    assert job.status == ImportStatus.REJECTED
    found = {(error["sheet"], error["row"], error["column"]) for error in job.errors}
    assert found == {
        ("成员", 3, "身份证号"),  # check digit
        ("成员", 8, "加入日期"),  # no such date
        ("成员", 14, "身份证号"),  # a second household
        ("资产", 6, "资产编号"),  # the number twice
        ("合同", 3, "资源编号"),  # no such resource
        ("股权配置", 2, "股数"),  # over the set-up
        # Rows that refer to a wrong row of an earlier sheet say so.
        ("付款计划", 4, "合同编号"),
        ("付款计划", 5, "合同编号"),
        ("股权配置", 3, "身份证号"),
        ("股权配置", 8, "身份证号"),
    }, job.errors
    referring = next(error for error in job.errors if error["sheet"] == "付款计划")
    assert "“合同”" in referring["message"] and "3" in referring["message"]
    assert not Organization.objects.filter(code="NT00").exists()
