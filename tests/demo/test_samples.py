"""The demo's sample workbooks (docs/samples/demo/) hold exactly what ``seed_demo`` loads: no row more or less."""

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from demo.samples import SAMPLES_DIR, WORKBOOKS, database_rows, file_rows
from demo.seed import CITY_CODE
from organizations.models import Organization

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
