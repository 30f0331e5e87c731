"""Benchmark of the transparency log: steps per second with one and two concurrent clients, and the whole-log check.

1. Steps (PostgreSQL only; skipped on SQLite, which serialises every writer anyway). Each client is a
   process of its own with its own connection, performing real steps (``step_perform``: the party
   branch proposes) on matters of its own, while a sequencer process places the leaves as they
   commit. Measured for the log as it is now (leaves, no lock) and, as the reference in the same run,
   with the old global advisory lock taken at a step's first log write and held to its commit. Twice:
   steps as they run here (CPU-bound on this machine), and steps whose transaction also waits 30 ms on
   I/O after its writes (a scan going to the object store, a database over the network), where a lock
   held across the transaction shows. A sampler polls pg_locks every few milliseconds: advisory locks
   held or waited for by the clients' backends, and any lock a client waits for.
2. The whole-log check (any database): ``ledger_verify`` over 100,000 entries (covered register rows
   with their leaves, placed by the sequencer in batches), in entries per second, beside a plain read
   of the same rows as the reference.

Runs on a throwaway test database (as scripts/bench_sweeps.py does); never touches var/. Usage::

    DATABASE_URL=postgres://... .venv/bin/python scripts/bench_ledger.py [steps per client] [entries]
"""

import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
TEMP_DIR = Path(tempfile.mkdtemp(prefix="bench-ledger-"))
os.environ["VAR_DIR"] = str(TEMP_DIR)
os.environ["DJANGO_SETTINGS_MODULE"] = "project.settings.test"
os.environ["PYTEST_XDIST_WORKER"] = "bench-ledger"

import django  # noqa: E402

django.setup()

from django.db import connection, connections, transaction  # noqa: E402
from django.db.models import Max  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402

STEPS_PER_CLIENT = 12
ENTRIES = 100_000
IO_WAIT_SECONDS = 0.03
OLD_LOCK_KEY = 0x5A4E_1ED6  # the key the old ledger_append locked on every step


# --- 1. steps with one and two clients ------------------------------------------------------------


def old_style_append(real):
    """ledger_append as it was: a global advisory lock and a read of the head before every write."""
    from documents.models import LedgerEntry

    def append(**kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [OLD_LOCK_KEY])
        LedgerEntry.objects.aggregate(Max("seq"))
        return real(**kwargs)

    return append


def client(matter_ids, user_id, global_lock, io_wait, start, pids, results):
    """One client process: a step on each of its matters, each in its own transaction."""
    connections.close_all()
    from django.contrib.auth import get_user_model

    import documents.ledger as ledger
    from tests.drive import act

    if global_lock:
        ledger.ledger_append = old_style_append(ledger.ledger_append)
    user = get_user_model().objects.get(pk=user_id)
    from flows.models import Matter

    matters = list(Matter.objects.filter(pk__in=matter_ids).order_by("pk"))
    # One step untimed first: connection, caches and lazy imports of a fresh process are not the log's cost.
    act(user, matters.pop(0), opinion="同意提议")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pids.put(cursor.fetchone()[0])
    start.wait()
    began = time.perf_counter()
    for matter in matters:
        with transaction.atomic():
            act(user, matter, opinion="同意提议")
            if io_wait:
                time.sleep(io_wait)
    results.put(time.perf_counter() - began)
    connections.close_all()


def sequencer(stop, pids):
    connections.close_all()
    from documents.sequencer import sequence_pending

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pids.put(("sequencer", cursor.fetchone()[0]))
    while not stop.is_set():
        sequence_pending()
        time.sleep(0.02)
    sequence_pending()
    connections.close_all()


class LockSampler(threading.Thread):
    """Polls pg_locks from a connection of its own while the clients run."""

    def __init__(self, client_pids):
        super().__init__(daemon=True)
        self.client_pids = list(client_pids)
        self.samples = 0
        self.advisory_held = 0
        self.advisory_waits = 0
        self.waits = 0
        self.done = threading.Event()

    def run(self):
        from django.db import connection as own

        with own.cursor() as cursor:
            while not self.done.is_set():
                cursor.execute(
                    "SELECT locktype, granted FROM pg_locks WHERE pid = ANY(%s)",
                    [self.client_pids],
                )
                rows = cursor.fetchall()
                self.samples += 1
                self.advisory_held += any(kind == "advisory" and granted for kind, granted in rows)
                self.advisory_waits += any(kind == "advisory" and not granted for kind, granted in rows)
                self.waits += any(not granted for _kind, granted in rows)
                time.sleep(0.003)
        own.close()


def run_steps(matter_groups, user_id, *, global_lock, io_wait):
    """Seconds each client took, and what the lock sampler saw."""
    context = multiprocessing.get_context("fork")
    start = context.Barrier(len(matter_groups) + 1)
    pids, results = context.Queue(), context.Queue()
    stop = context.Event()
    connections.close_all()
    helper = context.Process(target=sequencer, args=(stop, pids))
    helper.start()
    processes = [
        context.Process(target=client, args=(group, user_id, global_lock, io_wait, start, pids, results))
        for group in matter_groups
    ]
    for process in processes:
        process.start()
    client_pids = []
    for _ in range(len(processes) + 1):
        item = pids.get(timeout=120)
        if not isinstance(item, tuple):
            client_pids.append(item)
    sampler = LockSampler(client_pids)
    sampler.start()
    start.wait()
    seconds = [results.get(timeout=600) for _ in processes]
    sampler.done.set()
    sampler.join()
    for process in processes:
        process.join()
    stop.set()
    helper.join()
    return max(seconds), sampler


def prepare_matters(world, count):
    from tests.drive import apply_purchase

    return [apply_purchase(world).pk for _ in range(count)]


def bench_steps(world, steps):
    rows = []
    for io_wait in (0.0, IO_WAIT_SECONDS):
        for global_lock in (False, True):
            one = prepare_matters(world, steps + 1)
            two = prepare_matters(world, 2 * (steps + 1))
            single, _sampled = run_steps([one], world.secretary_a1.pk, global_lock=global_lock, io_wait=io_wait)
            double, sampled = run_steps(
                [two[: steps + 1], two[steps + 1 :]], world.secretary_a1.pk, global_lock=global_lock, io_wait=io_wait
            )
            rows.append(
                {
                    "mode": "old global lock (reference)" if global_lock else "leaves, no lock (now)",
                    "io": f"{int(io_wait * 1000)} ms" if io_wait else "none",
                    "one": steps / single,
                    "two": 2 * steps / double,
                    "sampled": sampled,
                }
            )
    return rows


def report_steps(rows):
    print("\n== steps per second, one client and two at once (PostgreSQL)")
    print(f"{'log':30} {'I/O in step':>11} {'1 client':>9} {'2 clients':>10} {'ratio':>6}   pg_locks of the clients")
    for row in rows:
        sampled = row["sampled"]
        share = 100 * sampled.advisory_held / max(sampled.samples, 1)
        waits = 100 * sampled.waits / max(sampled.samples, 1)
        print(
            f"{row['mode']:30} {row['io']:>11} {row['one']:9.1f} {row['two']:10.1f} {row['two'] / row['one']:6.2f}"
            f"   advisory lock held in {share:4.1f}% of {sampled.samples} samples, a client waiting in {waits:4.1f}%"
        )


# --- 2. the whole-log check -----------------------------------------------------------------------


def build_log(world, entries):
    """``entries`` covered rows (fund movements) with their leaves, written in bulk as the signals would."""
    import datetime
    import hashlib
    import json
    import uuid
    from decimal import Decimal

    from django.utils import timezone

    from documents import coverage as covered
    from documents.digests import sm3_hex
    from documents.ledger import canonical_json, leaf_hashes_of, object_pk_of
    from documents.models import LedgerEntry, LedgerKind
    from registers.models import Direction, FundAccount, FundMovement

    account = FundAccount.objects.create(organization=world.collective_a1, name="基本户", opening_balance="0.00")
    coverage = covered.REGISTRY["registers.FundMovement"]
    chunk = 5000
    for start in range(0, entries, chunk):
        FundMovement.objects.bulk_create(
            FundMovement(
                account=account,
                direction=Direction.IN,
                amount=Decimal("10.00") + start + number,
                occurred_on=datetime.date(2026, 1, 1),
                counterparty="县农商行",
                purpose=f"收入 {start + number}",
            )
            for number in range(min(chunk, entries - start))
        )
    columns = covered.value_columns(coverage)
    leaves = []
    for values in FundMovement.objects.order_by("pk").values(*columns).iterator(chunk_size=chunk):
        payload = covered.record_payload(coverage, values, {}, {})
        payload.update(actor=None, actor_id=None)
        canonical = canonical_json(payload).encode()
        entry = LedgerEntry(
            uid=uuid.uuid4(),
            kind=LedgerKind.REGISTER,
            object_type=coverage.object_type,
            object_id=str(values["id"]),
            object_pk=object_pk_of(str(values["id"])),
            matter_id=covered.matter_of(coverage, values),
            payload=json.loads(canonical),
            payload_hash=hashlib.sha256(canonical).hexdigest(),
            payload_sm3=sm3_hex(canonical),
            recorded_at=timezone.now(),
        )
        entry.leaf_hash, entry.leaf_sm3 = leaf_hashes_of(entry)
        leaves.append(entry)
        if len(leaves) == chunk:
            LedgerEntry.objects.bulk_create(leaves)
            leaves = []
    LedgerEntry.objects.bulk_create(leaves)


def bench_verify(world, entries):
    from documents.ledger_verify import ledger_verify
    from documents.models import LedgerEntry, TreeHead
    from documents.sequencer import sequence_pending
    from registers.models import FundMovement

    began = time.perf_counter()
    build_log(world, entries)
    built = time.perf_counter() - began
    began = time.perf_counter()
    placed = sequence_pending(batch_size=1000)
    sequenced = time.perf_counter() - began
    total = LedgerEntry.objects.count()
    timings = []
    for _ in range(2):
        began = time.perf_counter()
        result = ledger_verify(check_files=False, sequence=False)
        timings.append(time.perf_counter() - began)
        assert result.ok, result.reason
    began = time.perf_counter()
    read = sum(1 for _row in LedgerEntry.objects.order_by("seq").values_list("payload", "leaf_hash").iterator(2000))
    read += sum(1 for _row in FundMovement.objects.order_by("pk").values().iterator(2000))
    reference = time.perf_counter() - began
    check = statistics.median(timings)
    print(f"\n== the whole-log check over {total} entries ({connection.vendor})")
    print(
        f"built {entries} rows and leaves in {built:.1f} s; sequencer placed {placed} in {sequenced:.1f} s "
        f"({placed / sequenced:,.0f} leaves/s, {TreeHead.objects.count()} signed heads)"
    )
    print(f"{'verify_ledger (leaves, tree, heads, every covered record)':58} {total / check:10,.0f} entries/s")
    print(f"{'reference: a plain read of the same leaves and rows':58} {read / reference:10,.0f} rows/s")
    print(f"{'ratio (check / plain read)':58} {reference / check * (total / read):10.2f}")


def main() -> int:
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else STEPS_PER_CLIENT
    entries = int(sys.argv[2]) if len(sys.argv) > 2 else ENTRIES
    started = time.perf_counter()
    try:
        setup_test_environment()
        if connection.vendor == "sqlite":
            connection.settings_dict["TEST"]["NAME"] = str(TEMP_DIR / "bench.sqlite3")
        else:
            connection.settings_dict["TEST"]["NAME"] = f"test_bench_ledger_{os.getpid()}"
        test_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
        try:
            from tests.conftest import build_world

            world = build_world()
            print(f"bench_ledger: {connection.vendor} test database ready in {time.perf_counter() - started:.1f} s")
            if connection.vendor == "postgresql":
                report_steps(bench_steps(world, steps))
            else:
                print("\n== steps with concurrent clients: skipped (needs PostgreSQL: set DATABASE_URL)")
            bench_verify(world, entries)
        finally:
            connections.close_all()
            connection.creation.destroy_test_db(test_name, verbosity=0, keepdb=False)
            teardown_test_environment()
    finally:
        shutil.rmtree(TEMP_DIR, ignore_errors=True)
    print(f"\ndone in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
