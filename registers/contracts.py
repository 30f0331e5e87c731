"""The contract register: terms, amounts, payment schedules, and who holds a resource or asset when.

A term runs from its start date through its end date, both included (自……起至……止): a
contract from 2026-01-01 until 2030-12-31 runs five whole years.
"""

import calendar
import datetime
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from flows.models import PaymentFrequency
from organizations.models import Organization

from .models import (
    Asset,
    AssetStatus,
    Contract,
    ContractKind,
    ContractPayment,
    ContractStatus,
    Resource,
    ResourceStatus,
)

CENT = Decimal("0.01")
DAYS_PER_YEAR = Decimal(365)
PERIODS_PER_YEAR = {PaymentFrequency.YEARLY: 1, PaymentFrequency.QUARTERLY: 4, PaymentFrequency.MONTHLY: 12}
CODE_INFIX = "HT"


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day ``months`` later, or the month's last day when it is shorter (31 Jan + 1 month = 28 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _contract_years(start_date: datetime.date, end_date: datetime.date) -> list[tuple[datetime.date, datetime.date]]:
    """The term cut at each anniversary: (first day, day after the last day) of each contract year."""
    after_end = end_date + datetime.timedelta(days=1)
    years = []
    number = 0
    while (year_start := add_months(start_date, 12 * number)) < after_end:
        years.append((year_start, min(add_months(start_date, 12 * (number + 1)), after_end)))
        number += 1
    return years


def _year_amount(annual_amount: Decimal, year_start: datetime.date, year_after: datetime.date, full: bool) -> Decimal:
    if full:
        return annual_amount
    # A part year is prorated by its days over 365.
    days = (year_after - year_start).days
    return (annual_amount * days / DAYS_PER_YEAR).quantize(CENT, rounding=ROUND_HALF_UP)


def contract_total(*, start_date: datetime.date, end_date: datetime.date, annual_amount: Decimal) -> Decimal:
    """What a term costs at an annual fee or rent: whole contract years, and a part year by days/365."""
    annual_amount = Decimal(annual_amount)
    total = Decimal("0.00")
    for year_start, year_after in _contract_years(start_date, end_date):
        full = year_after == add_months(year_start, 12)
        total += _year_amount(annual_amount, year_start, year_after, full)
    return total.quantize(CENT)


def _split(amount: Decimal, weights: list[int]) -> list[Decimal]:
    """Split ``amount`` by weights, rounding down; the last share takes the remainder, so the sum is exact."""
    whole = sum(weights)
    shares = [(amount * weight / whole).quantize(CENT, rounding=ROUND_DOWN) for weight in weights[:-1]]
    return [*shares, amount - sum(shares, Decimal("0.00"))]


def payment_schedule(
    start_date: datetime.date, end_date: datetime.date, annual_amount: Decimal, frequency: str
) -> list[tuple[datetime.date, Decimal]]:
    """Instalments (due on, amount), each due at the start of its period, summing exactly to the contract total.

    A whole contract year is split evenly between its periods; a short last year is split by the
    days of each period. Each year's last instalment takes that year's rounding remainder."""
    annual_amount = Decimal(annual_amount)
    if frequency == PaymentFrequency.ONCE:
        return [(start_date, contract_total(start_date=start_date, end_date=end_date, annual_amount=annual_amount))]
    months = 12 // PERIODS_PER_YEAR[frequency]
    schedule = []
    for year_start, year_after in _contract_years(start_date, end_date):
        full = year_after == add_months(year_start, 12)
        starts = [add_months(year_start, months * index) for index in range(PERIODS_PER_YEAR[frequency])]
        starts = [day for day in starts if day < year_after]
        if full:
            weights = [1] * len(starts)
        else:
            weights = [(end - begin).days for begin, end in zip(starts, [*starts[1:], year_after], strict=True)]
        amounts = _split(_year_amount(annual_amount, year_start, year_after, full), weights)
        schedule.extend(zip(starts, amounts, strict=True))
    return schedule


def overlapping_contracts(resource: Resource, start: datetime.date, end: datetime.date) -> QuerySet:
    """Contracts in force on the resource whose term shares at least one day with ``start``–``end``."""
    return Contract.objects.filter(
        resource=resource, status=ContractStatus.ACTIVE, start_date__lte=end, end_date__gte=start
    ).order_by("start_date", "pk")


def resource_taken_message(contract: Contract) -> str:
    return _(
        "%(resource)s is already contracted from %(start)s until %(end)s (contract %(code)s), which overlaps this term."
    ) % {"resource": contract.resource, "start": contract.start_date, "end": contract.end_date, "code": contract.code}


def asset_unavailable_message(asset: Asset) -> str:
    return _("%(asset)s cannot be leased: its status is %(status)s.") % {
        "asset": asset,
        "status": asset.get_status_display(),
    }


def _next_code(organization: Organization) -> str:
    prefix = f"{organization.code}-{CODE_INFIX}"
    last = (
        Contract.objects.filter(organization=organization, code__startswith=prefix)
        .order_by("-code")
        .values_list("code", flat=True)
        .first()
    )
    number = int(last.removeprefix(prefix)) + 1 if last and last.removeprefix(prefix).isdigit() else 1
    return f"{prefix}{number:05d}"


def _check_subject(*, organization, kind: str, resource: Resource | None, asset: Asset | None, start, end) -> None:
    if kind == ContractKind.CONTRACTING:
        if resource is None or asset is not None:
            raise ValidationError({"resource": _("A contracting contract is over one resource.")})
        if resource.organization_id != organization.pk:
            raise ValidationError({"resource": _("The resource does not belong to this collective.")})
        taken = overlapping_contracts(resource, start, end).first()
        if taken is not None:
            raise ValidationError({"resource": resource_taken_message(taken)})
    elif kind == ContractKind.LEASE:
        if asset is None or resource is not None:
            raise ValidationError({"asset": _("A lease is over one asset.")})
        if asset.organization_id != organization.pk:
            raise ValidationError({"asset": _("The asset does not belong to this collective.")})
        if asset.status in (AssetStatus.LEASED, AssetStatus.DISPOSED):
            raise ValidationError({"asset": asset_unavailable_message(asset)})
    else:
        raise ValidationError({"kind": _("Unknown contract kind.")})


@transaction.atomic
def contract_create(
    *,
    organization: Organization,
    kind: str,
    counterparty: str,
    start_date: datetime.date,
    end_date: datetime.date,
    amount: Decimal,
    schedule: list[tuple[datetime.date, Decimal]],
    resource: Resource | None = None,
    asset: Asset | None = None,
    trading_reference: str = "",
    matter=None,
) -> Contract:
    """Enter a contract and its payment schedule; its resource is marked contracted, its asset leased."""
    # Lock the organisation (numbering) and the subject (one holder at a time) until the commit.
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    if resource is not None:
        resource = Resource.objects.select_for_update().get(pk=resource.pk)
    if asset is not None:
        asset = Asset.objects.select_for_update().get(pk=asset.pk)
    if end_date <= start_date:
        raise ValidationError({"end_date": _("The term must end after it starts.")})
    _check_subject(organization=organization, kind=kind, resource=resource, asset=asset, start=start_date, end=end_date)
    amount = Decimal(amount)
    if amount <= 0:
        raise ValidationError({"amount": _("The contract amount must be more than zero.")})
    if not schedule:
        raise ValidationError({"schedule": _("A contract needs a payment schedule.")})
    scheduled = sum((Decimal(instalment) for _due_on, instalment in schedule), Decimal("0.00"))
    if scheduled != amount:
        raise ValidationError(
            {
                "schedule": _(
                    "The payment schedule (%(scheduled)s) does not add up to the contract amount (%(amount)s)."
                )
                % {"scheduled": scheduled, "amount": amount}
            }
        )
    if any(not start_date <= due_on <= end_date for due_on, _instalment in schedule):
        raise ValidationError({"schedule": _("Every payment must fall due within the term.")})

    contract = Contract(
        organization=organization,
        code=_next_code(organization),
        kind=kind,
        counterparty=counterparty.strip(),
        resource=resource,
        asset=asset,
        start_date=start_date,
        end_date=end_date,
        amount=amount,
        trading_reference=trading_reference.strip(),
        status=ContractStatus.ACTIVE,
        matter=matter,
    )
    contract.full_clean()
    contract.save()
    for due_on, instalment in schedule:
        payment = ContractPayment(contract=contract, due_on=due_on, amount=instalment)
        payment.full_clean()
        payment.save()
    if resource is not None:
        resource.status = ResourceStatus.CONTRACTED
        resource.full_clean()
        resource.save()
    if asset is not None:
        asset.status = AssetStatus.LEASED
        asset.full_clean()
        asset.save()
    return contract
