"""The signed sign-in sheet (签到表) of a meeting as an Excel workbook: the template of a roster, and its import.

The template lists the roster household by household; the supervisor writes each attendee's way (本人 /
线上 / 委托) and, for a written proxy, the household member who carried it. Importing checks every row
and reports each problem with its row, its column and a plain message; one wrong row imports nothing.
"""

import io
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.worksheet.datavalidation import DataValidation

from registers.models import Member

from .models import AttendanceWay

HOUSEHOLD, NAME, WAY, HOLDER, SIGNATURE = "A", "B", "C", "D", "E"
FIRST_ROW = 2
MAX_ROWS = 5000
# What people write in the way column, besides the labels of AttendanceWay in either language.
WAY_WORDS = {
    "本人": AttendanceWay.IN_PERSON,
    "到会": AttendanceWay.IN_PERSON,
    "现场": AttendanceWay.IN_PERSON,
    "本人到会": AttendanceWay.IN_PERSON,
    "线上": AttendanceWay.ONLINE,
    "网络": AttendanceWay.ONLINE,
    "即时通讯": AttendanceWay.ONLINE,
    "委托": AttendanceWay.PROXY,
    "书面委托": AttendanceWay.PROXY,
}


def headers() -> dict[str, str]:
    return {
        HOUSEHOLD: _("Household"),
        NAME: _("Name"),
        WAY: _("Attended (本人 / 线上 / 委托)"),
        HOLDER: _("Proxy carried by"),
        SIGNATURE: _("Signature"),
    }


def sheet_template(*, roster: Sequence[Member], title: str) -> bytes:
    """The roster as a sign-in sheet to print, sign and fill in: one row per member, household by household."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Sign-in sheet")[:31]
    for column, text in headers().items():
        cell = sheet[f"{column}1"]
        cell.value = text
        cell.font = Font(bold=True)
    for offset, member in enumerate(sorted(roster, key=lambda m: (m.household, m.name, m.pk))):
        row = FIRST_ROW + offset
        sheet[f"{HOUSEHOLD}{row}"] = member.household
        sheet[f"{NAME}{row}"] = member.name
    choices = DataValidation(type="list", formula1='"本人,线上,委托"', allow_blank=True)
    sheet.add_data_validation(choices)
    choices.add(f"{WAY}{FIRST_ROW}:{WAY}{FIRST_ROW + max(len(roster), 1) - 1}")
    for column, width in ((HOUSEHOLD, 14), (NAME, 14), (WAY, 22), (HOLDER, 16), (SIGNATURE, 18)):
        sheet.column_dimensions[column].width = width
    workbook.properties.title = title
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


@dataclass(frozen=True)
class SheetProblem:
    row: int
    column: str  # the letter and the heading, as the supervisor sees them in Excel
    message: str


@dataclass(frozen=True)
class SheetRow:
    member: Member
    way: str
    holder: Member | None


class SheetError(Exception):
    """The workbook is wrong; ``problems`` says where and why, row by row."""

    def __init__(self, problems: list[SheetProblem]):
        super().__init__("; ".join(f"{p.row} {p.column}: {p.message}" for p in problems))
        self.problems = problems


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _way_of(text: str) -> str | None:
    if text in WAY_WORDS:
        return WAY_WORDS[text]
    for way in AttendanceWay:
        if text in (way.value, str(way.label)):
            return way.value
    return None


def sheet_read(*, upload, roster: Sequence[Member], proxies_allowed: int) -> list[SheetRow]:
    """Every attending row of a filled-in sheet, or SheetError naming every wrong row (then nothing is read)."""
    head = headers()

    def where(column: str) -> str:
        return f"{column}（{head[column]}）"

    try:
        workbook = load_workbook(upload, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a file that is not a workbook
        raise SheetError(
            [SheetProblem(0, "", _("The file is not an Excel workbook (.xlsx); use the template of this roster."))]
        ) from error
    sheet = workbook.worksheets[0]
    by_household: dict[tuple[str, str], list[Member]] = {}
    for member in roster:
        by_household.setdefault((member.household, member.name), []).append(member)
    households = {member.household for member in roster}
    problems: list[SheetProblem] = []
    read: list[tuple[int, Member, str, str]] = []  # (row, member, way, holder name)
    seen: dict[int, int] = {}
    for number, cells in enumerate(sheet.iter_rows(min_row=FIRST_ROW, max_col=5, values_only=True), FIRST_ROW):
        if number >= FIRST_ROW + MAX_ROWS:
            problems.append(SheetProblem(number, "", _("The sheet has more rows than a roster can.")))
            break
        household, name, way_text, holder_name = (_text(value) for value in (list(cells) + [None] * 5)[:4])
        if not (household or name or way_text or holder_name):
            continue
        if not name:
            problems.append(SheetProblem(number, where(NAME), _("The name is missing.")))
            continue
        if household not in households:
            problems.append(
                SheetProblem(
                    number,
                    where(HOUSEHOLD),
                    _("No household “%(household)s” on this meeting's roster.") % {"household": household},
                )
            )
            continue
        found = by_household.get((household, name), [])
        if not found:
            problems.append(
                SheetProblem(
                    number,
                    where(NAME),
                    _("%(name)s of household %(household)s is not on this meeting's roster.")
                    % {"name": name, "household": household},
                )
            )
            continue
        if len(found) > 1:
            problems.append(
                SheetProblem(
                    number,
                    where(NAME),
                    _("Two members of household %(household)s are called %(name)s; tick them on the page instead.")
                    % {"name": name, "household": household},
                )
            )
            continue
        member = found[0]
        if member.pk in seen:
            problems.append(
                SheetProblem(
                    number,
                    where(NAME),
                    _("%(name)s is already in row %(row)s.") % {"name": name, "row": seen[member.pk]},
                )
            )
            continue
        seen[member.pk] = number
        if not way_text:
            if holder_name:
                problems.append(
                    SheetProblem(number, where(WAY), _("A proxy holder is named: write 委托 in this column."))
                )
            continue  # did not attend
        way = _way_of(way_text)
        if way is None:
            problems.append(
                SheetProblem(
                    number,
                    where(WAY),
                    _("“%(text)s” is not a way of attending: write 本人, 线上 or 委托, or leave it empty if absent.")
                    % {"text": way_text},
                )
            )
            continue
        if way != AttendanceWay.PROXY and holder_name:
            problems.append(
                SheetProblem(number, where(HOLDER), _("Only a proxy names who carried it: write 委托, or clear this."))
            )
            continue
        if way == AttendanceWay.PROXY and not holder_name:
            problems.append(SheetProblem(number, where(HOLDER), _("Name the household member who carried the proxy.")))
            continue
        read.append((number, member, way, holder_name))
    attending = {member.pk: way for _number, member, way, _holder in read}
    rows: list[SheetRow] = []
    carried: dict[int, list[int]] = {}
    for number, member, way, holder_name in read:
        holder = None
        if way == AttendanceWay.PROXY:
            words = {"holder": holder_name, "household": member.household}
            if proxies_allowed == 0:
                problems.append(
                    SheetProblem(
                        number, where(WAY), _("This meeting body takes no written proxies in the county's rules.")
                    )
                )
                continue
            mates = [m for m in by_household.get((member.household, holder_name), []) if m.pk != member.pk]
            if not mates:
                problems.append(
                    SheetProblem(
                        number,
                        where(HOLDER),
                        _(
                            "%(holder)s is not a member of household %(household)s on this roster; a written proxy "
                            "goes only to a member of one's own household."
                        )
                        % words,
                    )
                )
                continue
            holder = mates[0]
            if attending.get(holder.pk) not in (AttendanceWay.IN_PERSON, AttendanceWay.ONLINE):
                problems.append(
                    SheetProblem(
                        number,
                        where(HOLDER),
                        _("%(holder)s, who carried the proxy, is not marked as attending in person or online.") % words,
                    )
                )
                continue
            carried.setdefault(holder.pk, []).append(number)
            if len(carried[holder.pk]) > proxies_allowed:
                problems.append(
                    SheetProblem(
                        number,
                        where(HOLDER),
                        _("%(holder)s already carries %(limit)s proxies, as many as the county allows per attendee.")
                        % {**words, "limit": proxies_allowed},
                    )
                )
                continue
        rows.append(SheetRow(member=member, way=way, holder=holder))
    if problems:
        raise SheetError(problems)
    return rows
