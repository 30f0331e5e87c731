"""What a member holds: the sums of the append-only share ledger, and the refusal of a transfer of more.

Below ``shares.py`` (transfers, certificates) and ``reservations.py``, which both count on it."""

from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils.translation import gettext as _

from .models import Member, ShareKind, ShareLedgerEntry


def holdings(member: Member) -> dict[str, int]:
    """Shares held per kind (every kind present, zero when none), summed from the ledger."""
    totals = dict.fromkeys(ShareKind.values, 0)
    rows = ShareLedgerEntry.objects.filter(member=member).order_by().values("kind").annotate(total=Sum("change"))
    for row in rows:
        totals[row["kind"]] = row["total"] or 0
    return totals


def more_than_held_error(*, member: Member, kind: str, held: int, committed: int = 0) -> ValidationError:
    """The refusal of a transfer of more shares than the holder has free; tests reuse its opening words."""
    if committed:
        message = _(
            "Never more shares than held: %(member)s holds %(held)s (%(kind)s), %(committed)s of them already in "
            "running transfers, so at most %(available)s can be transferred."
        ) % {
            "member": member,
            "held": held,
            "kind": ShareKind(kind).label,
            "committed": committed,
            "available": max(held - committed, 0),
        }
    else:
        message = _("Never more shares than held: %(member)s holds %(held)s (%(kind)s).") % {
            "member": member,
            "held": held,
            "kind": ShareKind(kind).label,
        }
    return ValidationError({"shares": message})
