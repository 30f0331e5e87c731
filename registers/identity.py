"""Resident identity numbers (GB 11643-1999): format, birth date and check digit."""

import datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"


def check_character(first_seventeen: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first_seventeen, WEIGHTS, strict=True))
    return CHECK_CHARACTERS[total % 11]


def birth_date(id_number: str) -> datetime.date:
    return datetime.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


def validate_id_number(value: str) -> None:
    if len(value) != 18 or not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        raise ValidationError(_("An ID number has 17 digits followed by a digit or X."), code="id_format")
    try:
        birth_date(value)
    except ValueError as error:
        raise ValidationError(_("The birth date inside the ID number is not a real date."), code="id_birth") from error
    if check_character(value[:17]) != value[17]:
        raise ValidationError(_("The ID number's check digit is wrong."), code="id_check_digit")
