"""Amounts as people in a township office say them (2万元, 5000元, "2万元至10万元") and write them (12,500.50)."""

import re
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import get_language, gettext_lazy
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


# Full-width digits, comma and point as a Chinese input method types them; nothing else is translated
# (NFKC would also turn "10²" into "102").
FULL_WIDTH = str.maketrans({**{chr(0xFF10 + n): str(n) for n in range(10)}, "，": ",", "．": "."})
PLAIN = re.compile(r"-?\d+(?:\.\d+)?")
GROUPED = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?")


class AmountField(forms.DecimalField):
    """An amount in yuan as a person writes it: digits, optionally grouped by three with commas (also
    full-width ，), and a decimal point with at most two decimals. Exponents ("1e5"), letters, other signs,
    negatives (unless allowed) and a third decimal are refused with a message saying what to write."""

    widget = forms.TextInput
    default_error_messages = {
        "invalid": gettext_lazy(
            "Write the amount in digits, e.g. 12500 or 12,500.50: no letters, exponents (such as 1e5), "
            "spaces or other signs."
        ),
        "grouping": gettext_lazy("Thousands separators go every three digits, e.g. 1,250,000.00."),
        "decimals": gettext_lazy("An amount has at most two decimals (fen), e.g. 12.50."),
        "negative": gettext_lazy("The amount cannot be negative."),
    }

    def __init__(self, *, allow_negative: bool = False, max_digits: int = 14, decimal_places: int = 2, **kwargs):
        self.allow_negative = allow_negative
        super().__init__(max_digits=max_digits, decimal_places=decimal_places, **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, Decimal):
            return value
        text = str(value).strip().translate(FULL_WIDTH)
        if not (PLAIN.fullmatch(text) or GROUPED.fullmatch(text)):
            if re.fullmatch(r"-?[\d,]+(?:\.\d+)?", text) and "," in text:
                raise ValidationError(self.error_messages["grouping"], code="grouping")
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        if text.startswith("-") and not self.allow_negative:
            raise ValidationError(self.error_messages["negative"], code="negative")
        decimals = text.partition(".")[2]
        if len(decimals) > self.decimal_places:
            raise ValidationError(self.error_messages["decimals"], code="decimals")
        return Decimal(text.replace(",", ""))

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        # A text box, not type="number": browsers take "1e5" there and drop "12,500" without a word.
        attrs.setdefault("inputmode", "decimal")
        attrs.setdefault("autocomplete", "off")
        return attrs
