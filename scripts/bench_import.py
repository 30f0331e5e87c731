"""Benchmark of the Excel import: a county's member register (50,000 rows by default) checked and imported.

It prints, for the dry run (every row read, parsed, ID checked, looked up by blind index, planned) and for
the import (the same pass writing each member with its history and ledger leaf, in one transaction),
rows per second and the peak of Python memory (tracemalloc; for the import, the growth of the process's
peak resident size), each beside a reference measured in the
same run: openpyxl alone reading the same workbook in read-only mode. The ratios say what the importer
costs on top of reading the file. The dry run is also measured at a fifth of the size: its peak memory
should barely grow with the file (the workbook is streamed; a compact 8-byte key per row remains for
the duplicate check).

Runs on a throwaway database made by Django's test machinery (a SQLite file in a temporary directory, or
with ``DATABASE_URL`` a PostgreSQL test database); never touches ``var/``. Usage::

    .venv/bin/python scripts/bench_import.py            # 50000 rows
    .venv/bin/python scripts/bench_import.py 5000       # another size
"""

import datetime
import os
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
TEMP_DIR = Path(tempfile.mkdtemp(prefix="bench-import-"))
os.environ["VAR_DIR"] = str(TEMP_DIR)
os.environ["MEDIA_ROOT"] = str(TEMP_DIR / "media")
os.environ["DJANGO_SETTINGS_MODULE"] = "project.settings.test"
os.environ["PYTEST_XDIST_WORKER"] = "bench-import"

import django  # noqa: E402

django.setup()

from django.core.files import File  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402
from openpyxl import Workbook, load_workbook  # noqa: E402

DEFAULT_ROWS = 50_000


def write_members(path: Path, rows: int, collective_code: str) -> None:
    from imports.importers import IMPORTERS
    from registers.identity import check_character

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("成员")
    sheet.append(IMPORTERS["members"].sheets[0].headers)
    for index in range(rows):
        # A distinct birth date for each of 16800 rows, then the next serial: unique up to 16.8 million rows.
        born = datetime.date(1950, 1, 1) + datetime.timedelta(days=index % 16800)
        first = f"110108{born:%Y%m%d}{index // 16800:03d}"  # a region the test world does not use
        number = first + check_character(first)
        sheet.append(
            [
                collective_code,
                f"成员{index}",
                number,
                f"H-{index // 4:05d}",
                "原始成员",
                "2019-12-31",
                "",
                "否",
                "否",
                "否",
            ]
        )
    workbook.save(path)


def measure(function) -> tuple[float, int]:
    """(seconds untraced, peak bytes traced): two runs, so tracing does not slow the timed one."""
    started = time.perf_counter()
    function()
    seconds = time.perf_counter() - started
    tracemalloc.start()
    function()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return seconds, peak


def reference(path: Path):
    def read():
        workbook = load_workbook(path, read_only=True, data_only=True)
        for _row in workbook["成员"].iter_rows(values_only=True):
            pass
        workbook.close()

    return read


def line(name: str, rows: int, seconds: float, peak: int, base: tuple[float, int] | None = None) -> str:
    text = f"  {name:<34} {rows / seconds:>9,.0f} rows/s  {seconds:>7.1f} s  peak {peak / 2**20:>6.1f} MiB"
    if base:
        text += f"   ×{seconds / base[0]:.1f} time, ×{peak / base[1]:.1f} memory of the reference"
    return text


def main(rows: int) -> int:
    from django.conf import settings
    from django.test.utils import get_runner

    setup_test_environment()
    runner = get_runner(settings)(verbosity=0, interactive=False)
    old = runner.setup_databases()
    try:
        from imports import services
        from imports.models import ImportJob, ImportStatus
        from registers.models import Member
        from tests.conftest import build_world

        world = build_world()
        collective = world.collective_a2
        small_rows = max(rows // 5, 1)
        big, small = TEMP_DIR / "members.xlsx", TEMP_DIR / "members-small.xlsx"
        write_members(big, rows, collective.code)
        write_members(small, small_rows, collective.code)
        size, engine = big.stat().st_size / 2**20, settings.DATABASES["default"]["ENGINE"]
        print(f"Import of {rows:,} member rows ({size:.1f} MiB workbook), {engine}")

        def job_for(path: Path) -> ImportJob:
            with path.open("rb") as handle:
                uploaded = File(handle, name=path.name)
                uploaded.size = path.stat().st_size
                return services.import_upload(
                    user=world.county_admin, scope=world.county, kind="members", uploaded=uploaded
                )

        base = measure(reference(big))
        print(line("reference: openpyxl reads the file", rows, *base))
        small_job, big_job = job_for(small), job_for(big)
        small_check = measure(lambda: services.import_check(job=small_job))
        print(line(f"dry run, {small_rows:,} rows", small_rows, *small_check, base=measure(reference(small))))
        check = measure(lambda: services.import_check(job=big_job))
        print(line("dry run", rows, *check, base=base))
        big_job.refresh_from_db()
        if big_job.status != ImportStatus.CHECKED:
            print(f"  the dry run found problems: {big_job.errors[:3]}")
            return 1
        print(
            f"  dry-run peak memory at {rows:,} rows is ×{check[1] / small_check[1]:.2f} of that at {small_rows:,} rows"
        )
        services.import_confirm(job=big_job, user=world.county_admin)
        # The import runs once, untraced; its memory is the growth of the process's peak resident size.
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        done = services.import_apply(job=big_job, user=world.county_admin)
        seconds = time.perf_counter() - started
        grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024
        assert done.status == ImportStatus.APPLIED, done.errors[:3]
        assert Member.objects.filter(organization=collective).count() >= rows
        print(
            f"  {'import (one transaction)':<34} {rows / seconds:>9,.0f} rows/s  {seconds:>7.1f} s  "
            f"peak RSS grew {grown / 2**20:.1f} MiB   ×{seconds / base[0]:.1f} time of the reference"
        )
        again = measure(lambda: services.import_check(job=job_for(big)))
        print(line("dry run of the same file again", rows, *again, base=base))
    finally:
        runner.teardown_databases(old)
        teardown_test_environment()
        shutil.rmtree(TEMP_DIR, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_ROWS))
