"""Excel (.xlsx) exports of the registers: the rows a list page shows under its filters, with translated headers."""

import datetime
import functools
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import models
from django.http import FileResponse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from organizations.signals import security_event

from .models import Asset, Contract, FundAccount, FundMovement, Member, Resource, ShareKind, ShareLedgerEntry
from .tasks import masked_id_number

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Rows are written to a temporary file that spills to disk past this size, then streamed out.
SPOOL_BYTES = 4 * 1024 * 1024
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Column:
    header: str | Promise
    value: Callable[[Any], Any]


def label(model: type[models.Model], name: str) -> Promise:
    """A field's verbose name, capitalised, translated when the header is written."""
    return capfirst(model._meta.get_field(name).verbose_name)


def cents(amount) -> Decimal:
    """Yuan with two places: SQLite returns sums and arithmetic on decimals without their scale."""
    return Decimal(amount).quantize(CENT)


def _yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


def _matter(row) -> str:
    matter = getattr(row, "matter", None) or getattr(row, "source_matter", None)
    return f"#{matter.pk} {matter.title}" if matter else ""


def _cell_value(value):
    if value is None:
        return None
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, datetime.datetime):
        # Excel has no time zones: write the local wall-clock time.
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    return value


def _cell(sheet, value) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=_cell_value(value))
    if isinstance(cell.value, str) and cell.data_type == "f":
        # Text typed by users ("=SUM(...)", "=HYPERLINK(...)") stays text: no formula runs when the file opens.
        cell.data_type = "s"
    return cell


def export_logged(view):
    """Every export of a register goes to the security log (who took which rows out, under which filters)."""

    @functools.wraps(view)
    def logged(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code == 200:
            security_event.send(
                sender=export_logged,
                kind="export",
                description=_("Export %(name)s (%(query)s).")
                % {"name": request.resolver_match.url_name, "query": request.GET.urlencode() or "—"},
                request=request,
            )
        return response

    return logged


def xlsx_response(*, rows: Iterable, columns: Sequence[Column], title: str | Promise, filename: str) -> FileResponse:
    """One sheet: a header row, then a row per object; streamed back as an attachment."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(title)[:31])
    sheet.append([_cell(sheet, str(column.header)) for column in columns])
    for row in rows:
        sheet.append([_cell(sheet, column.value(row)) for column in columns])
    output = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    workbook.save(output)
    output.seek(0)
    stamp = timezone.localdate().strftime("%Y%m%d")
    return FileResponse(output, as_attachment=True, filename=f"{filename}-{stamp}.xlsx", content_type=XLSX_CONTENT_TYPE)


ASSET_COLUMNS = [
    Column(label(Asset, "code"), lambda asset: asset.code),
    Column(label(Asset, "name"), lambda asset: asset.name),
    Column(label(Asset, "category"), lambda asset: asset.category),
    Column(label(Asset, "quantity"), lambda asset: asset.quantity),
    Column(label(Asset, "unit_price"), lambda asset: asset.unit_price),
    Column(label(Asset, "original_value"), lambda asset: asset.original_value),
    Column(label(Asset, "acquired_on"), lambda asset: asset.acquired_on),
    Column(label(Asset, "status"), lambda asset: asset.get_status_display()),
    Column(label(Asset, "disposed_on"), lambda asset: asset.disposed_on),
    Column(capfirst(gettext_lazy("collective")), lambda asset: asset.organization.name),
    Column(label(Asset, "source_matter"), _matter),
]

FUND_ACCOUNT_COLUMNS = [
    Column(label(FundAccount, "name"), lambda account: account.name),
    Column(label(FundAccount, "kind"), lambda account: account.get_kind_display()),
    Column(label(FundAccount, "account_number"), lambda account: account.account_number),
    Column(label(FundAccount, "opening_balance"), lambda account: account.opening_balance),
    Column(gettext_lazy("Income (yuan)"), lambda account: cents(account.income)),
    Column(gettext_lazy("Payments (yuan)"), lambda account: cents(account.payments)),
    Column(gettext_lazy("Balance (yuan)"), lambda account: cents(account.balance)),
    Column(capfirst(gettext_lazy("collective")), lambda account: account.organization.name),
]

FUND_MOVEMENT_COLUMNS = [
    Column(label(FundMovement, "occurred_on"), lambda movement: movement.occurred_on),
    Column(label(FundMovement, "direction"), lambda movement: movement.get_direction_display()),
    Column(label(FundMovement, "amount"), lambda movement: movement.amount),
    Column(label(FundMovement, "counterparty"), lambda movement: movement.counterparty),
    Column(label(FundMovement, "purpose"), lambda movement: movement.purpose),
    Column(capfirst(gettext_lazy("matter")), _matter),
    Column(capfirst(gettext_lazy("fund account")), lambda movement: str(movement.account)),
]

RESOURCE_COLUMNS = [
    Column(label(Resource, "code"), lambda resource: resource.code),
    Column(label(Resource, "name"), lambda resource: resource.name),
    Column(label(Resource, "kind"), lambda resource: resource.get_kind_display()),
    Column(label(Resource, "location"), lambda resource: resource.location),
    Column(label(Resource, "area_mu"), lambda resource: resource.area_mu),
    Column(label(Resource, "status"), lambda resource: resource.get_status_display()),
    Column(capfirst(gettext_lazy("collective")), lambda resource: resource.organization.name),
]


def _subject(contract: Contract) -> str:
    return str(contract.resource or contract.asset or "")


CONTRACT_COLUMNS = [
    Column(label(Contract, "code"), lambda contract: contract.code),
    Column(label(Contract, "kind"), lambda contract: contract.get_kind_display()),
    Column(label(Contract, "counterparty"), lambda contract: contract.counterparty),
    Column(gettext_lazy("Subject"), _subject),
    Column(label(Contract, "start_date"), lambda contract: contract.start_date),
    Column(label(Contract, "end_date"), lambda contract: contract.end_date),
    Column(label(Contract, "amount"), lambda contract: contract.amount),
    Column(label(Contract, "trading_reference"), lambda contract: contract.trading_reference),
    Column(label(Contract, "status"), lambda contract: contract.get_status_display()),
    Column(capfirst(gettext_lazy("collective")), lambda contract: contract.organization.name),
    Column(capfirst(gettext_lazy("matter")), _matter),
]

MEMBER_COLUMNS = [
    Column(label(Member, "name"), lambda member: member.name),
    # Never the full number outside the member's own record.
    Column(label(Member, "id_number"), lambda member: masked_id_number(member.id_number)),
    Column(label(Member, "household"), lambda member: member.household),
    Column(label(Member, "basis"), lambda member: member.get_basis_display()),
    Column(label(Member, "status"), lambda member: member.get_status_display()),
    Column(label(Member, "is_party_member"), lambda member: _yes_no(member.is_party_member)),
    Column(label(Member, "is_representative"), lambda member: _yes_no(member.is_representative)),
    Column(label(Member, "is_committee_member"), lambda member: _yes_no(member.is_committee_member)),
    Column(label(Member, "joined_on"), lambda member: member.joined_on),
    Column(capfirst(gettext_lazy("collective")), lambda member: member.organization.name),
    Column(label(Member, "source_matter"), _matter),
]

SHARE_LEDGER_COLUMNS = [
    Column(gettext_lazy("Recorded at"), lambda entry: entry.recorded_at),
    Column(capfirst(gettext_lazy("member")), lambda entry: entry.member.name),
    Column(label(ShareLedgerEntry, "kind"), lambda entry: entry.get_kind_display()),
    Column(label(ShareLedgerEntry, "change"), lambda entry: entry.change),
    Column(label(ShareLedgerEntry, "reason"), lambda entry: entry.get_reason_display()),
    Column(label(ShareLedgerEntry, "counterpart"), lambda entry: entry.counterpart.name if entry.counterpart else ""),
    Column(capfirst(gettext_lazy("collective")), lambda entry: entry.organization.name),
    Column(capfirst(gettext_lazy("matter")), _matter),
]


def share_holdings_columns() -> list[Column]:
    """One column per share kind; rows are the dicts of the holdings query."""
    return [
        Column(capfirst(gettext_lazy("member")), lambda row: row["member__name"]),
        Column(label(Member, "household"), lambda row: row["member__household"]),
        *[Column(kind.label, lambda row, kind=kind: row[kind.value]) for kind in ShareKind],
        Column(gettext_lazy("Total shares"), lambda row: row["total"]),
        Column(capfirst(gettext_lazy("collective")), lambda row: row["organization__name"]),
    ]
