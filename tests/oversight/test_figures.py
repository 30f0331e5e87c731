"""The statistics' summary tables: rebuilt from the rows, added up per part of the tree without loading rows."""

import datetime
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from flows.models import Decision, Matter, MatterStatus, Step
from flows.services import matter_withdraw
from oversight.figures import figures_rebuild, figures_refresh, local_month, overview, percentile
from oversight.models import MonthlyFigures, StepDurations
from oversight.tasks import pending_key
from registers.models import EarlyWarning, WarningLevel, WarningRule
from tests.drive import act, apply_purchase, run_to_end
from tests.workdesk import waiting_at

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def this_month():
    return local_month(timezone.now())


def table(result, key) -> dict:
    found = result.table(key)
    return {row[0]: row[1:] for row in found.rows}


@pytest.fixture
def year_of_work(world):
    """In A1: one archived purchase, one returned then withdrawn, one waiting at the township check."""
    archived = run_to_end(world, apply_purchase(world, total="8000.00", title="已归档"))
    returned = waiting_at(world, Step.CHECK_BY_TOWNSHIP, total="12000.00", title="被退回")
    act(world.officer_a, returned, decision=Decision.RETURN, opinion="补充材料", return_to=Step.APPLY)
    matter_withdraw(user=world.secretary_a1, matter_id=returned.pk, reason="暂缓")
    waiting = waiting_at(world, Step.CHECK_BY_TOWNSHIP, total="30000.00", title="在办")
    figures_refresh(organization_id=world.collective_a1.pk, month=this_month())
    return {"archived": archived, "returned": returned, "waiting": waiting}


def test_a_refresh_counts_the_collectives_month(world, year_of_work):
    row = MonthlyFigures.objects.get(organization=world.collective_a1, transaction_type="asset_purchase")
    assert (row.started, row.finished, row.withdrawn, row.rejected, row.returned, row.approved) == (3, 1, 1, 0, 1, 1)
    # Approved: the township's last word. The small purchase needs no leader, so the officer's check counts.
    assert row.approved_amount == Decimal("8000.00")
    steps = set(StepDurations.objects.filter(organization=world.collective_a1).values_list("step", flat=True))
    assert {Step.PROPOSE, Step.CHECK_BY_TOWNSHIP, Step.IMPLEMENT} <= steps


def test_a_refresh_twice_writes_the_same_rows(world, year_of_work):
    before = list(MonthlyFigures.objects.values("transaction_type", "started", "finished", "approved_amount"))
    figures_refresh(organization_id=world.collective_a1.pk, month=this_month())
    assert list(MonthlyFigures.objects.values("transaction_type", "started", "finished", "approved_amount")) == before


def test_the_rebuild_finds_every_month_with_activity(world, year_of_work):
    MonthlyFigures.objects.all().delete()
    assert figures_rebuild() == 1
    assert MonthlyFigures.objects.filter(organization=world.collective_a1).count() == 1


def test_the_county_overview_adds_up_its_townships(world, year_of_work):
    result = overview(world.county, year=timezone.localdate().year)
    months = table(result, "months")
    assert months[f"{this_month():%Y-%m}"][:6] == [3, 1, 1, 1, 0, 1]
    types = table(result, "types")
    assert types["Asset purchase"][:6] == [3, 1, 1, 1, 0, 1]  # applied, archived, returns, withdrawn, rejected, waiting
    places = table(result, "places")
    assert places["东湖镇"][:6] == [3, 1, 1, 1, 1, 0] and places["西山乡"][:6] == [0, 0, 0, 0, 0, 0]
    assert result.totals["approved_amount"] == Decimal("8000.00") and result.totals["waiting"] == 1


def test_a_township_overview_goes_down_to_its_villages(world, year_of_work):
    places = table(overview(world.township_a, year=timezone.localdate().year), "places")
    assert set(places) == {"柳树村", "桃园村"} and places["柳树村"][0] == 3


def test_another_township_sees_none_of_it(world, year_of_work):
    result = overview(world.township_b, year=timezone.localdate().year)
    assert result.totals["started"] == 0 and result.totals["waiting"] == 0


def test_overdue_tasks_are_counted_by_step_and_level(world, year_of_work):
    waiting = year_of_work["waiting"]
    Matter.objects.filter(pk=waiting.pk).update(step_since=timezone.now() - datetime.timedelta(days=7))
    overdue = table(overview(world.county, year=timezone.localdate().year), "overdue")
    assert overdue == {"Township officer check": [1, 1]}


def test_warnings_are_counted_by_rule_colour_and_state(world):
    for index, (level, handled) in enumerate([("red", False), ("red", True), ("yellow", False)]):
        EarlyWarning.objects.create(
            rule=WarningRule.CASH_OVER_LIMIT,
            level=level,
            organization=world.collective_a1,
            subject_key=f"cash:{index}",
            title="库存现金超限",
            handled_at=timezone.now() if handled else None,
        )
    warnings = table(overview(world.county, year=timezone.localdate().year), "warnings")
    assert warnings["Cash on hand over the limit"] == [2, 1, 0, 2, 1]
    assert WarningLevel.values == ["red", "yellow", "green"]


def test_days_per_step_are_median_and_ninetieth_percentile(world):
    assert percentile([(24, 5), (48, 4), (240, 1)], 0.5) == 1.0
    assert percentile([(24, 5), (48, 4), (240, 1)], 0.9) == 2.0
    assert percentile([(24, 5), (48, 4), (240, 1)], 1.0) == 10.0
    assert percentile([], 0.5) is None


def test_the_overview_runs_the_same_queries_whatever_the_number_of_matters(world):
    for n in range(2):
        run_to_end(world, apply_purchase(world, title=f"少{n}"))
    waiting_at(world, Step.CHECK_BY_TOWNSHIP, title="少在办")  # something open: the overdue counts run
    figures_rebuild()
    year = timezone.localdate().year
    with CaptureQueriesContext(connection) as few:
        overview(world.county, year=year)
    for n in range(6):
        run_to_end(world, apply_purchase(world, title=f"多{n}"))
    waiting_at(world, Step.CHECK_BY_TOWNSHIP)
    figures_rebuild()
    with CaptureQueriesContext(connection) as many:
        overview(world.county, year=year)
    assert len(few) == len(many)
    # Figures come from the summary tables: no query reads the matters' rows one by one.
    assert not any("flows_steprecord" in query["sql"] for query in many.captured_queries)


def test_a_committed_step_refreshes_its_month(world, settings, django_capture_on_commit_callbacks):
    settings.OVERSIGHT_REFRESH_AFTER_EVENTS = True
    with django_capture_on_commit_callbacks(execute=True):
        matter = apply_purchase(world, title="新申请")
    assert MonthlyFigures.objects.get(organization=world.collective_a1).started == 1
    assert Matter.objects.get(pk=matter.pk).status == MatterStatus.IN_PROGRESS


def test_events_of_one_moment_share_one_refresh(world, settings, django_capture_on_commit_callbacks, monkeypatch):
    settings.OVERSIGHT_REFRESH_AFTER_EVENTS = True
    queued = []
    monkeypatch.setattr("oversight.tasks.refresh_month.apply_async", lambda args, countdown: queued.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        apply_purchase(world, title="甲")
        apply_purchase(world, title="乙")
    assert queued == [(world.collective_a1.pk, this_month().isoformat())]
    assert cache.get(pending_key(world.collective_a1.pk, this_month())) == 1
