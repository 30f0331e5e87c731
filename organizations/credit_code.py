"""Unified social credit codes (统一社会信用代码, GB 32100-2015): format and check character."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# The 31 characters of the code: digits and upper-case letters without I, O, S, V and Z.
CHARACTERS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_check_character(first_seventeen: str) -> str:
    total = sum(
        CHARACTERS.index(character) * weight for character, weight in zip(first_seventeen, WEIGHTS, strict=True)
    )
    return CHARACTERS[(31 - total % 31) % 31]


def validate_credit_code(value: str) -> None:
    if len(value) != 18 or any(character not in CHARACTERS for character in value):
        raise ValidationError(
            _("A unified social credit code has 18 characters: digits and capital letters other than I, O, S, V, Z."),
            code="credit_format",
        )
    if credit_check_character(value[:17]) != value[17]:
        raise ValidationError(_("The unified social credit code's check character is wrong."), code="credit_check")
