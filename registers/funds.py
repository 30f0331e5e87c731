"""The fund accounts: balances, and the payments and income recorded against them, each linked to its matter."""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from organizations.jurisdiction import require_act
from organizations.models import Role

from .models import Direction, FundAccount, FundMovement

# Who records money in or out of an account: the village's own cashier and secretary.
FUND_ROLES = frozenset({Role.VILLAGE_SECRETARY, Role.VILLAGE_CASHIER})
CENT = Decimal("0.01")


def fund_balance(account: FundAccount) -> Decimal:
    """The opening balance plus income minus payments, in yuan."""
    totals = account.movements.aggregate(
        income=Sum("amount", filter=Q(direction=Direction.IN), default=Decimal("0")),
        payments=Sum("amount", filter=Q(direction=Direction.OUT), default=Decimal("0")),
    )
    return (account.opening_balance + totals["income"] - totals["payments"]).quantize(CENT)


def insufficient_balance_message(account: FundAccount, amount: Decimal, balance: Decimal) -> str:
    return _("The amount (%(amount)s yuan) is more than the available balance of %(account)s (%(balance)s yuan).") % {
        "amount": amount,
        "account": account,
        "balance": balance,
    }


def _movement_record(
    *,
    direction: str,
    account: FundAccount,
    amount: Decimal,
    occurred_on: datetime.date,
    counterparty: str,
    purpose: str,
    matter,
    user,
) -> tuple[FundAccount, FundMovement]:
    """Check what every movement needs and lock the account row; the caller saves the movement."""
    if user is not None:
        require_act(user, account.organization, FUND_ROLES)
    # The lock makes two payments from one account wait for each other, so both see the other's effect.
    account = FundAccount.objects.select_for_update().select_related("organization").get(pk=account.pk)
    amount = Decimal(amount)
    if amount <= 0:
        raise ValidationError({"amount": _("The amount must be more than zero.")})
    if occurred_on > timezone.localdate():
        raise ValidationError({"occurred_on": _("Money cannot be recorded as moved on a future date.")})
    if matter is not None and matter.organization_id != account.organization_id:
        raise ValidationError(
            {"account": _("The account %(account)s does not belong to the matter's collective.") % {"account": account}}
        )
    movement = FundMovement(
        account=account,
        direction=direction,
        amount=amount,
        occurred_on=occurred_on,
        counterparty=counterparty.strip(),
        purpose=purpose.strip(),
        matter=matter,
        recorded_by=user,
    )
    return account, movement


@transaction.atomic
def payment_record(
    *,
    account: FundAccount,
    amount: Decimal,
    occurred_on: datetime.date,
    counterparty: str,
    purpose: str,
    matter,
    user,
) -> FundMovement:
    """Record a payment out of the account; a payment above the available balance is refused."""
    account, movement = _movement_record(
        direction=Direction.OUT,
        account=account,
        amount=amount,
        occurred_on=occurred_on,
        counterparty=counterparty,
        purpose=purpose,
        matter=matter,
        user=user,
    )
    balance = fund_balance(account)
    if movement.amount > balance:
        raise ValidationError({"amount": insufficient_balance_message(account, movement.amount, balance)})
    movement.full_clean()
    movement.save()
    return movement


@transaction.atomic
def income_record(
    *,
    account: FundAccount,
    amount: Decimal,
    occurred_on: datetime.date,
    counterparty: str,
    purpose: str,
    matter=None,
    user=None,
) -> FundMovement:
    """Record money coming into the account, e.g. the proceeds of a disposal."""
    _account, movement = _movement_record(
        direction=Direction.IN,
        account=account,
        amount=amount,
        occurred_on=occurred_on,
        counterparty=counterparty,
        purpose=purpose,
        matter=matter,
        user=user,
    )
    movement.full_clean()
    movement.save()
    return movement
