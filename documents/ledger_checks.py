"""The whole-log verification as a stored job: run by beat, by ``manage.py verify_ledger``, or when asked for.

Checking the whole log reads every leaf and every covered record (about 13 s at 100,000 entries without
the files), far too slow for a page. So a Celery task runs it on a schedule (every
``LEDGER_CHECK_SECONDS`` without the files, nightly at ``LEDGER_FILE_CHECK_HOUR`` re-reading them),
one at a time by a PostgreSQL session advisory lock of its own (released when the check ends, or when
its connection dies with its worker), and stores the result as a ``LedgerCheck``; the ledger page
shows the latest. Safe to lose like every job (project/jobs.py): a check whose worker died leaves a row
that never finished, and the next scheduled run checks again.

A failed check raises a red early warning in every county (the log itself is in doubt), once per
problem. The checks are not entered in the log: they are derived from it and can be redone at any
time, and a log vouching for its own checks would prove nothing.
"""

import datetime
from contextlib import contextmanager

from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from organizations.models import Organization, OrganizationKind
from registers.models import WarningLevel, WarningRule
from registers.warnings import warning_raise

from .ledger_verify import ledger_verify
from .models import LedgerCheck
from .sequencer import latest_head, sequence_pending

# Any fixed number, the same in every process, and used by nothing else (the sequencer's is 0x5A4E_5E9C).
LEDGER_CHECK_LOCK_KEY = 0x5A4E_5E9D


@contextmanager
def _check_lock():
    """True when this process may check now; a session lock, so no transaction stays open for the check."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [LEDGER_CHECK_LOCK_KEY])
        locked = bool(cursor.fetchone()[0])
    try:
        yield locked
    finally:
        if locked:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [LEDGER_CHECK_LOCK_KEY])


def ledger_check_run(*, check_files: bool, trigger: str, requested_by=None) -> LedgerCheck | None:
    """Verify the whole log and store the result; None when another check is running (it will answer)."""
    with _check_lock() as locked:
        if not locked:
            return None
        sequence_pending()
        head = latest_head()
        check = LedgerCheck.objects.create(
            trigger=trigger,
            requested_by=requested_by,
            check_files=check_files,
            started_at=timezone.now(),
            head_size=head.size if head else None,
            head_root=head.root_hash if head else "",
        )
        # Stored text is read later by anyone: in the installation's language, like the warnings.
        with translation.override(settings.LANGUAGE_CODE):
            result = ledger_verify(check_files=check_files, sequence=False)
        check.finished_at = timezone.now()
        check.ok = result.ok
        check.checked = result.checked
        check.records = result.records
        check.first_bad_seq = result.first_bad_seq
        check.bad_model = result.model
        check.bad_pk = result.pk
        check.reason = result.reason
        check.save()
        if not result.ok:
            raise_check_warning(check)
        return check


def raise_check_warning(check: LedgerCheck) -> None:
    """A red early warning in every county of the installation, once per problem found."""
    where = f"{check.first_bad_seq or ''}:{check.bad_model}:{check.bad_pk or ''}"
    url = reverse("documents:ledger")
    with translation.override(settings.LANGUAGE_CODE):
        if check.first_bad_seq:
            title = _("The tamper-evident log failed its check at entry #%(seq)s") % {"seq": check.first_bad_seq}
        else:
            title = _("The tamper-evident log failed its check")
        detail = _(
            "%(reason)s\n\nThe check of %(when)s found it. Have the log and the named record examined, and "
            "verify again (manage.py verify_ledger)."
        ) % {"reason": check.reason, "when": timezone.localtime(check.finished_at).strftime("%Y-%m-%d %H:%M")}
        for county in Organization.objects.filter(kind=OrganizationKind.COUNTY):
            warning_raise(
                rule=WarningRule.LEDGER_CHECK_FAILED,
                level=WarningLevel.RED,
                organization=county,
                subject_key=f"ledger-check:{county.pk}:{where}",
                title=title,
                detail=detail,
                url=url,
            )


# --- what the page shows ---------------------------------------------------------------------------


def check_interval(check_files: bool) -> datetime.timedelta:
    """How often beat runs this kind of check."""
    seconds = settings.LEDGER_FILE_CHECK_SECONDS if check_files else settings.LEDGER_CHECK_SECONDS
    return datetime.timedelta(seconds=seconds)


def is_stale(check: LedgerCheck, now=None) -> bool:
    """Older than its schedule allows: one run missed, plus the time a run may take."""
    now = now or timezone.now()
    allowed = 2 * check_interval(check.check_files) + datetime.timedelta(seconds=settings.LEDGER_CHECK_GRACE_SECONDS)
    return check.finished_at < now - allowed


def latest_checks() -> dict:
    """The latest finished check (either kind: re-reading the files checks everything else too), the latest
    one that re-read the files, and a check running now, if any; a fixed number of queries."""
    finished = LedgerCheck.objects.filter(finished_at__isnull=False).select_related("requested_by")
    latest = finished.order_by("-finished_at", "-pk").first()
    with_files = latest if latest and latest.check_files else None
    if with_files is None:
        with_files = finished.filter(check_files=True).order_by("-finished_at", "-pk").first()
    # A check that started long ago and never finished lost its worker; it is not "running".
    since = timezone.now() - check_interval(False) - datetime.timedelta(seconds=settings.LEDGER_CHECK_GRACE_SECONDS)
    running = LedgerCheck.objects.filter(finished_at__isnull=True, started_at__gte=since).order_by("-started_at")
    return {
        "check": latest,
        "check_stale": bool(latest) and is_stale(latest),
        "file_check": with_files,
        "file_check_stale": bool(with_files) and is_stale(with_files),
        "running_check": running.first(),
    }
