"""The demo's sample workbooks (docs/samples/demo/) hold exactly what ``seed_demo`` loads, and it loads them through
the importer: no row more or less."""

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from administration.models import AccountProfile
from demo.samples import SAMPLES_DIR, WORKBOOKS, database_rows, file_rows, sha256_of
from demo.seed import CITY_CODE, DEFAULT_PASSWORD
from imports.models import ImportJob, ImportStatus
from organizations.models import Organization, Post
from registers.models import Member

pytestmark = pytest.mark.django_db

REMAKE = "the sample workbooks and the seed differ: run scripts/make_demo_samples.py and commit the workbooks"


def test_the_committed_workbooks_hold_what_the_seed_loads():
    call_command("seed_demo", verbosity=0)
    loaded = database_rows(Organization.objects.get(code=CITY_CODE))
    for name, kind in WORKBOOKS:
        committed = file_rows(SAMPLES_DIR / name, kind)
        assert committed.keys() == loaded[name].keys(), f"{name}: {REMAKE}"
        for sheet, rows in committed.items():
            assert rows == loaded[name][sheet], f"{name} {sheet}: {REMAKE}"


def test_a_changed_row_is_seen(tmp_path):
    """The comparison reads every cell: one amount changed in a copy of the county workbook is a difference."""
    name, kind = WORKBOOKS[0]
    workbook = load_workbook(SAMPLES_DIR / name)
    cell = workbook["资产"]["F2"]
    cell.value = float(cell.value) + 1
    changed = tmp_path / name
    workbook.save(changed)
    assert file_rows(changed, kind)["资产"] != file_rows(SAMPLES_DIR / name, kind)["资产"]
    assert file_rows(changed, kind)["成员"] == file_rows(SAMPLES_DIR / name, kind)["成员"]


def test_the_seed_loads_registers_and_people_through_the_importer(django_user_model):
    call_command("seed_demo", verbosity=0)
    jobs = {job.kind: job for job in ImportJob.objects.filter(status=ImportStatus.APPLIED)}
    assert set(jobs) == {kind for _name, kind in WORKBOOKS}
    for name, kind in WORKBOOKS:
        assert jobs[kind].sha256 == sha256_of((SAMPLES_DIR / name).read_bytes())
    member = Member.objects.filter(organization__code="DH01-JJ").first()
    assert f"#{jobs['county'].pk}" in member.history.earliest().history_change_reason
    assert jobs["county"].applied_by.username == "city_admin"
    secretary = django_user_model.objects.get(username="sec_dh01")
    profile = AccountProfile.objects.get(user=secretary)
    assert profile.created_by.username == "city_sysadmin" and not profile.must_change_password
    assert secretary.check_password(DEFAULT_PASSWORD)
    post = Post.objects.get(user=secretary)
    assert f"#{jobs['users'].pk}" in post.history.earliest().history_change_reason
    # A second run finds the same workbooks imported and imports nothing again.
    call_command("seed_demo", verbosity=0)
    assert ImportJob.objects.count() == len(WORKBOOKS)
