"""Write the demo city's sample workbooks (docs/samples/demo/) again from what ``seed_demo`` loads.

The workbooks are the demo's source: ``seed_demo`` imports them, and changing the demo's places, people or
registers means editing them (they are ordinary import workbooks). This script migrates and seeds a fresh
SQLite database in a temporary directory and writes its tree, people, posts and registers out again
(demo/samples.py), in the canonical order and the current templates' layout: the county workbook (every
register sheet) and the accounts and posts workbook. Run from the repository root, e.g. to put edited
rows back in the canonical order::

    .venv/bin/python scripts/make_demo_samples.py

``tests/demo/test_samples.py`` fails when the committed files and what the seed loads differ.
"""

import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
VAR = tempfile.mkdtemp(prefix="demo-samples-")
os.environ["VAR_DIR"] = VAR
os.environ["MEDIA_ROOT"] = str(Path(VAR) / "media")
os.environ.pop("DATABASE_URL", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings.dev")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from demo.samples import SAMPLES_DIR, WORKBOOKS, demo_rows, workbook_bytes  # noqa: E402
from demo.seed import CITY_CODE  # noqa: E402
from organizations.models import Organization  # noqa: E402


def main() -> None:
    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)
    rows = demo_rows(Organization.objects.get(code=CITY_CODE))
    SAMPLES_DIR.mkdir(parents=True, exist_ok=True)
    for name, kind in WORKBOOKS:
        (SAMPLES_DIR / name).write_bytes(workbook_bytes(kind, rows[name]))
        counts = ", ".join(f"{sheet} {len(sheet_rows)}" for sheet, sheet_rows in rows[name].items())
        print(f"{SAMPLES_DIR / name}: {counts}")


if __name__ == "__main__":
    main()
