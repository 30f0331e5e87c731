"""The register pages (台账): lists with filters, pagination and Excel export, and a page per record.

Every queryset goes through the jurisdiction door: lists show only rows under the user's posts, and
a record outside them is a 404. Lists run a fixed number of queries whatever the number of rows: keyset
pages in each register's own order (listing.keyset; no OFFSET) and a count that stops at "1,000+".
"""

import datetime
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.db.models import DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.http import QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from flows.models import Disposal, Leasing, ResourceContracting
from listing.keyset import KeysetPage, Sorting, SortKey, bounded_count, page_from_request
from organizations.jurisdiction import get_for_user, visible, visible_organizations
from organizations.models import OrganizationKind
from protection.fields import BlindIndexField

from . import exports
from .funds import fund_balance
from .models import (
    AccountKind,
    Asset,
    AssetStatus,
    Contract,
    ContractKind,
    ContractPayment,
    ContractStatus,
    Direction,
    FundAccount,
    FundMovement,
    Member,
    MemberStatus,
    Resource,
    ResourceKind,
    ResourceStatus,
    ShareKind,
    ShareLedgerEntry,
    ShareReason,
)
from .shares import holdings
from .tasks import masked_id_number

PAGE_SIZE = 50
MEMBER_PAGE_SIZE = 100
ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=16, decimal_places=2)


# --- reading the filters -----------------------------------------------------------


def _choice(params: QueryDict, name: str, choices) -> str:
    value = params.get(name, "")
    return value if value in choices.values else ""


def _number(params: QueryDict, name: str) -> int | None:
    value = params.get(name, "").strip()
    return int(value) if value.isdigit() else None


def _date(params: QueryDict, name: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(params.get(name, "").strip())
    except ValueError:
        return None


def _flag(params: QueryDict, name: str) -> bool:
    return params.get(name, "") in ("1", "on", "true")


def _collective_filter(request, queryset: QuerySet, field: str = "organization") -> tuple[QuerySet, dict]:
    """Filter by one collective the user may see; the choices for the select come along."""
    collective = _number(request.GET, "collective")
    if collective is not None:
        queryset = queryset.filter(**{f"{field}_id": collective})
    collectives = visible_organizations(request.user, kind=OrganizationKind.COLLECTIVE).only("pk", "name")
    return queryset, {"collectives": collectives, "collective": collective}


# Each register in its own order, collective first (the jurisdiction-first indexes of migration 0012 follow
# it); the primary key breaks ties. The collective is its id: a page seeks along the index, not a join.
ASSET_SORTING = Sorting(keys=[SortKey("code", ("organization_id", "code"))], default="code")
RESOURCE_SORTING = Sorting(keys=[SortKey("code", ("organization_id", "code"))], default="code")
CONTRACT_SORTING = Sorting(keys=[SortKey("start", ("organization_id", "-start_date", "code"))], default="start")
MEMBER_SORTING = Sorting(keys=[SortKey("household", ("organization_id", "household", "name"))], default="household")
FUND_ACCOUNT_SORTING = Sorting(keys=[SortKey("name", ("organization_id", "name"))], default="name")
MOVEMENT_SORTING = Sorting(keys=[SortKey("occurred", "occurred_on")], default="-occurred")
SHARE_LEDGER_SORTING = Sorting(keys=[SortKey("recorded", "recorded_at")], default="-recorded")
# Holdings are grouped rows (dicts), one per member: the member's id is the tiebreak.
HOLDINGS_SORTING = Sorting(
    keys=[SortKey("household", ("organization__name", "member__household", "member__name"))],
    default="household",
    tiebreak="member_id",
)


def _page(request, queryset: QuerySet, sorting: Sorting, size: int = PAGE_SIZE) -> KeysetPage:
    """The keyset page the URL asks for; ``page.extra["found"]`` counts the rows up to "1,000+"."""
    page = page_from_request(request, queryset.order_by(), sorting=sorting, size=size)
    page.extra["found"] = bounded_count(queryset)
    return page


# --- history -----------------------------------------------------------------------


def _shown(field, value) -> str:
    if value in (None, ""):
        return "—"
    if field.name == "id_number":
        return masked_id_number(str(value))
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return str(value)


def _changes(entry, previous) -> list[tuple[str, str, str]]:
    model = entry.instance_type
    changes = []
    for change in entry.diff_against(previous).changes:
        field = model._meta.get_field(change.field)
        if isinstance(field, BlindIndexField):
            continue  # a keyed hash of the ID number: nothing a reader can use
        changes.append((capfirst(field.verbose_name), _shown(field, change.old), _shown(field, change.new)))
    return changes


def record_history(*querysets: QuerySet) -> list:
    """Every saved version of the records, newest first, each with who, when and what changed.

    A record's versions are read together and compared with each other in memory, one query per
    history table, instead of asking for each version's predecessor."""
    entries = []
    for queryset in querysets:
        pk_name = queryset.model.instance_type._meta.pk.attname
        rows = list(queryset.select_related("history_user").order_by(pk_name, "history_date", "history_id"))
        previous = None
        for entry in rows:
            same_record = previous is not None and getattr(previous, pk_name) == getattr(entry, pk_name)
            entry.changes = _changes(entry, previous) if same_record and entry.history_type == "~" else []
            entry.record_label = entry.instance_type._meta.verbose_name
            previous = entry
        entries.extend(rows)
    return sorted(entries, key=lambda entry: (entry.history_date, entry.history_id), reverse=True)


# --- assets ------------------------------------------------------------------------


def _assets(request) -> tuple[QuerySet, dict]:
    params = request.GET
    assets = visible(request.user, Asset.objects.select_related("organization", "source_matter"))
    status = _choice(params, "status", AssetStatus)
    if status:
        assets = assets.filter(status=status)
    categories = list(
        visible(request.user, Asset.objects.order_by("category").values_list("category", flat=True).distinct())
    )
    category = params.get("category", "")
    if category in categories:
        assets = assets.filter(category=category)
    else:
        category = ""
    assets, collectives = _collective_filter(request, assets)
    return assets, {
        "statuses": AssetStatus.choices,
        "status": status,
        "categories": categories,
        "category": category,
        **collectives,
    }


@login_required
def asset_list(request):
    assets, filters = _assets(request)
    return render(request, "registers/asset_list.html", {"page": _page(request, assets, ASSET_SORTING), **filters})


@login_required
@exports.export_logged
def asset_export(request):
    assets, _filters = _assets(request)
    return exports.xlsx_response(
        rows=assets.iterator(), columns=exports.ASSET_COLUMNS, title=_("Asset register"), filename="assets"
    )


@login_required
def asset_detail(request, pk: int):
    asset = get_for_user(request.user, Asset.objects.select_related("organization", "source_matter"), pk)
    context = {
        "asset": asset,
        "contracts": asset.contracts.select_related("matter").order_by("-start_date", "pk"),
        "leasings": Leasing.objects.filter(asset=asset).select_related("matter").order_by("-matter__created_at"),
        "disposals": Disposal.objects.filter(asset=asset).select_related("matter").order_by("-matter__created_at"),
        "history": record_history(asset.history.all()),
    }
    return render(request, "registers/asset_detail.html", context)


# --- fund accounts -----------------------------------------------------------------


def _with_balances(accounts: QuerySet) -> QuerySet:
    """Income, payments and balance of each account, summed in the same query as the accounts."""
    return accounts.annotate(
        income=Sum("movements__amount", filter=Q(movements__direction=Direction.IN), default=ZERO),
        payments=Sum("movements__amount", filter=Q(movements__direction=Direction.OUT), default=ZERO),
    ).annotate(
        balance=ExpressionWrapper(F("opening_balance") + F("income") - F("payments"), output_field=MONEY),
    )


def _fund_accounts(request) -> tuple[QuerySet, dict]:
    accounts = visible(request.user, FundAccount.objects.select_related("organization"))
    kind = _choice(request.GET, "kind", AccountKind)
    if kind:
        accounts = accounts.filter(kind=kind)
    accounts, collectives = _collective_filter(request, accounts)
    # A grouped query drops Meta.ordering: order explicitly, or pages could overlap.
    accounts = _with_balances(accounts).order_by("organization__path", "name", "pk")
    return accounts, {"kinds": AccountKind.choices, "kind": kind, **collectives}


@login_required
def fund_account_list(request):
    accounts, filters = _fund_accounts(request)
    page = _page(request, accounts, FUND_ACCOUNT_SORTING)
    for account in page:
        account.income, account.payments, account.balance = map(
            exports.cents, (account.income, account.payments, account.balance)
        )
    return render(request, "registers/fund_account_list.html", {"page": page, **filters})


@login_required
@exports.export_logged
def fund_account_export(request):
    accounts, _filters = _fund_accounts(request)
    return exports.xlsx_response(
        rows=accounts, columns=exports.FUND_ACCOUNT_COLUMNS, title=_("Fund accounts"), filename="fund-accounts"
    )


def _movements(request, account: FundAccount) -> tuple[QuerySet, dict]:
    params = request.GET
    movements = account.movements.select_related("matter", "recorded_by", "account")
    direction = _choice(params, "direction", Direction)
    if direction:
        movements = movements.filter(direction=direction)
    since, until = _date(params, "since"), _date(params, "until")
    if since:
        movements = movements.filter(occurred_on__gte=since)
    if until:
        movements = movements.filter(occurred_on__lte=until)
    return movements, {"directions": Direction.choices, "direction": direction, "since": since, "until": until}


def _fund_account(request, pk: int) -> FundAccount:
    return get_for_user(request.user, FundAccount.objects.select_related("organization"), pk)


@login_required
def fund_account_detail(request, pk: int):
    account = _fund_account(request, pk)
    movements, filters = _movements(request, account)
    totals = movements.aggregate(
        income=Sum("amount", filter=Q(direction=Direction.IN), default=ZERO),
        payments=Sum("amount", filter=Q(direction=Direction.OUT), default=ZERO),
    )
    context = {
        "account": account,
        "balance": fund_balance(account),
        "page": _page(request, movements, MOVEMENT_SORTING),
        "totals": {key: exports.cents(value) for key, value in totals.items()},
        # Movements are shown above; the history adds the account's own changes and any later edit of a movement.
        "history": record_history(
            account.history.all(), FundMovement.history.filter(account_id=account.pk).exclude(history_type="+")
        ),
        **filters,
    }
    return render(request, "registers/fund_account_detail.html", context)


@login_required
@exports.export_logged
def fund_movement_export(request, pk: int):
    account = _fund_account(request, pk)
    movements, _filters = _movements(request, account)
    return exports.xlsx_response(
        rows=movements.iterator(),
        columns=exports.FUND_MOVEMENT_COLUMNS,
        title=_("Fund movements"),
        filename=f"fund-movements-{account.pk}",
    )


# --- resources ---------------------------------------------------------------------


def _resources(request) -> tuple[QuerySet, dict]:
    resources = visible(request.user, Resource.objects.select_related("organization"))
    kind = _choice(request.GET, "kind", ResourceKind)
    if kind:
        resources = resources.filter(kind=kind)
    status = _choice(request.GET, "status", ResourceStatus)
    if status:
        resources = resources.filter(status=status)
    resources, collectives = _collective_filter(request, resources)
    return resources, {
        "kinds": ResourceKind.choices,
        "kind": kind,
        "statuses": ResourceStatus.choices,
        "status": status,
        **collectives,
    }


@login_required
def resource_list(request):
    resources, filters = _resources(request)
    return render(
        request, "registers/resource_list.html", {"page": _page(request, resources, RESOURCE_SORTING), **filters}
    )


@login_required
@exports.export_logged
def resource_export(request):
    resources, _filters = _resources(request)
    return exports.xlsx_response(
        rows=resources.iterator(), columns=exports.RESOURCE_COLUMNS, title=_("Resource register"), filename="resources"
    )


@login_required
def resource_detail(request, pk: int):
    resource = get_for_user(request.user, Resource.objects.select_related("organization"), pk)
    context = {
        "resource": resource,
        "contracts": resource.contracts.select_related("matter").order_by("-start_date", "pk"),
        "contractings": ResourceContracting.objects.filter(resource=resource)
        .select_related("matter")
        .order_by("-matter__created_at"),
        "history": record_history(resource.history.all()),
    }
    return render(request, "registers/resource_detail.html", context)


# --- contracts ---------------------------------------------------------------------


def _contracts(request) -> tuple[QuerySet, dict]:
    contracts = visible(request.user, Contract.objects.select_related("organization", "resource", "asset", "matter"))
    kind = _choice(request.GET, "kind", ContractKind)
    if kind:
        contracts = contracts.filter(kind=kind)
    status = _choice(request.GET, "status", ContractStatus)
    if status:
        contracts = contracts.filter(status=status)
    expiring = _number(request.GET, "expiring")
    if expiring is not None:
        today = timezone.localdate()
        contracts = contracts.filter(
            status=ContractStatus.ACTIVE,
            end_date__gte=today,
            end_date__lte=today + datetime.timedelta(days=expiring),
        )
    contracts, collectives = _collective_filter(request, contracts)
    return contracts, {
        "kinds": ContractKind.choices,
        "kind": kind,
        "statuses": ContractStatus.choices,
        "status": status,
        "expiring": expiring,
        **collectives,
    }


@login_required
def contract_list(request):
    contracts, filters = _contracts(request)
    return render(
        request, "registers/contract_list.html", {"page": _page(request, contracts, CONTRACT_SORTING), **filters}
    )


@login_required
@exports.export_logged
def contract_export(request):
    contracts, _filters = _contracts(request)
    return exports.xlsx_response(
        rows=contracts.iterator(), columns=exports.CONTRACT_COLUMNS, title=_("Contract register"), filename="contracts"
    )


@login_required
def contract_detail(request, pk: int):
    contract = get_for_user(
        request.user, Contract.objects.select_related("organization", "resource", "asset", "matter"), pk
    )
    payments = list(contract.payments.order_by("due_on", "pk"))
    today = timezone.localdate()
    for payment in payments:
        payment.overdue = payment.paid_on is None and payment.due_on < today
    context = {
        "contract": contract,
        "payments": payments,
        "scheduled": sum((payment.amount for payment in payments), ZERO),
        "paid": sum((payment.amount for payment in payments if payment.paid_on), ZERO),
        "history": record_history(contract.history.all(), ContractPayment.history.filter(contract_id=contract.pk)),
    }
    return render(request, "registers/contract_detail.html", context)


# --- members -----------------------------------------------------------------------


def _members(request) -> tuple[QuerySet, dict]:
    params = request.GET
    members = visible(request.user, Member.objects.select_related("organization", "source_matter"))
    status = _choice(params, "status", MemberStatus)
    if status:
        members = members.filter(status=status)
    household = params.get("household", "").strip()
    if household:
        members = members.filter(household__icontains=household)
    name = params.get("q", "").strip()
    if name:
        members = members.filter(name__icontains=name)
    party, representative = _flag(params, "party"), _flag(params, "representative")
    if party:
        members = members.filter(is_party_member=True)
    if representative:
        members = members.filter(is_representative=True)
    members, collectives = _collective_filter(request, members)
    return members, {
        "statuses": MemberStatus.choices,
        "status": status,
        "household": household,
        "q": name,
        "party": party,
        "representative": representative,
        **collectives,
    }


@login_required
def member_list(request):
    members, filters = _members(request)
    page = _page(request, members, MEMBER_SORTING, MEMBER_PAGE_SIZE)
    for member in page:
        member.masked_id_number = masked_id_number(member.id_number)
    return render(request, "registers/member_list.html", {"page": page, **filters})


@login_required
@exports.export_logged
def member_export(request):
    members, _filters = _members(request)
    return exports.xlsx_response(
        rows=members.iterator(), columns=exports.MEMBER_COLUMNS, title=_("Member roster"), filename="members"
    )


@login_required
def member_detail(request, pk: int):
    member = get_for_user(request.user, Member.objects.select_related("organization", "source_matter"), pk)
    held = holdings(member)
    context = {
        "member": member,
        "masked_id_number": masked_id_number(member.id_number),
        "holdings": [(ShareKind(kind).label, shares) for kind, shares in held.items()],
        "total_shares": sum(held.values()),
        "entries": member.share_entries.select_related("counterpart", "matter").order_by("-recorded_at", "-pk"),
        "certificates": member.certificates.select_related("matter"),
        "history": record_history(member.history.all()),
    }
    return render(request, "registers/member_detail.html", context)


# --- shares ------------------------------------------------------------------------


def _share_ledger(request) -> tuple[QuerySet, dict]:
    params = request.GET
    entries = visible(
        request.user,
        ShareLedgerEntry.objects.select_related("organization", "member", "counterpart", "matter").order_by(
            "-recorded_at", "-pk"
        ),
    )
    member = _number(params, "member")
    if member is not None:
        entries = entries.filter(member_id=member)
    name = params.get("q", "").strip()
    if name:
        entries = entries.filter(member__name__icontains=name)
    kind = _choice(params, "kind", ShareKind)
    if kind:
        entries = entries.filter(kind=kind)
    reason = _choice(params, "reason", ShareReason)
    if reason:
        entries = entries.filter(reason=reason)
    entries, collectives = _collective_filter(request, entries)
    return entries, {
        "member": member,
        "q": name,
        "kinds": ShareKind.choices,
        "kind": kind,
        "reasons": ShareReason.choices,
        "reason": reason,
        **collectives,
    }


@login_required
def share_ledger(request):
    entries, filters = _share_ledger(request)
    return render(
        request, "registers/share_ledger.html", {"page": _page(request, entries, SHARE_LEDGER_SORTING), **filters}
    )


@login_required
@exports.export_logged
def share_ledger_export(request):
    entries, _filters = _share_ledger(request)
    return exports.xlsx_response(
        rows=entries.iterator(), columns=exports.SHARE_LEDGER_COLUMNS, title=_("Share ledger"), filename="share-ledger"
    )


def _share_holdings(request) -> tuple[QuerySet, dict]:
    """Holdings per member and kind: one grouped sum over the ledger, a row per member."""
    params = request.GET
    entries = visible(request.user, ShareLedgerEntry.objects.all())
    name = params.get("q", "").strip()
    if name:
        entries = entries.filter(member__name__icontains=name)
    entries, collectives = _collective_filter(request, entries)
    rows = (
        entries.values("member_id", "member__name", "member__household", "organization__name")
        .annotate(
            **{kind: Sum("change", filter=Q(kind=kind), default=0) for kind in ShareKind.values},
            total=Sum("change"),
        )
        .filter(total__gt=0)
        .order_by("organization__name", "member__household", "member__name", "member_id")
    )
    kind = _choice(params, "kind", ShareKind)
    if kind:
        rows = rows.filter(**{f"{kind}__gt": 0})
    return rows, {"kinds": ShareKind.choices, "kind": kind, "q": name, **collectives}


@login_required
def share_holdings(request):
    rows, filters = _share_holdings(request)
    page = _page(request, rows, HOLDINGS_SORTING)
    for row in page:
        row["shares"] = [row[kind] for kind in ShareKind.values]
    return render(request, "registers/share_holdings.html", {"page": page, **filters})


@login_required
@exports.export_logged
def share_holdings_export(request):
    rows, _filters = _share_holdings(request)
    return exports.xlsx_response(
        rows=rows, columns=exports.share_holdings_columns(), title=_("Share holdings"), filename="share-holdings"
    )
