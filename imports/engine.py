"""One pass over an uploaded workbook: every row read, checked and planned; written only when applying.

The dry run and the import are the same pass (``run``): the dry run plans and writes nothing; the import
runs it again inside one transaction, writing each chunk's planned rows as it goes, and rolls all of it
back when any row is wrong, so what the administrator confirmed is checked again against the registers
as they are at that moment. Rows are read and planned in chunks of ``CHUNK`` (one query per chunk for
the rows already registered), so time grows with the rows and memory does not, beyond one small entry
per row for the duplicate-key check.
"""

import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.utils.translation import gettext as _

from documents.coverage import log_rows
from organizations.models import Organization, OrganizationKind
from registers.models import ContractPayment, FundAccount, Member, Resource, ShareSetup

from .columns import CellError, SheetSpec, is_blank
from .models import ImportJob, Register, RegisterBaseline
from .workbooks import open_workbook, read_sheet, rows_estimate

CHUNK = 500
# Problems kept on the job for the page and the report; the count says how many there were.
ERRORS_KEPT = 5000
# Changes listed in the preview (the counts cover all of them).
CHANGES_KEPT = 500


# Models without a save() of their own (Asset has one): their new rows are inserted a chunk at a time.
BULK_MODELS = frozenset({Member, Resource, FundAccount, ContractPayment, ShareSetup})


class Rejected(Exception):
    """Some row is wrong: the import's transaction is rolled back."""


@dataclass
class Row:
    sheet: SheetSpec
    number: int
    raw: dict
    values: dict = field(default_factory=dict)
    failed: bool = False

    def get(self, key, default=None):
        return self.values.get(key, default)


@dataclass
class Change:
    row: Row
    action: str  # "create", "update" or "unchanged"
    label: str
    instance: models.Model | None = None
    fields: list = field(default_factory=list)  # [(column header, old, new)]
    collective: Organization | None = None
    register: str = ""
    # Writes something other than saving ``instance`` (e.g. a share ledger entry).
    write: Callable[[], None] | None = None


def short_hash(value: str) -> int:
    """A compact key for the duplicate check (a 64-bit integer), never the ID number itself."""
    return int.from_bytes(hashlib.blake2b(value.encode(), digest_size=8).digest(), "big")


class Context:
    """What one pass knows: the job, who runs it, the problems so far, and the keys seen in the file."""

    def __init__(
        self,
        job: ImportJob,
        *,
        apply: bool,
        user=None,
        progress: Callable[[int], None] | None = None,
        keep_pending: bool = False,
    ):
        self.job = job
        # A workbook of several kinds keeps the rows it plans, so that later sheets can refer to them
        # (a contract to a resource card on the same workbook); a workbook of one kind does not need to.
        self.keep_pending = keep_pending
        self.scope = job.scope
        self.apply = apply
        self.user = user
        self.progress = progress
        self.errors: list[dict] = []
        self.error_count = 0
        self.counts: dict[str, Counter] = defaultdict(Counter)
        self.changes: list[dict] = []
        self.seen: dict[str, dict] = defaultdict(dict)
        self.pending: dict[str, dict] = defaultdict(dict)  # rows planned by this file, by kind and key
        self.rows_done = 0
        self.failed_rows: dict[str, dict] = defaultdict(dict)
        self._organizations: dict[str, Organization | None] = {}
        self._baselines: set[tuple[int, str]] | None = None
        self.reason = (_("Import #%(number)s: %(name)s") % {"number": job.pk, "name": job.original_name})[:100]

    # --- problems ------------------------------------------------------------------------------

    def problem(self, sheet: str, row: int, column: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < ERRORS_KEPT:
            self.errors.append({"sheet": sheet, "row": row, "column": column, "message": str(message)})

    def row_problem(self, row: Row, key: str | None, message) -> None:
        row.failed = True
        self.problem(row.sheet.name, row.number, row.sheet.header_of(key) if key else "", message)

    @property
    def failed(self) -> bool:
        return self.error_count > 0

    # --- lookups -------------------------------------------------------------------------------

    def organization(self, code: str) -> Organization | None:
        if code not in self._organizations:
            self._organizations[code] = Organization.objects.filter(code=code).first()
        return self._organizations[code]

    def forget_organization(self, code: str) -> None:
        self._organizations.pop(code, None)

    def within_scope(self, organization: Organization) -> bool:
        return bool(organization.path) and organization.path.startswith(self.scope.path)

    def collective(self, row: Row, key: str = "collective") -> Organization | None:
        """The row's collective, by its code: it must exist (or be planned by this file), be a collective and lie
        in the jurisdiction. One planned by this file has no primary key yet in a dry run."""
        code = row.get(key)
        if code is None:
            return None
        organization = self.pending["org"].get(code) or self.organization(code)
        if organization is None:
            self.row_problem(
                row,
                key,
                _("No organisation has the code %(code)s: import the administrative tree first.") % {"code": code},
            )
        elif organization.kind != OrganizationKind.COLLECTIVE:
            self.row_problem(
                row, key, _("%(name)s is not a collective economic organisation.") % {"name": organization}
            )
        elif organization.pk is not None and not self.within_scope(organization):
            self.row_problem(row, key, _("%(name)s lies outside your jurisdiction.") % {"name": organization})
        else:
            return organization
        return None

    def locked(self, organization: Organization, register: str) -> bool:
        if self._baselines is None:
            self._baselines = set(
                RegisterBaseline.objects.filter(organization__path__startswith=self.scope.path).values_list(
                    "organization_id", "register"
                )
            )
        return (organization.pk, register) in self._baselines

    def first_time(self, row: Row, kind: str, key, key_column: str, message: str | None = None) -> bool:
        """False (and a problem on the row) when the key was already on an earlier row of the file."""
        earlier = self.seen[kind].get(key)
        if earlier is not None:
            text = message or _("Appears twice in the file: also on row %(row)s.")
            self.row_problem(row, key_column, text % {"row": earlier})
            return False
        self.seen[kind][key] = row.number
        return True

    def refers_to_failed(self, row: Row, key_column: str, kind: str, key) -> bool:
        """When a row refers to a row of an earlier sheet that has problems, say so (not "no such record")."""
        found = self.failed_rows.get(kind, {}).get(key)
        if found is None:
            return False
        sheet, number = found
        self.row_problem(
            row,
            key_column,
            _("This row refers to row %(row)s of the “%(sheet)s” sheet, which has problems: correct that row first.")
            % {"row": number, "sheet": sheet},
        )
        return True

    # --- recording the plan ----------------------------------------------------------------------

    def record(self, change: Change) -> None:
        self.counts[change.row.sheet.name][change.action] += 1
        if change.action != "unchanged" and len(self.changes) < CHANGES_KEPT:
            self.changes.append(
                {
                    "sheet": change.row.sheet.name,
                    "row": change.row.number,
                    "action": change.action,
                    "label": change.label,
                    "fields": [[header, _shown(old), _shown(new)] for header, old, new in change.fields],
                }
            )

    def summary(self) -> dict:
        return {"counts": {sheet: dict(counts) for sheet, counts in self.counts.items()}, "changes": self.changes}


def _shown(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def parse_row(ctx: Context, row: Row) -> None:
    """Read every cell of the row; each unreadable or missing one is a problem on the row."""
    for column in row.sheet.columns:
        value = row.raw.get(column.key)
        if is_blank(value):
            if column.required:
                ctx.row_problem(row, column.key, _("This column must be filled."))
            row.values[column.key] = None
            continue
        try:
            row.values[column.key] = column.parse(value)
        except CellError as error:
            ctx.row_problem(row, column.key, str(error))


def compare(instance: models.Model, values: dict, headers: dict[str, str]) -> list:
    """Set the values on the instance; the (header, old, new) of each that differs."""
    changed = []
    for name, new in values.items():
        old = getattr(instance, name)
        if old != new:
            changed.append((headers.get(name, name), old, new))
            setattr(instance, name, new)
    return changed


def plan_instance(
    ctx: Context,
    row: Row,
    *,
    existing: models.Model | None,
    model,
    values: dict,
    headers: dict[str, str],
    label: str,
    collective=None,
    register: str = "",
    words: dict[str, dict] | None = None,
) -> Change | None:
    """Create or update one model row from the row's values, checked by the model's own field validation.

    Relations are not validated here (one query per row): the importer has found them itself."""
    if existing is None:
        instance = model(**values)
        fields = [(headers[name], None, value) for name, value in values.items() if name in headers]
        change = Change(row=row, action="create", label=label, instance=instance, fields=fields)
    else:
        instance = existing
        fields = compare(instance, values, headers)
        change = Change(
            row=row, action="update" if fields else "unchanged", label=label, instance=instance, fields=fields
        )
    change.collective, change.register = collective, register
    if words:
        by_header = {headers[name]: words[name] for name in words if name in headers}
        change.fields = [
            (header, *(by_header[header].get(value, value) for value in (old, new)))
            if header in by_header
            else (header, old, new)
            for header, old, new in change.fields
        ]
    if change.action != "unchanged":
        relations = [model_field.name for model_field in model._meta.fields if model_field.is_relation]
        try:
            instance.full_clean(exclude=relations, validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            reverse = {name: key for key, name in _field_keys(row, headers).items()}
            for name, messages in error.message_dict.items():
                key = reverse.get(name)
                for message in messages:
                    ctx.row_problem(row, key, message)
            return None
    return change


def _field_keys(row: Row, headers: dict[str, str]) -> dict[str, str]:
    """{column key: model field name} for the columns whose header names a field in ``headers``."""
    by_header = {column.header: column.key for column in row.sheet.columns}
    return {by_header[header]: name for name, header in headers.items() if header in by_header}


def refuse_locked(ctx: Context, change: Change) -> bool:
    """A row that would change a register whose baseline is confirmed is refused (Jilin measures)."""
    if change.action == "unchanged" or not change.register or change.collective is None:
        return False
    if change.collective.pk is None or not ctx.locked(change.collective, change.register):
        return False
    ctx.row_problem(
        change.row,
        None,
        _(
            "The %(register)s of %(collective)s has a confirmed baseline: it now changes only through a matter "
            "or a recorded correction request, never through an import."
        )
        % {"register": _register_label(change.register), "collective": change.collective},
    )
    return True


def _register_label(register: str) -> str:
    return str(Register(register).label)


def write(ctx: Context, changes: list[Change]) -> None:
    """Write a chunk's planned rows: new rows of a model inserted together (with their history rows and
    ledger leaves, as ``save()`` would write them), changed rows saved one by one."""
    new: dict[type, list] = defaultdict(list)
    for change in changes:
        if change.action == "unchanged":
            continue
        instance = change.instance
        if change.write is not None:
            change.write()
        elif (
            change.action == "create"
            and type(instance) in BULK_MODELS
            and connection.features.can_return_rows_from_bulk_insert
        ):
            new[type(instance)].append(instance)
        else:
            instance._change_reason = ctx.reason
            instance._history_user = ctx.user
            instance.save()
    for model, instances in new.items():
        for instance in instances:
            instance._history_user = ctx.user
        model.objects.bulk_create(instances)
        model.history.bulk_history_create(instances, default_user=ctx.user, default_change_reason=ctx.reason)
        log_rows(model, instances)


def run(job: ImportJob, importer, *, apply: bool, user=None, progress=None) -> Context:
    """Read, check and plan every row of the job's workbook; with ``apply``, write them (inside the caller's
    transaction) and raise ``Rejected`` when any row is wrong."""
    ctx = Context(job, apply=apply, user=user, progress=progress, keep_pending=importer.keeps_pending)
    with job.file.open("rb") as file:
        workbook = open_workbook(file)
        try:
            total = rows_estimate(workbook, importer.sheets)
            for spec in importer.sheets:
                chunk: list[Row] = []
                for number, raw in read_sheet(workbook, spec, ctx.problem):
                    chunk.append(Row(sheet=spec, number=number, raw=raw))
                    if len(chunk) >= CHUNK:
                        _chunk(ctx, importer, spec, chunk, total)
                        chunk = []
                if chunk:
                    _chunk(ctx, importer, spec, chunk, total)
                importer.finish_sheet(ctx, spec)
        finally:
            workbook.close()
    if apply and ctx.failed:
        raise Rejected(ctx)
    return ctx


def _chunk(ctx: Context, importer, spec: SheetSpec, rows: list[Row], total: int) -> None:
    for row in rows:
        parse_row(ctx, row)
    changes = [change for change in importer.plan(ctx, spec, rows) if change is not None]
    kept = []
    for change in changes:
        if change.row.failed or refuse_locked(ctx, change):
            continue
        ctx.record(change)
        kept.append(change)
    if ctx.keep_pending:
        for row in rows:
            failed = importer.failed_key(spec, row) if row.failed else None
            if failed is not None:
                ctx.failed_rows[failed[0]][failed[1]] = (spec.name, row.number)
    if ctx.apply and not ctx.failed:
        write(ctx, kept)
    ctx.rows_done += len(rows)
    if ctx.progress is not None:
        ctx.progress(min(99, ctx.rows_done * 100 // max(total, 1)))


def apply_atomically(job: ImportJob, importer, *, user, progress=None) -> Context:
    with transaction.atomic():
        return run(job, importer, apply=True, user=user, progress=progress)
