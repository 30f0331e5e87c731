"""Benchmark of the lists and searches at province scale (issue 15 §3), on PostgreSQL.

Generates a province (benchdata.province, ``--size small|medium|large|full`` or ``--matters N``) in a test
database, then requests each list as the persona it is for and prints, per page, the p95 over repeated
requests, the queries per page, and the ratio to a reference measured in the same run (the p95 of a
primary-key lookup of one matter through the ORM). The EXPLAIN (ANALYZE) of each page's slowest query is
written to var/bench/explain-<page>.txt.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/province .venv/bin/python scripts/bench_lists.py --size large

Without DATABASE_URL it tries postgres://postgres@127.0.0.1:5432/postgres and skips when nobody answers
(`make bench` runs it either way). ``--keepdb`` keeps the generated test database for the next run.
"""

import argparse
import datetime
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def postgres_answers(url: str) -> bool:
    try:
        import psycopg
    except ImportError:
        return False
    try:
        psycopg.connect(url.replace("postgres://", "postgresql://"), connect_timeout=3).close()
    except psycopg.Error:
        return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="small", choices=["small", "medium", "large", "full"])
    parser.add_argument("--matters", type=int, default=None, help="matters in the province (overrides the size)")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument(
        "--warnings", type=int, default=20, help="early warnings written per collective when the province has none"
    )
    parser.add_argument("--keepdb", action="store_true")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    if not postgres_answers(url):
        print(f"bench_lists: PostgreSQL does not answer at {url}; skipped.")
        return 0
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("VAR_DIR", tempfile.mkdtemp(prefix="bench-lists-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "project.settings.test"
    os.environ["PYTEST_XDIST_WORKER"] = "bench-lists"
    import django

    django.setup()
    from django.test.runner import DiscoverRunner
    from django.test.utils import setup_test_environment, teardown_test_environment

    setup_test_environment()
    runner = DiscoverRunner(verbosity=0, keepdb=args.keepdb, interactive=False)
    # No serialising of the test database (for TransactionTestCase): it would read every generated row.
    old = runner.setup_databases(serialized_aliases=set())
    try:
        return run(args)
    finally:
        if not args.keepdb:
            runner.teardown_databases(old)
        teardown_test_environment()


def next_page(client, url: str) -> str:
    """The URL of the page after ``url``'s first (keyset cursor), or ``url`` itself when it has one page."""
    page = client.get(url).context["page"]
    if page is None or not page.has_next:
        return url
    return f"{url}{'&' if '?' in url else '?'}after={page.next_cursor}"


def add_warnings(per_collective: int) -> tuple[float, int]:
    """Early warnings of every colour and rule for each collective, raised over the last year, some handled."""
    from django.utils import timezone

    from organizations.models import Organization, OrganizationKind
    from registers.models import EarlyWarning, WarningLevel, WarningRule

    started = time.monotonic()
    now = timezone.now()
    levels, rules = list(WarningLevel.values), list(WarningRule.values)
    collectives = list(Organization.objects.filter(kind=OrganizationKind.COLLECTIVE).values_list("pk", flat=True))
    rows = [
        EarlyWarning(
            organization_id=collective,
            level=levels[number % len(levels)],
            rule=rules[number % len(rules)],
            subject_key=f"bench:{collective}:{number}",
            title="库存现金超限",
            detail="库存现金超过限额",
            handled_at=now if number % 3 == 0 else None,
            handling="已核实并处理" if number % 3 == 0 else "",
        )
        for collective in collectives
        for number in range(per_collective)
    ]
    EarlyWarning.objects.bulk_create(rows, batch_size=5000)
    # raised_at is auto_now_add: spread it over a year afterwards, many rows sharing one moment.
    for number in range(per_collective):
        EarlyWarning.objects.filter(subject_key__endswith=f":{number}").update(
            raised_at=now - datetime.timedelta(days=number * 365 // max(per_collective, 1))
        )
    return time.monotonic() - started, len(rows)


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def run(args) -> int:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from benchdata.province import PASSWORD, generate
    from flows.models import Matter, Notice
    from organizations.models import Organization, OrganizationKind, Role
    from registers.models import EarlyWarning

    if not Matter.objects.exists():
        started = time.monotonic()
        province = generate(args.size, matters=args.matters)
        seconds = time.monotonic() - started
        rows = sum(province.written.values())
        matters = Matter.objects.count()
        copied = matters - len(province.template_matters)
        rate = copied / province.copy_seconds
        print(
            f"generated {matters} matters in {seconds:.0f} s: templates through the services "
            f"{seconds - province.copy_seconds:.0f} s, {copied} copies ({rows} rows) in {province.copy_seconds:.0f} s "
            f"= {rate:.0f} matters/s, {rows / province.copy_seconds:.0f} rows/s; "
            f"1M matters would take about {1_000_000 / rate / 60:.0f} min at this rate"
        )
    if not EarlyWarning.objects.exists():
        seconds, written = add_warnings(args.warnings)
        print(f"wrote {written} early warnings in {seconds:.0f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    del PASSWORD
    matters = Matter.objects.count()
    township = Organization.objects.filter(kind=OrganizationKind.TOWNSHIP).order_by("pk").first()
    county = township.parent
    village = Organization.objects.filter(kind=OrganizationKind.VILLAGE, parent=township).order_by("pk").first()
    from organizations.models import Post

    def persona(place, role):
        client = Client()
        client.force_login(Post.objects.get(organization=place, role=role).user)
        return client

    leader = persona(township, Role.TOWNSHIP_LEADER)
    inspector = persona(county, Role.DISCIPLINE_INSPECTOR)
    secretary = persona(village, Role.VILLAGE_SECRETARY)
    public = Client()
    sample = Matter.objects.filter(organization__path__startswith=township.path).order_by("pk").first()
    title_word = sample.title[2:6]
    party = sample.applicant.last_name + sample.applicant.first_name
    low, high = int(sample.amount * 8 / 10), int(sample.amount * 12 / 10) + 1
    since = (sample.created_at.date()).isoformat()
    search = reverse("documents:archive_search")
    members = reverse("registers:member_list")
    warnings = reverse("registers:warning_list")
    pages = [
        ("inbox (township leader)", leader, reverse("flows:inbox")),
        ("matter list (township leader)", leader, reverse("flows:matter_list")),
        ("archive search by text (county inspector)", inspector, f"{search}?all=on&text={title_word}"),
        ("archive search by party (county inspector)", inspector, f"{search}?all=on&party={party}"),
        (
            "archive search by amount and date (county inspector)",
            inspector,
            f"{search}?all=on&amount_min={low}&amount_max={high}&date_field=applied&date_from={since}",
        ),
        ("member register (village secretary)", secretary, members),
        ("member register, page 2 (village secretary)", secretary, next_page(secretary, members)),
        ("member register, whole township (township leader)", leader, members),
        ("contract register (township leader)", leader, reverse("registers:contract_list")),
        ("share ledger (township leader)", leader, reverse("registers:share_ledger")),
        ("early warnings, all (township leader)", leader, f"{warnings}?state=all"),
        ("early warnings, page 2 (township leader)", leader, next_page(leader, f"{warnings}?state=all")),
        ("early warnings, all (county inspector)", inspector, f"{warnings}?state=all"),
        ("one village's board (public)", public, reverse("board:village", args=[village.pk])),
        ("board index (public)", public, reverse("board:index")),
    ]

    def reference():
        Matter.objects.get(pk=sample.pk)

    explain_dir = Path(settings.BASE_DIR) / "var" / "bench"
    explain_dir.mkdir(parents=True, exist_ok=True)
    times = {name: [] for name, _c, _u in pages}
    reference_times = []
    queries = {}
    slowest_sql = {}
    for name, client, url in pages:  # warm-up, query counts and the slowest query of each page
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        queries[name] = len(captured.captured_queries)
        selects = [q for q in captured.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
        slowest_sql[name] = max(selects, key=lambda q: float(q["time"]))["sql"] if selects else ""
    for _round in range(args.repeats):  # alternate pages and reference, so both see the same machine
        for name, client, url in pages:
            started = time.perf_counter()
            client.get(url)
            times[name].append(time.perf_counter() - started)
            started = time.perf_counter()
            reference()
            reference_times.append(time.perf_counter() - started)
    ref = p95(reference_times)
    notices = Notice.objects.count()
    print(
        f"\n{matters} matters, {notices} notices, {EarlyWarning.objects.count()} early warnings; "
        f"{args.repeats} requests each; PostgreSQL {connection.pg_version}"
    )
    print(f"reference: primary-key lookup of one matter, p95 {ref * 1000:.2f} ms\n")
    print(f"{'page':<56} {'p95 ms':>8} {'median':>8} {'queries':>8} {'× ref':>8}")
    for name, _client, _url in pages:
        value = p95(times[name])
        median = statistics.median(times[name])
        print(f"{name:<56} {value * 1000:8.1f} {median * 1000:8.1f} {queries[name]:8d} {value / ref:8.0f}")
        slug = "".join(ch if ch.isalnum() else "-" for ch in name.split(" (")[0]).strip("-")
        if slowest_sql[name]:
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest_sql[name])
                plan = "\n".join(row[0] for row in cursor.fetchall())
            (explain_dir / f"explain-{slug}.txt").write_text(
                f"-- {name}, {matters} matters\n-- {slowest_sql[name]}\n\n{plan}\n", encoding="utf-8"
            )
    print(f"\nEXPLAIN of each page's slowest query: {explain_dir}/explain-*.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
