"""The sweep writes the warnings it raises in bulk: its queries do not grow with the number of warnings."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from flows.models import Notification, NotificationKind
from registers.models import AssetStatus, EarlyWarning, WarningRule
from registers.warnings import warnings_scan
from tests.registers.test_contracts import make_asset

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def idle_assets(organization, count: int) -> None:
    for _ in range(count):
        asset = make_asset(organization, status=AssetStatus.IDLE)
        # Saved, not updated: an asset card is a row the tamper-evident log covers.
        asset.idle_since = timezone.localdate() - 200 * DAY
        asset.save()


def scan_queries() -> tuple[int, list[EarlyWarning]]:
    with CaptureQueriesContext(connection) as captured:
        raised = warnings_scan()
    return len(captured.captured_queries), raised


def test_the_first_sweep_writes_warnings_and_their_notifications_in_bulk(world):
    idle_assets(world.collective_a1, 2)
    few, raised_few = scan_queries()
    idle_assets(world.collective_a1, 12)
    idle_assets(world.collective_a2, 3)
    many, raised_many = scan_queries()
    assert (len(raised_few), len(raised_many)) == (2, 15)
    # One more collective means one more read of who hears of it; the number of warnings adds nothing.
    assert many <= few + 1, (few, many)
    assert all(warning.pk for warning in raised_many)
    assert EarlyWarning.objects.filter(rule=WarningRule.ASSET_IDLE).count() == 17
    # Every warning has its history row and its notifications, as one raised on its own has.
    for warning in raised_many:
        assert warning.history.count() == 1
    rows = Notification.objects.filter(kind=NotificationKind.WARNING)
    per_warning = {row.data["warning"] for row in rows}
    assert per_warning == set(EarlyWarning.objects.values_list("pk", flat=True))
    assert rows.filter(recipient=world.officer_a).count() == 17
    assert rows.filter(recipient=world.supervisor_a2).count() == 3
    assert not rows.filter(recipient=world.supervisor_a1, data__warning__in=[w.pk for w in raised_many[12:]])


def test_a_second_sweep_raises_nothing_and_keeps_one_row_per_subject(world):
    idle_assets(world.collective_a1, 3)
    assert len(warnings_scan()) == 3
    assert warnings_scan() == []
    assert EarlyWarning.objects.count() == 3
    assert Notification.objects.filter(kind=NotificationKind.WARNING, recipient=world.officer_a).count() == 3
