"""Amounts as people in a township office say them: 2万元, 5000元, "2万元至10万元"."""

from decimal import Decimal

from django.utils.translation import get_language
from django.utils.translation import gettext as _

TEN_THOUSAND = Decimal("10000")


def _trimmed(number: Decimal) -> str:
    text = f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def yuan_short(amount: Decimal) -> str:
    """20000 → "2万元", 15000 → "1.5万元", 5000 → "5,000元", 12.50 → "12.5元" (English: "20,000 yuan")."""
    amount = Decimal(amount)
    # Chinese counts in 万 (ten thousands); English in thousands with separators ("20,000 yuan").
    if amount >= TEN_THOUSAND and (get_language() or "").startswith("zh"):
        return _("%(amount)s ten-thousand yuan") % {"amount": _trimmed(amount / TEN_THOUSAND)}
    whole = amount == amount.to_integral_value()
    return _("%(amount)s yuan") % {"amount": f"{amount:,.0f}" if whole else f"{amount:,.2f}".rstrip("0")}


def band_range_label(min_amount: Decimal, max_amount: Decimal | None) -> str:
    """A rule band's amount range in words: "2万元以下", "2万元至10万元", "10万元及以上"."""
    if max_amount is None:
        if not min_amount:
            return _("any amount")
        return _("%(low)s and above") % {"low": yuan_short(min_amount)}
    if not min_amount:
        return _("below %(high)s") % {"high": yuan_short(max_amount)}
    return _("%(low)s to below %(high)s") % {"low": yuan_short(min_amount), "high": yuan_short(max_amount)}
