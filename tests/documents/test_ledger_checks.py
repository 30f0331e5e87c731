"""The stored whole-log check: the job beat runs, its lock, the command, the warning a failed check raises."""

import psycopg
import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from documents.ledger import ledger_append
from documents.ledger_checks import LEDGER_CHECK_LOCK_KEY, ledger_check_run
from documents.models import LedgerCheck, LedgerEntry, LedgerKind, TreeHead
from documents.tasks import check_ledger
from flows.models import Matter
from organizations.models import Organization, OrganizationKind
from project.celery import app
from registers.models import EarlyWarning, WarningLevel, WarningRule
from tests.drive import act, apply_purchase

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def proposed(world) -> Matter:
    matter = apply_purchase(world)
    act(world.secretary_a1, matter)
    return matter


def test_the_job_stores_what_it_checked_and_the_head_it_covered(world):
    proposed(world)
    check = LedgerCheck.objects.get(pk=check_ledger())
    head = TreeHead.objects.order_by("-size").first()
    assert check.ok is True
    assert (check.trigger, check.check_files, check.requested_by) == (LedgerCheck.Trigger.SCHEDULE, False, None)
    assert check.started_at <= check.finished_at
    assert (check.head_size, check.head_root) == (head.size, head.root_hash)
    assert check.checked == LedgerEntry.objects.count()
    assert check.records > 0
    assert check.first_bad_seq is None and check.reason
    assert not EarlyWarning.objects.filter(rule=WarningRule.LEDGER_CHECK_FAILED).exists()


def test_the_job_places_waiting_leaves_before_checking(world, settings):
    settings.LEDGER_SEQUENCE_ON_COMMIT = False
    proposed(world)
    assert LedgerEntry.objects.filter(seq__isnull=True).exists()
    check = LedgerCheck.objects.get(pk=check_ledger(check_files=True))
    assert check.ok and check.check_files
    assert check.head_size == LedgerEntry.objects.count()


def test_a_failed_check_names_the_record_and_raises_one_red_warning_per_county(world):
    matter = proposed(world)
    other_county = Organization.objects.create(name="另一县", kind=OrganizationKind.COUNTY, code="999999")
    Matter.objects.filter(pk=matter.pk).update(title="改过")
    check = LedgerCheck.objects.get(pk=check_ledger())
    assert check.ok is False
    assert (check.bad_model, check.bad_pk) == ("flows.Matter", matter.pk)
    assert "title" in check.reason
    warnings = EarlyWarning.objects.filter(rule=WarningRule.LEDGER_CHECK_FAILED)
    assert {warning.organization for warning in warnings} == {world.county, other_county}
    assert {warning.level for warning in warnings} == {WarningLevel.RED}
    assert all(check.reason in warning.detail for warning in warnings)
    # The next scheduled run finds the same problem: the open warnings stay, no new ones.
    check_ledger()
    assert EarlyWarning.objects.filter(rule=WarningRule.LEDGER_CHECK_FAILED).count() == 2


def test_the_command_stores_its_result_too(world, capsys):
    proposed(world)
    call_command("verify_ledger")
    assert "OK" in capsys.readouterr().out
    check = LedgerCheck.objects.get()
    assert (check.trigger, check.check_files, check.ok) == (LedgerCheck.Trigger.COMMAND, True, True)
    call_command("verify_ledger", "--no-files")
    assert LedgerCheck.objects.filter(check_files=False, trigger=LedgerCheck.Trigger.COMMAND).count() == 1


def test_the_command_checking_one_matter_stores_nothing(world, capsys):
    matter = proposed(world)
    call_command("verify_ledger", matter=matter.pk)
    assert not LedgerCheck.objects.exists()


def test_the_checks_are_not_entered_in_the_log(world):
    """Derived from the log and redone at will: logging them would only grow the log they check."""
    proposed(world)
    check_ledger()
    before = LedgerEntry.objects.count()
    check_ledger()
    assert LedgerEntry.objects.count() == before
    assert not LedgerEntry.objects.filter(object_type="LedgerCheck").exists()


def test_one_check_at_a_time(world):
    """A second check while one runs (here: the lock held by another connection) does nothing."""
    if connection.vendor != "postgresql":
        pytest.skip("the lock is PostgreSQL's; SQLite runs one writer anyway")
    params = connection.settings_dict
    other = psycopg.connect(
        dbname=params["NAME"],
        user=params["USER"],
        password=params["PASSWORD"] or None,
        host=params["HOST"] or "localhost",
        port=params["PORT"] or 5432,
        autocommit=True,
    )
    try:
        other.execute("SELECT pg_advisory_lock(%s)", [LEDGER_CHECK_LOCK_KEY])
        assert ledger_check_run(check_files=False, trigger=LedgerCheck.Trigger.SCHEDULE) is None
        assert check_ledger() is None
        with pytest.raises(CommandError, match="Another check"):
            call_command("verify_ledger")
        assert not LedgerCheck.objects.exists()
        other.execute("SELECT pg_advisory_unlock(%s)", [LEDGER_CHECK_LOCK_KEY])
    finally:
        other.close()
    assert check_ledger() is not None
    # The lock is let go after each check: the next one runs.
    assert check_ledger() is not None


def test_beat_checks_the_log_every_quarter_hour_and_the_files_nightly():
    app.loader.import_default_modules()
    checks = [entry for entry in app.conf.beat_schedule.values() if entry["task"] == "documents.tasks.check_ledger"]
    by_files = {entry["kwargs"]["check_files"]: entry["schedule"] for entry in checks}
    assert by_files[False] == settings.LEDGER_CHECK_SECONDS == 900
    nightly = by_files[True]
    assert isinstance(nightly, crontab)
    assert nightly.hour == {settings.LEDGER_FILE_CHECK_HOUR}


def test_a_log_growing_between_checks_is_covered_by_the_next(world):
    proposed(world)
    first = LedgerCheck.objects.get(pk=check_ledger())
    ledger_append(kind=LedgerKind.DECISION, object_type="Test", object_id="t1", payload={"n": 1})
    second = LedgerCheck.objects.get(pk=check_ledger())
    assert second.head_size == first.head_size + 1
    assert second.ok
