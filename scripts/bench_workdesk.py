"""Benchmark of the workdesk at growing sizes: keyset pages of the matter list, and the statistics overview.

For each size it prints, side by side with a reference measured in the same run:

- the matter list's page deep in the list (90 % of the way), fetched by keyset (``listing.keyset``), against
  the same page fetched by OFFSET with a COUNT, as ``Paginator`` would; and the list page through the view;
- the county's statistics (``oversight.figures.overview``, summary tables) against the reference of counting
  the same figures live from the matters' rows (GROUP BY month and type over ``flows_matter``).

A ratio below 1 means the product's way is faster; what matters is that its time stays flat as the size grows
while the reference grows. Query counts per page must not change with the size; a change is printed as a finding.

Runs on a throwaway database made by Django's test machinery: a SQLite file in a temporary directory, or with
``DATABASE_URL`` a PostgreSQL test database. Never touches ``var/``. Usage, from the repository root::

    .venv/bin/python scripts/bench_workdesk.py                # sizes 2000, 20000, 100000
    .venv/bin/python scripts/bench_workdesk.py 1000 5000      # other sizes

Matters are bulk copies of one matter made through the services (the services would take hours for 10⁵);
the measured functions and pages are the real ones.
"""

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
TEMP_DIR = Path(tempfile.mkdtemp(prefix="bench-workdesk-"))
os.environ["VAR_DIR"] = str(TEMP_DIR)
os.environ["DJANGO_SETTINGS_MODULE"] = "project.settings.test"
os.environ["PYTEST_XDIST_WORKER"] = "bench-workdesk"

import django  # noqa: E402

django.setup()

import datetime  # noqa: E402
from decimal import Decimal  # noqa: E402

from django.core.paginator import Paginator  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count, F  # noqa: E402
from django.db.models.functions import TruncMonth  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment, teardown_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

DEFAULT_SIZES = (2000, 20000, 100000)
REPEATS = 3
PAGE = 50


def timed(function) -> tuple[float, int]:
    """Median seconds over REPEATS runs after a warm-up, and the queries of one run."""
    function()
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    with CaptureQueriesContext(connection) as queries:
        function()
    return statistics.median(times), len(queries)


class Data:
    def __init__(self):
        from tests.conftest import build_world
        from tests.drive import apply_purchase

        self.world = build_world()
        self.template = apply_purchase(self.world)
        self.collectives = [self.world.collective_a1, self.world.collective_a2, self.world.collective_b1]
        self.size = 1

    def grow(self, size: int) -> None:
        from flows.models import Matter, MatterStatus, Step
        from oversight.models import MonthlyFigures

        template = self.template
        now = timezone.now()
        batch = []
        steps = [Step.PROPOSE, Step.CHECK_BY_TOWNSHIP, Step.APPROVE_BY_TOWNSHIP, Step.IMPLEMENT]
        for index in range(self.size, size):
            created = now - datetime.timedelta(hours=index % (24 * 365))
            archived = index % 10 != 0  # a county's years of matters: most are archived, a tenth open
            batch.append(
                Matter(
                    organization=self.collectives[index % 3],
                    transaction_type=template.transaction_type,
                    title=f"购置 {index:06d}",
                    amount=Decimal(1000 + (index * 37) % 90000),
                    applicant_id=template.applicant_id,
                    rule_version_id=template.rule_version_id,
                    band_id=template.band_id,
                    required_steps=template.required_steps,
                    next_step="end" if archived else steps[index % 4],
                    step_since=created,
                    status=MatterStatus.ARCHIVED if archived else MatterStatus.IN_PROGRESS,
                    finished_at=created if archived else None,
                )
            )
            if len(batch) == 5000:
                Matter.objects.bulk_create(batch)
                batch = []
        Matter.objects.bulk_create(batch)
        # created_at is auto_now_add: spread the copies over the past year, as their waits are.
        Matter.objects.exclude(pk=template.pk).update(created_at=F("step_since"))
        self.size = size
        # The summary rows the nightly rebuild would write: one per collective, month and type.
        MonthlyFigures.objects.all().delete()
        rows = []
        for collective in self.collectives:
            for month in range(1, 13):
                rows.append(
                    MonthlyFigures(
                        organization=collective,
                        month=datetime.date(now.year, month, 1),
                        transaction_type=template.transaction_type,
                        started=size // 36,
                        finished=size // 108,
                        approved=size // 108,
                        approved_amount=Decimal(size) * 100,
                    )
                )
        MonthlyFigures.objects.bulk_create(rows)


def deep_page_keyset(user, size):
    from flows.filters import MATTER_LIST_SORTING
    from flows.selectors import matters_for
    from listing.keyset import encode_cursor, keyset_page

    queryset = matters_for(user)
    depth = int(size * 0.9)
    boundary = queryset.order_by("-created_at", "-pk")[depth : depth + 1].values_list("created_at", "pk").first()
    cursor = encode_cursor("-applied", list(boundary))

    def run():
        return list(keyset_page(queryset, sorting=MATTER_LIST_SORTING, sort="-applied", after=cursor, size=PAGE))

    return run


def deep_page_offset(user, size):
    from flows.selectors import matters_for

    queryset = matters_for(user).order_by("-created_at", "-pk")
    number = int(size * 0.9) // PAGE + 1

    def run():
        paginator = Paginator(queryset, PAGE)
        return list(paginator.get_page(number)), paginator.num_pages

    return run


def live_statistics(county):
    from flows.models import Matter

    def run():
        scope = Matter.objects.filter(organization__path__startswith=county.path)
        return (
            list(
                scope.annotate(month=TruncMonth("created_at"))
                .values("month", "transaction_type")
                .annotate(n=Count("pk"))
            ),
            list(scope.filter(status="in_progress").values("transaction_type").annotate(n=Count("pk"))),
            list(scope.values("organization__parent__parent").annotate(n=Count("pk"))),
        )

    return run


def main(sizes) -> int:
    from django.conf import settings
    from django.test.utils import get_runner

    setup_test_environment()
    runner = get_runner(settings)(verbosity=0, interactive=False)
    old = runner.setup_databases()
    findings = []
    try:
        data = Data()
        inspector = data.world.inspector
        client = Client()
        client.force_login(inspector)
        from oversight.figures import overview

        print(
            f"{'size':>8} | {'keyset page':>12} {'offset page':>12} {'ratio':>6} | {'list view':>10} q | "
            f"{'overview':>9} q {'live GROUP BY':>14} {'ratio':>6}"
        )
        counts = {}
        for size in sizes:
            data.grow(size)
            keyset_time, keyset_queries = timed(deep_page_keyset(inspector, size))
            offset_time, _ = timed(deep_page_offset(inspector, size))
            view_time, view_queries = timed(lambda: client.get(reverse("flows:matter_list") + "?sort=-amount"))
            county, year = data.world.county, timezone.localdate().year
            overview_time, overview_queries = timed(lambda county=county, year=year: overview(county, year=year))
            live_time, _ = timed(live_statistics(county))
            keyset_ratio = keyset_time / offset_time
            print(
                f"{size:>8} | {keyset_time * 1000:>10.1f}ms {offset_time * 1000:>10.1f}ms {keyset_ratio:>6.2f} | "
                f"{view_time * 1000:>8.1f}ms {view_queries:>2} | {overview_time * 1000:>7.1f}ms {overview_queries:>2} "
                f"{live_time * 1000:>12.1f}ms {overview_time / live_time:>6.2f}"
            )
            counts.setdefault("keyset page", set()).add(keyset_queries)
            counts.setdefault("matter list view", set()).add(view_queries)
            counts.setdefault("overview", set()).add(overview_queries)
        for name, seen in counts.items():
            if len(seen) > 1:
                findings.append(f"FINDING: the {name} runs {sorted(seen)} queries at different sizes")
        print("\n".join(findings) or "Query counts are the same at every size.")
    finally:
        runner.teardown_databases(old)
        teardown_test_environment()
        shutil.rmtree(TEMP_DIR, ignore_errors=True)
    return 0


if __name__ == "__main__":
    arguments = [int(value) for value in sys.argv[1:]]
    sys.exit(main(arguments or DEFAULT_SIZES))
