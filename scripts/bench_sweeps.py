"""Benchmark of the sweeps and lists that must not slow down as a county's data grows.

Measures, at a few data sizes, the time and the number of queries of:

- ``registers.warnings.warnings_scan()``: the early-warning sweep, cold (every subject new: it raises and
  announces each warning, so its writes grow with them) and again (nothing new: reads only);
- ``flows.reminders.due_reminders()``: the selection of overdue tasks for 催办 and escalation;
- ``flows.selectors.inbox_for(leader)``: the township leader's inbox, evaluated, and the inbox page;
- ``flows.notifications.notifications_after(leader, 0)``: what the live stream sends first;
- the notification centre and the early-warning list, fetched through ``django.test.Client``.

House rule: speed is measured by benchmarks, not timed tests, and a list keeps a fixed query count
whatever the data size. A count that grows with the size is printed as a finding; the script still exits 0.

Runs on a throwaway database made and destroyed by Django's test machinery: a SQLite file in a temporary
directory (which also holds every other runtime file), or with ``DATABASE_URL`` a PostgreSQL test database.
Never touches ``var/``. Usage, from the repository root::

    .venv/bin/python scripts/bench_sweeps.py            # sizes 50, 200, 800
    .venv/bin/python scripts/bench_sweeps.py 30 120     # other sizes

The services are too slow to make hundreds of matters in a benchmark, so three template matters go
through the real services (apply, propose, meetings, publication, township check) and are copied in bulk
with their process, open task and records; payments, contracts, assets, notices and notifications are
bulk-created beside them. The measured functions and pages are the real ones.
"""

import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
# Every runtime file (SQLite database, broker file, uploads) goes to a temporary directory, never var/.
TEMP_DIR = Path(tempfile.mkdtemp(prefix="bench-sweeps-"))
os.environ["VAR_DIR"] = str(TEMP_DIR)
os.environ["DJANGO_SETTINGS_MODULE"] = "project.settings.test"
# The test settings keep the cache, Celery queue and channel prefix of each test worker apart by this name:
# with REDIS_URL set, the benchmark then shares no keys with a test run going on at the same time.
os.environ["PYTEST_XDIST_WORKER"] = "bench-sweeps"

import django  # noqa: E402

django.setup()

import datetime  # noqa: E402
from decimal import Decimal  # noqa: E402

from django.db import connection  # noqa: E402
from django.db.models import Model  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment, teardown_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402
from viewflow.workflow.models import Process, Task  # noqa: E402

DEFAULT_SIZES = (50, 200, 800)
# Each measurement runs once to warm up (templates, caches), then this many times; the median time is shown.
REPEATS = 3
DAY = datetime.timedelta(days=1)


def copy_row(obj: Model, **changes) -> Model:
    """An unsaved copy of a row with its concrete fields (primary key left out) and ``changes``."""
    values = {
        field.attname: getattr(obj, field.attname) for field in obj._meta.concrete_fields if not field.primary_key
    }
    values.update(changes)
    return type(obj)(**values)


def building(collective, index: int, name: str, value: str, status: str, **extra):
    """An unsaved building of the collective (code ``<village>-ZC<index>``), bought in 2020 for ``value``."""
    from registers.models import Asset

    return Asset(
        organization=collective,
        code=f"{collective.code}-ZC{index:05d}",
        name=name,
        category="房屋",
        unit_price=Decimal(value),
        original_value=Decimal(value),
        acquired_on=datetime.date(2020, 5, 1),
        status=status,
        **extra,
    )


class Data:
    """The world of the test suite, three template matters, and bulk copies up to a size."""

    def __init__(self):
        from flows.models import Step
        from registers.models import AccountKind, FundAccount
        from tests.conftest import build_world
        from tests.drive import apply_purchase

        self.world = world = build_world()
        self.collectives = [world.collective_a1, world.collective_a2, world.collective_b1]
        version = world.rule_version
        self.version = version
        # Real services: one matter waiting for the proposal, one for the township check, one for the leader.
        self.templates = {
            Step.PROPOSE: apply_purchase(world),
            Step.CHECK_BY_TOWNSHIP: self._drive(apply_purchase(world), Step.CHECK_BY_TOWNSHIP),
            Step.APPROVE_BY_TOWNSHIP: self._drive(
                apply_purchase(world, total="60000.00", quotations=3), Step.APPROVE_BY_TOWNSHIP
            ),
        }
        self.banks = {}
        self.cash = {}
        for number, collective in enumerate(self.collectives):
            self.banks[collective.pk] = FundAccount.objects.create(
                organization=collective, name="基本存款账户", opening_balance=Decimal("900000.00")
            )
            # The first collective's cash box is over the county's limit.
            opening = version.cash_limit * Decimal("1.5") if number == 0 else Decimal("1000.00")
            self.cash[collective.pk] = FundAccount.objects.create(
                organization=collective, name="库存现金", kind=AccountKind.CASH, opening_balance=opening
            )
        self.size = 0

    def _drive(self, matter, stop_at: str):
        from flows.models import Decision, Step
        from tests.drive import act, end_publication, hold_meeting, refresh

        world = self.world
        for _ in range(20):
            matter = refresh(matter)
            step = matter.next_step
            if step == stop_at:
                return matter
            if step == Step.PROPOSE:
                act(world.secretary_a1, matter)
            elif step in (Step.DELIBERATE, Step.REVIEW_BY_PARTY_MEMBERS, Step.RESOLVE_BY_MEMBERS):
                hold_meeting(world, matter)
            elif step == Step.PUBLISH_RESOLUTION:
                end_publication(matter)
            elif step == Step.CHECK_BY_TOWNSHIP:
                act(world.officer_a, matter, decision=Decision.AGREE)
            else:
                break
        raise RuntimeError(f"template matter stuck at {matter.next_step}, wanted {stop_at}")

    def grow(self, size: int) -> None:
        """Add open matters (with their process, task and records) and registers up to ``size`` matters."""
        from flows.models import AssetPurchase, Matter, Notice, NoticeKind, Objection, PurchaseItem, Step, StepRecord
        from flows.services import ACTIVE

        indexes = range(self.size, size)
        if not indexes:
            return
        now = timezone.now()
        plan = []  # (index, template step, collective)
        for index in indexes:
            kind = index % 10
            step = (
                Step.APPROVE_BY_TOWNSHIP if kind < 4 else Step.PROPOSE if kind < 7 else Step.CHECK_BY_TOWNSHIP
            ).value
            plan.append((index, step, self.collectives[index % 3]))
        sources = {}
        for step, template in self.templates.items():
            sources[step.value] = {
                "matter": template,
                "process": template.process,
                "tasks": list(Task.objects.filter(process_id=template.process_id, status__in=ACTIVE)),
                "records": list(StepRecord.objects.filter(matter=template)),
                "purchase": template.asset_purchase,
                "items": list(template.asset_purchase.items.all()),
            }
        processes = Process.objects.bulk_create(
            [copy_row(sources[step]["process"], created=now - (index % 30) * DAY) for index, step, _ in plan]
        )
        tasks = []
        for (index, step, _), process in zip(plan, processes, strict=True):
            # Tasks have waited 0 to 29 days (and an hour): with the default 3 + 3 days most are overdue.
            created = now - (index % 30) * DAY - datetime.timedelta(hours=1)
            tasks += [copy_row(task, process_id=process.pk, created=created) for task in sources[step]["tasks"]]
        Task.objects.bulk_create(tasks)
        matters = Matter.objects.bulk_create(
            [
                copy_row(
                    sources[step]["matter"],
                    process_id=process.pk,
                    organization_id=collective.pk,
                    title=f"{sources[step]['matter'].title} {index:04d}",
                )
                for (index, step, collective), process in zip(plan, processes, strict=True)
            ]
        )
        purchases = []
        for (index, step, _), matter in zip(plan, matters, strict=True):
            # Every twentieth pair (same collective, three apart) buys from one supplier: a split purchase.
            supplier = f"联合供应商{index // 20}" if index % 20 in (0, 3) else f"供应商{index:04d}"
            purchases.append(
                copy_row(
                    sources[step]["purchase"],
                    matter_id=matter.pk,
                    chosen_supplier=supplier,
                    reason=f"{sources[step]['purchase'].reason}（{index:04d}）",
                )
            )
        purchases = AssetPurchase.objects.bulk_create(purchases)
        PurchaseItem.objects.bulk_create(
            [
                copy_row(item, purchase_id=purchase.pk)
                for (_, step, _), purchase in zip(plan, purchases, strict=True)
                for item in sources[step]["items"]
            ]
        )
        StepRecord.objects.bulk_create(
            [
                copy_row(record, matter_id=matter.pk, task_id=None, meeting_id=None)
                for (_, step, _), matter in zip(plan, matters, strict=True)
                for record in sources[step]["records"]
            ]
        )
        by_index = {
            index: (step, collective, matter) for (index, step, collective), matter in zip(plan, matters, strict=True)
        }
        self._registers(by_index, now)
        notices = Notice.objects.bulk_create(
            [
                Notice(
                    matter=matter,
                    organization=collective,
                    kind=NoticeKind.RESOLUTION,
                    title=f"决议公开：{matter.title}",
                    body="决议内容",
                    published_at=now - 10 * DAY,
                    ends_at=now - 3 * DAY,
                )
                for index, (step, collective, matter) in by_index.items()
                if index % 20 == 7
            ]
        )
        Objection.objects.bulk_create(
            [
                Objection(notice=notice, name="村民", phone="13800000000", text="价格偏高", client_key="bench")
                for notice in notices
            ]
        )
        self._notifications(by_index, now)
        self.size = size

    def _registers(self, by_index: dict, now) -> None:
        """Payments (a quarter of the matters), contracts with instalments (a quarter), idle assets (an eighth)."""
        from registers.models import (
            Asset,
            AssetStatus,
            Contract,
            ContractKind,
            ContractPayment,
            Direction,
            FundMovement,
            Resource,
            ResourceKind,
        )

        today = timezone.localdate()
        movements, contracts, assets, resources = [], [], [], {}
        for index, (_step, collective, matter) in by_index.items():
            bank = self.banks[collective.pk]
            if index % 4 == 0:
                # A payment: every other one with no matter at all, the rest for a matter not yet approved.
                movements.append(
                    FundMovement(
                        account=bank,
                        direction=Direction.OUT,
                        amount=Decimal(1000 + index),
                        occurred_on=today - (index % 20) * DAY,
                        counterparty=f"收款单位{index:04d}",
                        purpose="道路修缮",
                        matter=None if index % 8 == 0 else matter,
                    )
                )
            elif index % 4 == 1:
                account = self.cash[collective.pk] if index % 8 == 1 else bank
                movements.append(
                    FundMovement(
                        account=account,
                        direction=Direction.IN,
                        amount=Decimal("500.00"),
                        occurred_on=today - (index % 20) * DAY,
                        counterparty="承包户",
                        purpose="承包费",
                    )
                )
            elif index % 4 == 2:
                contracts.append((index, collective))
            if index % 8 == 3:
                assets.append(
                    building(
                        collective,
                        index,
                        f"闲置仓库{index}",
                        "80000.00",
                        AssetStatus.IDLE,
                        idle_since=today - 200 * DAY,
                    )
                )
        FundMovement.objects.bulk_create(movements)
        leased = []
        for index, collective in contracts:
            if index % 8 == 2:
                resources[index] = Resource(
                    organization=collective,
                    code=f"{collective.code}-ZY{index:05d}",
                    name=f"东坡耕地{index}",
                    kind=ResourceKind.CULTIVATED,
                    location="村东",
                    area_mu=Decimal("35.50"),
                )
            else:
                leased.append(building(collective, index, f"门面房{index}", "120000.00", AssetStatus.LEASED))
        Resource.objects.bulk_create(resources.values())
        leased_by_code = {asset.code: asset for asset in Asset.objects.bulk_create(assets + leased)}
        rows = []
        for index, collective in contracts:
            # Ends: one in eight soon (green), one in eight already (yellow), the rest in a year or more.
            if index % 16 == 2:
                end = today + 10 * DAY
            elif index % 16 == 6:
                end = today - 5 * DAY
            else:
                end = today + (365 + index % 300) * DAY
            subject = (
                {"resource": resources[index]}
                if index in resources
                else {"asset": leased_by_code[f"{collective.code}-ZC{index:05d}"]}
            )
            rows.append(
                Contract(
                    organization=collective,
                    code=f"{collective.code}-HT{index:05d}",
                    kind=ContractKind.CONTRACTING if index in resources else ContractKind.LEASE,
                    counterparty=f"承包方{index:04d}",
                    start_date=today - 400 * DAY,
                    end_date=end,
                    # One in twelve reaches the trading threshold with no platform reference.
                    amount=Decimal("60000.00") if index % 12 == 2 else Decimal("30000.00"),
                    trading_reference="" if index % 12 == 2 else f"SXNCJY-{index:05d}",
                    **subject,
                )
            )
        contracts_made = Contract.objects.bulk_create(rows)
        instalments = []
        for (index, _), contract in zip(contracts, contracts_made, strict=True):
            for days in (-300, -200, -100, -20, 80, 180):
                # One contract in four has its last two past instalments unpaid (one red, one yellow).
                unpaid = days > 0 or (index % 8 == 6 and days in (-100, -20))
                due = today + days * DAY
                instalments.append(
                    ContractPayment(
                        contract=contract, due_on=due, amount=Decimal("7500.00"), paid_on=None if unpaid else due
                    )
                )
        ContractPayment.objects.bulk_create(instalments)

    def _notifications(self, by_index: dict, now) -> None:
        """Two notifications per matter to the people who hold its step, half of them read."""
        from flows.models import Notification, NotificationKind

        world = self.world
        holders = {
            "approve_by_township": {world.township_a.pk: world.leader_a, world.township_b.pk: world.leader_b},
            "check_by_township": {world.township_a.pk: world.officer_a, world.township_b.pk: world.officer_b},
        }
        rows = []
        for index, (step, collective, matter) in by_index.items():
            township_id = collective.parent.parent_id
            recipient = holders.get(step, {}).get(township_id)
            if recipient is None:
                recipient = world.secretary_a1 if collective == world.collective_a1 else world.secretary_b1
            for kind in (NotificationKind.TASK_NEW, NotificationKind.MATTER_PROGRESS):
                rows.append(
                    Notification(
                        recipient=recipient,
                        kind=kind,
                        title=f"新的待办：{matter.title}",
                        url=matter.get_absolute_url(),
                        matter=matter,
                        data={"step": step},
                        read_at=now if index % 2 else None,
                    )
                )
        Notification.objects.bulk_create(rows)


# --- measuring -----------------------------------------------------------------------------


class Bench:
    def __init__(self):
        self.rows: list[tuple[str, int, int, float, int]] = []  # (what, size, result rows, seconds, queries)
        self.shapes: dict[tuple[str, int], Counter] = {}  # the statements of the last run, numbers and strings blanked

    def measure(self, what: str, size: int, function, *, repeats: int = REPEATS, warm: bool = True) -> object:
        if warm:
            function()
        times, statements, result = [], [], None
        for _ in range(repeats):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                result = function()
                times.append(time.perf_counter() - started)
            statements = captured.captured_queries
        queries = len(statements)
        self.shapes[(what, size)] = Counter(shape(query["sql"]) for query in statements)
        count = result if isinstance(result, int) else len(result)
        self.rows.append((what, size, count, statistics.median(times), queries))
        print(f"  {what:<44} {size:>5} {count:>7} {statistics.median(times):>9.3f} {queries:>8}", flush=True)
        return result


def shape(sql: str) -> str:
    """A statement with its literals blanked, so repeats of one query count together."""
    sql = re.sub(r"^SELECT (DISTINCT )?.*? FROM ", r"SELECT \1… FROM ", sql)  # the column list says little
    sql = re.sub(r"'(?:[^']|'')*'", "?", sql)
    sql = re.sub(r"\b\d+(?:\.\d+)?\b", "?", sql)
    return re.sub(r"\s+", " ", sql)


def page(client: Client, url: str, rows_of):
    def fetch():
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}")
        return rows_of(response)

    return fetch


def run(sizes: list[int]) -> Bench:
    from flows.models import Notification, NotificationKind
    from flows.notifications import notifications_after
    from flows.reminders import due_reminders
    from flows.selectors import inbox_for
    from registers.models import EarlyWarning
    from registers.warnings import warnings_scan

    started = time.perf_counter()
    data = Data()
    print(f"world and template matters made with the real services in {time.perf_counter() - started:.1f} s")
    leader = data.world.leader_a
    client = Client()
    client.force_login(leader)
    bench = Bench()
    print(f"\n  {'measured':<44} {'size':>5} {'rows':>7} {'seconds':>9} {'queries':>8}")
    for size in sizes:
        started = time.perf_counter()
        data.grow(size)
        print(f"-- {size} open matters (data added in {time.perf_counter() - started:.1f} s)", flush=True)
        # A cold sweep raises every warning of this size; the same sweep again finds nothing new.
        EarlyWarning.objects.all().delete()
        Notification.objects.filter(kind=NotificationKind.WARNING).delete()
        bench.measure("warnings_scan() cold: raises all", size, warnings_scan, repeats=1, warm=False)
        bench.measure("warnings_scan() again: nothing new", size, warnings_scan)
        bench.measure("due_reminders()", size, due_reminders)

        def inbox():
            leader_fresh = type(leader).objects.get(pk=leader.pk)  # no cached posts: as a new request
            return list(inbox_for(leader_fresh))

        bench.measure("inbox_for(township leader), evaluated", size, inbox)
        bench.measure("notifications_after(township leader, 0)", size, lambda: notifications_after(leader, 0))
        bench.measure("GET / (inbox page)", size, page(client, reverse("flows:inbox"), lambda r: r.context["matters"]))
        bench.measure(
            "GET /notifications/ (centre)",
            size,
            page(client, reverse("flows:notifications"), lambda r: r.context["page"].object_list),
        )
        bench.measure(
            "GET /registers/warnings/ (open)",
            size,
            page(client, reverse("registers:warning_list"), lambda r: r.context["page"].object_list),
        )
    return bench


def report(bench: Bench, sizes: list[int]) -> None:
    print("\nQuery counts by size (" + " → ".join(str(size) for size in sizes) + "):")
    findings = []
    for what in dict.fromkeys(row[0] for row in bench.rows):
        rows = [row for row in bench.rows if row[0] == what]
        counts = [row[4] for row in rows]
        grows = counts[-1] > counts[0]
        print(f"  {what:<44} {' → '.join(str(count) for count in counts):<24} {'GROWS' if grows else 'fixed'}")
        if grows:
            findings.append((what, rows))
    if not findings:
        print("\nEvery query count stays fixed whatever the data size.")
        return
    print("\nFINDINGS (not failures): query counts that grow with the data size")
    for what, rows in findings:
        detail = ", ".join(f"{row[4]} queries for {row[2]} rows at size {row[1]}" for row in rows)
        print(f"  NOTE: {what}: {detail}")
        first, last = bench.shapes[(what, rows[0][1])], bench.shapes[(what, rows[-1][1])]
        grown = sorted(((last[sql] - first[sql], sql) for sql in last if last[sql] > first[sql]), reverse=True)
        for extra, sql in grown[:2]:
            print(f"        {first[sql]} → {last[sql]} times (+{extra}): {sql[:150]}")
        if "cold" in what:
            per = [f"{row[4] / row[2]:.1f}" for row in rows if row[2]]
            print(
                "        expected for a cold sweep: each new warning is written and announced "
                f"({'/'.join(per)} queries per warning raised); only the repeat sweep must stay fixed."
            )


def main() -> int:
    sizes = [int(arg) for arg in sys.argv[1:]] or list(DEFAULT_SIZES)
    started = time.perf_counter()
    try:
        setup_test_environment()
        if connection.vendor == "sqlite":
            connection.settings_dict["TEST"]["NAME"] = str(TEMP_DIR / "bench.sqlite3")
        else:
            # A name of its own: the test suite's database (test_<name>) may be in use by a run going on now.
            connection.settings_dict["TEST"]["NAME"] = f"test_bench_sweeps_{os.getpid()}"
        test_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
        try:
            print(f"bench_sweeps: {connection.vendor} test database, migrated in {time.perf_counter() - started:.1f} s")
            bench = run(sizes)
            report(bench, sizes)
        finally:
            connection.creation.destroy_test_db(test_name, verbosity=0, keepdb=False)
            teardown_test_environment()
    finally:
        shutil.rmtree(TEMP_DIR, ignore_errors=True)
    print(f"\ndone in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
