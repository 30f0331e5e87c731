"""The columns of an import sheet and how each cell is read.

Headers and sheet names are the file format, the same in every language of the interface (counties
keep their registers in Chinese workbooks); what the explanation sheet and the error messages say is
translated. A cell that cannot be read raises ``CellError`` with a plain message.
"""

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _


class CellError(Exception):
    """A cell's value is not what its column takes; the message says why, in plain words."""


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    parse: Callable[[object], object]
    help: object  # lazy text: what the column holds
    example: object = ""
    required: bool = True
    # The words the column accepts, shown in the explanation sheet.
    allowed: tuple[str, ...] = ()
    text_format: bool = False  # kept as text in the template (ID numbers, codes with leading zeros)


@dataclass(frozen=True)
class SheetSpec:
    name: str
    columns: tuple[Column, ...]
    help: object = ""
    # A sheet that may be left out of the workbook (e.g. the payment schedules beside the contracts).
    required: bool = True
    by_key: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "by_key", {column.key: column for column in self.columns})

    @property
    def headers(self) -> list[str]:
        return [column.header for column in self.columns]

    def header_of(self, key: str) -> str:
        return self.by_key[key].header


def is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text(max_length: int) -> Callable[[object], str]:
    def parse(value) -> str:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        result = str(value).strip()
        if len(result) > max_length:
            raise CellError(_("At most %(count)s characters.") % {"count": max_length})
        return result

    return parse


def code_text(max_length: int) -> Callable[[object], str]:
    """A number or code typed as text: spaces removed, letters upper-case."""
    read = text(max_length)

    def parse(value) -> str:
        return re.sub(r"\s+", "", read(value)).upper()

    return parse


def id_text(value) -> str:
    if isinstance(value, (int, float)):
        # Excel keeps 15 significant digits: an 18-digit number typed as a number has lost its last digits.
        raise CellError(_("Enter the ID number as text (format the column as text), not as a number."))
    return re.sub(r"\s+", "", str(value)).upper()


def amount(value) -> Decimal:
    try:
        if isinstance(value, float):
            number = Decimal(repr(value))
        else:
            number = Decimal(str(value).strip().replace(",", "").replace("，", ""))
    except InvalidOperation as error:
        raise CellError(_("Enter an amount in yuan, e.g. 1200.50.")) from error
    if not number.is_finite() or number < 0:
        raise CellError(_("Enter an amount in yuan, e.g. 1200.50."))
    if number != number.quantize(Decimal("0.01")):
        raise CellError(_("At most two decimal places."))
    return number.quantize(Decimal("0.01"))


def whole_number(value) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        try:
            number = int(str(value).strip())
        except ValueError as error:
            raise CellError(_("Enter a whole number.")) from error
    if number < 0:
        raise CellError(_("Enter a whole number."))
    return number


DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def date(value) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    found = next((match for pattern in DATE_PATTERNS if (match := pattern.match(str(value).strip()))), None)
    if found is None:
        raise CellError(_("Enter a date such as 2024-03-01."))
    try:
        return datetime.date(*(int(part) for part in found.groups()))
    except ValueError as error:
        raise CellError(_("This date does not exist.")) from error


def choice(words: dict[str, str]) -> Callable[[object], str]:
    """A cell holding one of the words (or the stored value itself)."""
    values = set(words.values())

    def parse(value) -> str:
        word = str(value).strip()
        if word in words:
            return words[word]
        if word in values:
            return word
        raise CellError(_("Use one of: %(words)s.") % {"words": "、".join(words)})

    return parse


YES_NO = {"是": True, "否": False}


def yes_no(value) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip()
    if word in YES_NO:
        return YES_NO[word]
    raise CellError(_("Enter 是 or 否."))
