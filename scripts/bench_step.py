"""Benchmark of one step: the product's spine beside bare viewflow 2.4, and steps per second beside pgbench.

1. Per step, in one process and one run, alternating: a matter driven from application to archive
   through the product's services (flows/services.py: ``matter_apply``, ``step_perform``,
   ``meeting_record``, ``publication_try_close``) and a process of the same shape driven through a
   bare viewflow flow (scripts/bench/bare_flow.py: the same nodes, the same route Switch after every
   step, only viewflow's own rows). Each step's time and SQL queries (BEGIN, COMMIT and savepoints
   included, as Django logs them), and the ratio product / bare. Ratios are the output: absolute times
   depend on the machine and on what else runs on it.
2. PostgreSQL only: pgbench's TPC-B (scale 1) at 1 and 2 clients beside steps per second of the product
   and of the bare flow at 1 and 2 clients (each client a process of its own driving whole matters).

Runs on throwaway databases (a test database beside ``DATABASE_URL``, or a SQLite file in a temporary
directory); never touches var/. Without arguments it runs on SQLite, then on PostgreSQL when
``DATABASE_URL`` (or postgres://postgres@127.0.0.1:5432/postgres) answers. Usage::

    .venv/bin/python scripts/bench_step.py [--size N] [--matters M] [--seconds S] [--database sqlite|postgresql]

``--size`` is how many finished matters (with their processes, tasks, step records, notifications and
leaves) lie in the database before the timing starts: the per-step figures must not grow with it.
"""

import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/postgres"
AMOUNT = "60000.00"  # a band that needs every step of the spine
DEFAULT_SIZE = 1000
LARGE_SIZE = 100_000


def arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size", type=int, nargs="?", const=LARGE_SIZE, default=DEFAULT_SIZE)
    parser.add_argument("--matters", type=int, default=4, help="timed matters of each kind")
    parser.add_argument("--seconds", type=int, default=10, help="pgbench run time per client count")
    parser.add_argument("--client-matters", type=int, default=3, help="matters each concurrent client drives")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), help="run one database only (in-process)")
    parser.add_argument("--result", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# --- the parent: one child process per database ---------------------------------------------------


def postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL") or DEFAULT_PG
    try:
        import psycopg
    except ImportError:
        return None
    try:
        with psycopg.connect(url.replace("postgres://", "postgresql://", 1), connect_timeout=3):
            return url
    except Exception:
        return None


def run_parent(args) -> int:
    started = time.perf_counter()
    results = {}
    pg = postgres_url()
    plans = [("sqlite", None)] + ([("postgresql", pg)] if pg else [])
    for vendor, url in plans:
        env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
        if url:
            env["DATABASE_URL"] = url
        env["PYTHONPATH"] = str(REPO)
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
            out = handle.name
        command = [sys.executable, __file__, "--database", vendor, "--result", out]
        command += ["--size", str(args.size), "--matters", str(args.matters), "--seconds", str(args.seconds)]
        command += ["--client-matters", str(args.client_matters)]
        code = subprocess.call(command, env=env, cwd=REPO)
        if code:
            return code
        results[vendor] = json.loads(Path(out).read_text())
        os.unlink(out)
    if not pg:
        print("\n(PostgreSQL not reachable: set DATABASE_URL to include it)")
    summary(results)
    print(f"\ndone in {time.perf_counter() - started:.0f} s")
    return 0


def summary(results: dict) -> None:
    print("\n== summary: the product's step beside bare viewflow 2.4 (targets of issue 15)")
    print(f"{'measure':44} {'bare':>10} {'product':>10} {'ratio':>7}  target")
    for vendor, result in results.items():
        bare, product = result["bare"], result["product"]
        print(
            f"{'time per step, ' + vendor + ' (ms)':44} {bare['ms']:10.1f} {product['ms']:10.1f}"
            f" {product['ms'] / bare['ms']:7.2f}  ≤ 2×"
        )
        print(
            f"{'SQL queries per step, ' + vendor:44} {bare['queries']:10.1f} {product['queries']:10.1f}"
            f" {product['queries'] / bare['queries']:7.2f}  ≤ 25 (largest step {product['max_queries']})"
        )
        clients = result.get("clients")
        if clients:
            tps = clients["pgbench"]
            rate = {kind: clients[kind] for kind in ("bare", "product")}
            print(
                f"{'steps/s ÷ pgbench TPC-B tps, 1 client':44} {rate['bare']['1'] / tps['1']:10.3f}"
                f" {rate['product']['1'] / tps['1']:10.3f} {'':7}  ≥ 0.08"
            )
            print(
                f"{'steps/s, 2 clients ÷ 1 client':44} {rate['bare']['2'] / rate['bare']['1']:10.2f}"
                f" {rate['product']['2'] / rate['product']['1']:10.2f} {'':7}  ≥ 1.8"
                f" (pgbench: {tps['2'] / tps['1']:.2f})"
            )


# --- the child: one database ----------------------------------------------------------------------


def run_child(args) -> int:
    temp_dir = Path(tempfile.mkdtemp(prefix="bench-step-"))
    os.environ["VAR_DIR"] = str(temp_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "scripts.bench.settings"
    os.environ["PYTEST_XDIST_WORKER"] = "bench-step"
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.db import connection, connections
    from django.test.utils import setup_test_environment, teardown_test_environment

    started = time.perf_counter()
    try:
        setup_test_environment()
        if connection.vendor == "sqlite":
            connection.settings_dict["TEST"]["NAME"] = str(temp_dir / "bench.sqlite3")
        else:
            connection.settings_dict["TEST"]["NAME"] = f"test_bench_step_{os.getpid()}"
        if connection.vendor != args.database:
            print(f"bench_step: asked for {args.database}, settings give {connection.vendor} (set DATABASE_URL)")
            return 2
        test_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
        try:
            result = bench_database(args)
        finally:
            connections.close_all()
            connection.creation.destroy_test_db(test_name, verbosity=0, keepdb=False)
            teardown_test_environment()
    finally:
        shutil.rmtree(temp_dir, ignore_errors=True)
    print(f"({connection.vendor} done in {time.perf_counter() - started:.0f} s)")
    if args.result:
        Path(args.result).write_text(json.dumps(result))
    return 0


class Timer:
    """Seconds and queries of each step, by step name; queries only while ``counting``."""

    def __init__(self):
        self.seconds: dict[str, list[float]] = {}
        self.queries: dict[str, list[int]] = {}
        self.counting = False

    def step(self, name, function, /, *args, **kwargs):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        if self.counting:
            with CaptureQueriesContext(connection) as captured:
                result = function(*args, **kwargs)
            self.queries.setdefault(name, []).append(len(captured.captured_queries))
            return result
        began = time.perf_counter()
        result = function(*args, **kwargs)
        self.seconds.setdefault(name, []).append(time.perf_counter() - began)
        return result


def village_of(world, number: int) -> dict:
    """Who acts for the matters of client ``number``: a collective of its own, as different villages are."""
    if number % 2 == 0:
        return {
            "collective": world.collective_a1,
            "secretary": world.secretary_a1,
            "cashier": world.cashier_a1,
            "supervisor": world.supervisor_a1,
        }
    return {
        "collective": world.collective_a2,
        "secretary": world.secretary_a2,
        "cashier": world.secretary_a2,
        "supervisor": world.supervisor_a2,
    }


def drive_product(world, timer: Timer, number: int = 0) -> int:
    """One matter from application to archive through the product's services; returns the steps taken."""
    from django.utils import timezone

    from flows import services
    from flows.models import END, Decision, Matter, Notice, Step
    from tests.conftest import purchase_data
    from tests.drive import MEETING_BODY_OF_STEP

    village = village_of(world, number)
    data = purchase_data(Decimal(AMOUNT), quotations=3)
    matter = timer.step(
        "apply",
        services.matter_apply,
        user=village["secretary"],
        organization=village["collective"],
        transaction_type="asset_purchase",
        data=data,
    )
    actors = {
        Step.PROPOSE: (village["secretary"], Decision.AGREE, "同意提议"),
        Step.CHECK_BY_TOWNSHIP: (world.officer_a, Decision.AGREE, "材料齐全"),
        Step.APPROVE_BY_TOWNSHIP: (world.leader_a, Decision.AGREE, "同意"),
        Step.IMPLEMENT: (village["cashier"], Decision.DONE, "已签订合同并付款"),
    }
    steps = 1
    while True:
        matter = Matter.objects.get(pk=matter.pk)
        step = matter.next_step
        if step == END:
            return steps
        if step in actors:
            user, decision, opinion = actors[step]
            task = services.active_task(matter, step)
            timer.step(step, services.step_perform, user=user, task_id=task.pk, decision=decision, opinion=opinion)
        elif step in (Step.DELIBERATE, Step.REVIEW_BY_PARTY_MEMBERS, Step.RESOLVE_BY_MEMBERS):
            body = MEETING_BODY_OF_STEP.get(step, matter.member_body)
            today = timezone.localdate()
            roster = services.meeting_roster(organization=matter.organization, body=body, on_date=today)
            votes = [services.VoteInput(matter=matter, votes_for=len(roster), votes_against=0, votes_abstain=0)]
            timer.step(
                step,
                services.meeting_record,
                user=village["supervisor"],
                organization=matter.organization,
                body=body,
                held_on=today,
                place="村委会议室",
                chair="赵监委",
                minutes="讨论并表决",
                attendee_ids=[member.pk for member in roster],
                votes=votes,
            )
        elif step in (Step.PUBLISH_RESOLUTION, Step.PUBLISH_RESULT):
            # The period ends (moved, not waited for: untimed), then beat's close is the step.
            notice = Notice.objects.filter(matter=matter, closed_at__isnull=True).latest("pk")
            notice.ends_at = timezone.now() - datetime.timedelta(seconds=1)
            notice.save(update_fields=["ends_at"])
            closed = timer.step(step, services.publication_try_close, notice_id=notice.pk)
            assert closed, f"publication of matter {matter.pk} did not close"
        else:
            raise AssertionError(f"matter {matter.pk} waits at {step!r}")
        steps += 1


def bare_view_step(user, task_id: int, step: str) -> None:
    """A person acts on a bare View task, as the product's ``step_perform`` does: lock, assign, start, execute."""
    from viewflow.workflow.models import Task

    from scripts.bench.bare_flow import step_after

    task = Task.objects.select_related("process").get(pk=task_id)
    flow_class = task.flow_task.flow_class
    with flow_class.lock(task.process_id):
        task.refresh_from_db()
        activation = task.flow_task.activation_class(task)
        activation.assign(user)
        activation.start(None)
        process = activation.process
        process.data["next_step"] = step_after(step)
        process.save()
        activation.execute()


def drive_bare(world, timer: Timer, number: int = 0) -> int:
    from viewflow.workflow.fields import get_task_ref
    from viewflow.workflow.models import Process, Task
    from viewflow.workflow.status import STATUS

    from scripts.bench.bare_flow import VIEWS, BareSpineFlow

    process = timer.step("apply", BareSpineFlow.start.run, title="购置办公电脑")
    steps = 1
    while True:
        process = Process.objects.get(pk=process.pk)
        step = process.data["next_step"]
        if step == "end":
            assert process.status == STATUS.DONE, process.status
            return steps
        node = BareSpineFlow.instance.node(step)
        task = Task.objects.get(
            process_id=process.pk, flow_task=get_task_ref(node), status__in=(STATUS.NEW, STATUS.ASSIGNED)
        )
        if step in VIEWS:
            timer.step(step, bare_view_step, world.secretary_a1, task.pk, step)
        else:
            timer.step(step, node.run, task)
        steps += 1


def ballast(world, size: int) -> float:
    """``size`` finished matters written in bulk (processes, tasks, matters, step records, notifications, leaves).

    Written straight into the tables (no signals): they are there to be large, not to be verified."""
    import hashlib
    import uuid

    from django.utils import timezone
    from viewflow.workflow.models import Process, Task
    from viewflow.workflow.status import STATUS

    from documents.models import LedgerEntry, LedgerKind
    from flows.models import Decision, Matter, MatterStatus, Notification, NotificationKind, StepRecord
    from tests.drive import apply_purchase

    if size <= 0:
        return 0.0
    began = time.perf_counter()
    template = apply_purchase(world, total=AMOUNT, quotations=3)
    flow_ref = template.process.flow_class
    chunk = 2000
    now = timezone.now()
    for start in range(0, size, chunk):
        count = min(chunk, size - start)
        processes = Process.objects.bulk_create(
            Process(flow_class=flow_ref, status=STATUS.DONE, finished=now, data={}) for _ in range(count)
        )
        Task.objects.bulk_create(
            Task(process=process, flow_task=flow_ref.instance.node("propose"), status=STATUS.DONE, finished=now)
            for process in processes
            for _ in range(10)
        )
        matters = Matter.objects.bulk_create(
            Matter(
                process=process,
                organization_id=template.organization_id,
                transaction_type=template.transaction_type,
                title=f"历史事项 {start + number}",
                amount=template.amount,
                applicant_id=template.applicant_id,
                rule_version_id=template.rule_version_id,
                band_id=template.band_id,
                required_steps=template.required_steps,
                next_step="end",
                status=MatterStatus.ARCHIVED,
                finished_at=now,
            )
            for number, process in enumerate(processes)
        )
        StepRecord.objects.bulk_create(
            StepRecord(matter=matter, step=step, decision=Decision.DONE, actor_id=template.applicant_id)
            for matter in matters
            for step in template.required_steps
        )
        Notification.objects.bulk_create(
            Notification(recipient_id=template.applicant_id, kind=NotificationKind.MATTER_PROGRESS, matter=matter)
            for matter in matters
            for _ in range(5)
        )
        leaves = []
        for matter in matters:
            for number in range(10):
                digest = hashlib.sha256(f"{matter.pk}:{number}".encode()).hexdigest()
                leaves.append(
                    LedgerEntry(
                        uid=uuid.uuid4(),
                        kind=LedgerKind.RECORD,
                        object_type="Matter",
                        object_id=str(matter.pk),
                        object_pk=matter.pk,
                        matter=matter,
                        payload={},
                        payload_hash=digest,
                        leaf_hash=digest,
                        recorded_at=now,
                    )
                )
        LedgerEntry.objects.bulk_create(leaves)
    return time.perf_counter() - began


def per_step(timer: Timer) -> dict:
    """Median ms and queries of each step, and the mean over a whole matter's steps."""
    steps = {
        name: {
            "ms": 1000 * statistics.median(timer.seconds[name]),
            "queries": statistics.median(timer.queries.get(name, [0])),
        }
        for name in timer.seconds
    }
    return {
        "steps": steps,
        "ms": statistics.mean(row["ms"] for row in steps.values()),
        "queries": statistics.mean(row["queries"] for row in steps.values()),
        "max_queries": max(row["queries"] for row in steps.values()),
    }


def bench_database(args) -> dict:
    from django.db import connection

    from tests.conftest import build_world

    world = build_world()
    vendor = connection.vendor
    built = ballast(world, args.size)
    print(f"\nbench_step ({vendor}): {args.size} finished matters in the database (written in {built:.1f} s)")
    bare, product = Timer(), Timer()
    # Untimed first: lazy imports, caches and the connection are not a step's cost.
    drive_bare(world, Timer())
    drive_product(world, Timer())
    for number in range(args.matters):
        order = [(drive_bare, bare), (drive_product, product)]
        for drive, timer in order if number % 2 == 0 else reversed(order):
            drive(world, timer)
    for timer, drive in ((bare, drive_bare), (product, drive_product)):
        timer.counting = True
        drive(world, timer)
    result = {"vendor": vendor, "size": args.size, "bare": per_step(bare), "product": per_step(product)}
    report_steps(result)
    if vendor == "postgresql":
        result["clients"] = bench_clients(world, args)
        report_clients(result["clients"])
    return result


def report_steps(result: dict) -> None:
    bare, product = result["bare"], result["product"]
    print(f"\n== one step, product beside bare viewflow ({result['vendor']}, medians of each step)")
    print(f"{'step':26} {'bare ms':>8} {'product ms':>11} {'ratio':>6} {'bare q':>7} {'product q':>10}")
    for name, row in product["steps"].items():
        reference = bare["steps"].get(name)
        if reference is None:
            continue
        print(
            f"{name:26} {reference['ms']:8.1f} {row['ms']:11.1f} {row['ms'] / reference['ms']:6.2f}"
            f" {reference['queries']:7.0f} {row['queries']:10.0f}"
        )
    print(
        f"{'mean per step':26} {bare['ms']:8.1f} {product['ms']:11.1f} {product['ms'] / bare['ms']:6.2f}"
        f" {bare['queries']:7.1f} {product['queries']:10.1f}"
    )


# --- PostgreSQL: clients at once, and pgbench ------------------------------------------------------


def client(kind, world, number, matters, start, results):
    """One client process: ``matters`` whole matters of its own village, every step in its own transaction."""
    from django.db import connections

    connections.close_all()
    drive = drive_product if kind == "product" else drive_bare
    drive(world, Timer(), number)  # a fresh process warms up untimed
    start.wait()
    began = time.perf_counter()
    steps = sum(drive(world, Timer(), number) for _ in range(matters))
    results.put(steps / (time.perf_counter() - began))
    connections.close_all()


def clients_at_once(kind, world, count, matters) -> float:
    """Steps per second of ``count`` clients together."""
    import multiprocessing

    from django.db import connections

    context = multiprocessing.get_context("fork")
    start = context.Barrier(count + 1)
    results = context.Queue()
    connections.close_all()
    processes = [
        context.Process(target=client, args=(kind, world, number, matters, start, results)) for number in range(count)
    ]
    for process in processes:
        process.start()
    start.wait()
    rates = [results.get(timeout=900) for _ in processes]
    for process in processes:
        process.join()
    return sum(rates)


def pgbench(seconds: int) -> dict:
    """TPC-B tps at 1 and 2 clients on a database of its own (scale 1), beside the test database."""
    from django.db import connection

    settings = connection.settings_dict
    name = f"bench_pgbench_{os.getpid()}"
    env = {**os.environ}
    if settings.get("PASSWORD"):
        env["PGPASSWORD"] = settings["PASSWORD"]
    base = ["-h", settings.get("HOST") or "127.0.0.1", "-p", str(settings.get("PORT") or 5432)]
    base += ["-U", settings.get("USER") or "postgres"]
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        subprocess.run(["pgbench", *base, "-i", "-q", "-s", "1", name], env=env, check=True, capture_output=True)
        tps = {}
        for clients in (1, 2):
            run = subprocess.run(
                ["pgbench", *base, "-n", "-c", str(clients), "-j", str(clients), "-T", str(seconds), name],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            line = next(line for line in run.stdout.splitlines() if line.startswith("tps ="))
            tps[str(clients)] = float(line.split()[2])
        return tps
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')


def bench_clients(world, args) -> dict:
    if shutil.which("pgbench") is None:
        print("\n(pgbench not installed: scripts/system-packages installs postgresql-client)")
        tps = None
    else:
        tps = pgbench(args.seconds)
    found = {"pgbench": tps}
    for kind, matters in (("bare", 2 * args.client_matters), ("product", args.client_matters)):
        found[kind] = {str(count): clients_at_once(kind, world, count, matters) for count in (1, 2)}
    return found if tps else {**found, "pgbench": {"1": float("nan"), "2": float("nan")}}


def report_clients(clients: dict) -> None:
    print("\n== steps per second at 1 and 2 clients beside pgbench TPC-B (PostgreSQL)")
    print(f"{'':28} {'1 client':>9} {'2 clients':>10} {'2 ÷ 1':>6}")
    rows = (("pgbench TPC-B tps", "pgbench"), ("bare viewflow steps/s", "bare"), ("product steps/s", "product"))
    for label, key in rows:
        one, two = clients[key]["1"], clients[key]["2"]
        print(f"{label:28} {one:9.1f} {two:10.1f} {two / one:6.2f}")


def main() -> int:
    args = arguments()
    if args.database:
        return run_child(args)
    return run_parent(args)


if __name__ == "__main__":
    sys.exit(main())
