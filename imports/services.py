"""The import's writes: upload, the dry run, the confirmed import, and the confirmation of a register's baseline."""

import datetime
import hashlib
import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from administration.services import accounts_in_scope, initial_passwords_issue, require_administrator, within
from organizations.jurisdiction import can_act, require_act, user_posts
from organizations.models import ADMINISTRATOR_ROLES, Organization, OrganizationKind, Role

from . import engine
from .columns import CellError
from .importers import IMPORTERS, USER_SHEET, UserImporter
from .models import ImportJob, ImportKind, ImportStatus, Register, RegisterBaseline
from .workbooks import check_workbook_file, open_workbook, read_sheet

logger = logging.getLogger(__name__)

# Who imports registers: the county administrator (the business administrator), for organisations in their
# jurisdiction; accounts and posts are the system administrator's (each importer's ``roles``).
IMPORT_ROLES = frozenset({Role.COUNTY_ADMIN})
ACCOUNT_IMPORT_ROLES = UserImporter.roles


def import_scopes(user, roles=None) -> list[Organization]:
    """The organisations the user imports for: those of their posts in one of the roles (any importer's)."""
    roles = roles if roles is not None else frozenset().union(*(importer.roles for importer in IMPORTERS.values()))
    return [post.organization for post in user.posts.select_related("organization") if post.role in roles]


def import_kinds(user) -> list[str]:
    """The kinds of workbook the user may import, in the order of ImportKind."""
    held = {post.role for post in user.posts.all()}
    return [kind for kind in ImportKind.values if kind in IMPORTERS and IMPORTERS[kind].roles & held]


def kind_roles(kind: str) -> frozenset:
    return IMPORTERS[kind].roles


def may_import(user, scope: Organization, kind: str) -> bool:
    """Whether the user imports this kind for the scope: a business post covering it (organizations'
    door), or, for accounts, a system administrator's post above it (administration's door)."""
    roles = kind_roles(kind)
    if roles & ADMINISTRATOR_ROLES:
        return any(within(scope, post) for post in user_posts(user) if post.role in roles)
    return can_act(user, scope, roles)


def require_import(user, scope: Organization, kind: str) -> None:
    if not may_import(user, scope, kind):
        if kind_roles(kind) & ADMINISTRATOR_ROLES:
            raise PermissionDenied
        require_act(user, scope, kind_roles(kind))  # announces the refusal


def _digest(uploaded) -> str:
    digest = hashlib.sha256()
    uploaded.seek(0)
    for block in uploaded.chunks():
        digest.update(block)
    uploaded.seek(0)
    return digest.hexdigest()


def import_upload(*, user, scope: Organization, kind: str, uploaded) -> ImportJob:
    """Keep the uploaded workbook as a new job; the dry run is queued by the caller (tasks.check_import)."""
    if kind not in IMPORTERS:
        raise ValidationError({"kind": _("Choose what the workbook holds.")})
    require_import(user, scope, kind)
    check_workbook_file(uploaded)
    job = ImportJob(
        kind=kind,
        scope=scope,
        original_name=uploaded.name[:200],
        sha256=_digest(uploaded),
        created_by=user,
    )
    job.file.save(f"import-{timezone.now():%Y%m%d%H%M%S}.xlsx", uploaded, save=False)
    job.save()
    return job


def _progress(job: ImportJob):
    # Only the progress bar's fields, outside save(): the log covers what the file is, not how far a pass got.
    def report(percent: int) -> None:
        ImportJob.objects.filter(pk=job.pk).update(progress=percent, heartbeat_at=timezone.now())

    return report


def _finish(job: ImportJob, ctx: engine.Context, status: str) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        status=status,
        progress=100,
        rows_done=ctx.rows_done,
        rows_total=ctx.rows_done,
        errors=ctx.errors,
        error_count=ctx.error_count,
        summary=ctx.summary(),
        failure="",
    )


def _failed(job: ImportJob, error: Exception) -> None:
    logger.exception("import %s failed", job.pk)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.FAILED, failure=f"{type(error).__name__}: {error}"[:2000]
    )


def import_check(*, job: ImportJob) -> ImportJob:
    """The dry run: every row read and checked against the registers; nothing written."""
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.CHECKING, progress=0, heartbeat_at=timezone.now())
    try:
        ctx = engine.run(job, IMPORTERS[job.kind], apply=False, progress=_progress(job))
    except Exception as error:
        _failed(job, error)
        raise
    _finish(job, ctx, ImportStatus.REJECTED if ctx.failed else ImportStatus.CHECKED)
    job.refresh_from_db()
    return job


def import_confirm(*, job: ImportJob, user) -> ImportJob:
    """Mark a checked job as confirmed; the import itself runs in the worker (tasks.apply_import)."""
    require_import(user, job.scope, job.kind)
    updated = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.CHECKED).update(
        status=ImportStatus.APPLYING, progress=0, confirmed_by=user, heartbeat_at=timezone.now()
    )
    if not updated:
        raise ValidationError(_("Only a checked import without problems can be confirmed."))
    job.refresh_from_db()
    return job


def import_apply(*, job: ImportJob, user) -> ImportJob:
    """Write every row in one transaction, each with history naming the import; nothing when any row is wrong."""
    if job.status != ImportStatus.APPLYING:
        return job  # a message delivered twice, or a job nobody confirmed
    if not may_import(user, job.scope, job.kind):
        raise PermissionDenied
    try:
        with transaction.atomic():
            # A job given to two workers (a message delivered again) is imported once: the second waits here.
            if ImportJob.objects.select_for_update().filter(pk=job.pk, status=ImportStatus.APPLYING).first() is None:
                return job
            ctx = engine.run(job, IMPORTERS[job.kind], apply=True, user=user, progress=_progress(job))
            job.applied_at = timezone.now()
            job.applied_by = user
            job.status = ImportStatus.APPLIED
            job._history_user = user
            # The job's own row enters the log here, with the workbook's fingerprint and who confirmed it.
            job.save(update_fields=["applied_at", "status", "applied_by"])
    except engine.Rejected as rejected:
        _finish(job, rejected.args[0], ImportStatus.REJECTED)
        job.refresh_from_db()
        return job
    except Exception as error:
        _failed(job, error)
        raise
    _finish(job, ctx, ImportStatus.APPLIED)
    job.refresh_from_db()
    return job


REGISTER_OF_KIND = {
    "members": Register.MEMBERS,
    "assets": Register.ASSETS,
    "resources": Register.RESOURCES,
    "contracts": Register.CONTRACTS,
    "shares": Register.SHARES,
    "accounts": Register.ACCOUNTS,
}


@transaction.atomic
def baseline_confirm(*, user, organization: Organization, register: str) -> RegisterBaseline:
    """Lock a collective's register: from now on it changes only through matters and correction requests."""
    require_act(user, organization, IMPORT_ROLES)
    if organization.kind != OrganizationKind.COLLECTIVE:
        raise ValidationError(_("Only a collective economic organisation's registers have a baseline."))
    if register not in Register.values:
        raise ValidationError(_("Choose a register."))
    baseline, created = RegisterBaseline.objects.get_or_create(
        organization=organization, register=register, defaults={"confirmed_by": user}
    )
    if not created:
        raise ValidationError(_("This register's baseline is already confirmed."))
    return baseline


def imports_resume(*, older_than: datetime.timedelta) -> list[tuple[str, int]]:
    """Jobs whose worker went silent (a lost message, a killed worker): (task, job id) to queue again."""
    stale = timezone.now() - older_than
    found = []
    for job in ImportJob.objects.filter(status__in=[ImportStatus.CHECKING, ImportStatus.APPLYING]).filter(
        Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, created_at__lt=stale)
    ):
        # Claimed by moving the heartbeat: a sweep running twice queues a job once.
        claimed = ImportJob.objects.filter(pk=job.pk, status=job.status, heartbeat_at=job.heartbeat_at).update(
            heartbeat_at=timezone.now()
        )
        if claimed:
            found.append(("check" if job.status == ImportStatus.CHECKING else "apply", job.pk))
    return found


# --- the security administrator: initial passwords of an import's accounts -------------------------


def password_jobs(post):
    """The confirmed imports of accounts in the security administrator's area, newest first."""
    return ImportJob.objects.filter(
        kind=ImportKind.USERS, status=ImportStatus.APPLIED, scope__path__startswith=post.organization.path
    ).select_related("scope", "applied_by")


def job_usernames(job: ImportJob) -> list[str]:
    """The usernames on the job's workbook, as its import read them (rows the import refused are not there:
    a confirmed import had none)."""
    parse = USER_SHEET.by_key["username"].parse
    usernames = []
    with job.file.open("rb") as file:
        workbook = open_workbook(file)
        try:
            for _number, raw in read_sheet(workbook, USER_SHEET, lambda *problem: None):
                if raw.get("username") is None:
                    continue
                try:
                    usernames.append(parse(raw["username"]))
                except CellError:
                    continue  # not a row the import made
        finally:
            workbook.close()
    return usernames


def require_password_job(job: ImportJob) -> None:
    """A confirmed import of accounts, or a ValidationError saying what the job is instead."""
    if job.kind != ImportKind.USERS:
        # Said without the workbook's name or kind: a register import is no business of the security administrator.
        raise ValidationError(
            _(
                "Import #%(number)s is not an import of accounts: initial passwords are issued only for an import "
                "of accounts and posts."
            )
            % {"number": job.pk},
            code="not_accounts",
        )
    if job.status != ImportStatus.APPLIED:
        raise ValidationError(
            _(
                "Import #%(number)s is not imported (%(status)s): initial passwords are issued once the system "
                "administrator has confirmed it and its accounts are made."
            )
            % {"number": job.pk, "status": job.get_status_display()}
        )


def job_accounts(post, job: ImportJob):
    """The job's accounts that the security administrator looks after (their area), by username."""
    return accounts_in_scope(post).filter(username__in=job_usernames(job)).select_related("account_profile")


def job_initial_passwords(*, actor, job: ImportJob, again: bool = False) -> list[tuple]:
    """One-time passwords for the job's accounts (``initial_passwords_issue``): (account, password) pairs."""
    post = require_administrator(actor, Role.SECURITY_ADMIN)
    if not within(job.scope, post):
        raise PermissionDenied
    require_password_job(job)
    source = (_("import #%(number)s: %(name)s") % {"number": job.pk, "name": job.original_name})[:200]
    issued = initial_passwords_issue(actor=actor, accounts=list(job_accounts(post, job)), source=source, again=again)
    if not issued and again:
        raise ValidationError(_("Every account of this import has already chosen its own password: nothing to reset."))
    if not issued:
        raise ValidationError(
            _(
                "The initial passwords of this import were already issued: the sheet is given only once. To give "
                "new ones, reset them again below; the earlier passwords then stop working."
            )
        )
    return issued
