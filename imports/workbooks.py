"""Workbooks: the downloadable templates, the streamed reading of an upload, and the error report.

Uploads are read with openpyxl's read-only mode, one row at a time, so memory does not grow with the
file; the error report is written in write-only mode for the same reason.
"""

import io
import tempfile
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterator

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from .columns import SheetSpec, is_blank

EXPLANATION_SHEET = "填写说明"
ERRORS_SHEET = "错误汇总"
ERROR_COLUMN = "错误说明"
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
EXAMPLE_FONT = Font(italic=True, color="808080")
# Cells formatted as text below the header in a template, so ID numbers keep all 18 characters.
TEXT_ROWS = 300

Problem = Callable[[str, int, str, str], None]  # (sheet, row, column header, message)


def check_workbook_file(uploaded) -> None:
    """Refuse anything that is not an .xlsx workbook openpyxl can open, with a message saying what it is."""
    uploaded.seek(0)
    head = uploaded.read(8)
    uploaded.seek(0)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ValidationError(_("This is an old Excel file (.xls). Open it in Excel or WPS and save it as .xlsx."))
    if not head.startswith(b"PK\x03\x04"):
        raise ValidationError(_("This is not an Excel workbook (.xlsx). Download a template and fill it in."))
    try:
        workbook = load_workbook(uploaded, read_only=True, data_only=True)
        workbook.close()
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise ValidationError(_("This file is not an Excel workbook (.xlsx) that can be opened.")) from error
    finally:
        uploaded.seek(0)


def open_workbook(file):
    return load_workbook(file, read_only=True, data_only=True)


def rows_estimate(workbook, specs) -> int:
    """Rows to check, from each sheet's recorded dimensions (for the progress bar only)."""
    total = 0
    for spec in specs:
        if spec.name in workbook.sheetnames:
            total += max((workbook[spec.name].max_row or 1) - 1, 0)
    return total


def read_sheet(workbook, spec: SheetSpec, problem: Problem) -> Iterator[tuple[int, dict]]:
    """(row number, {column key: raw value}) for every filled row; header problems are reported, not raised."""
    if spec.name not in workbook.sheetnames:
        if spec.required:
            problem(spec.name, 0, "", _("The workbook has no sheet named “%(sheet)s”.") % {"sheet": spec.name})
        return
    rows = workbook[spec.name].iter_rows(values_only=True)
    header = next(rows, None) or ()
    positions: dict[str, int] = {}
    by_header = {column.header: column for column in spec.columns}
    bad_header = False
    for position, title in enumerate(header):
        if is_blank(title):
            continue
        title = str(title).strip()
        column = by_header.get(title)
        if column is None:
            problem(
                spec.name, 1, title, _("Unknown column “%(column)s”: use the template's headers.") % {"column": title}
            )
            bad_header = True
        elif column.key in positions:
            problem(spec.name, 1, title, _("The column “%(column)s” appears twice.") % {"column": title})
            bad_header = True
        else:
            positions[column.key] = position
    for column in spec.columns:
        if column.required and column.key not in positions:
            problem(spec.name, 1, column.header, _("The column “%(column)s” is missing.") % {"column": column.header})
            bad_header = True
    if bad_header:
        return
    example = tuple(str(column.example) for column in spec.columns if column.key in positions)
    for number, values in enumerate(rows, start=2):
        raw = {key: (values[position] if position < len(values) else None) for key, position in positions.items()}
        if all(is_blank(value) for value in raw.values()):
            continue
        if tuple("" if raw[c.key] is None else str(raw[c.key]) for c in spec.columns if c.key in raw) == example:
            continue  # the template's example row, left in
        yield number, raw


def template_workbook(sheets: tuple[SheetSpec, ...], title: str) -> bytes:
    """A template: each sheet with its headers and an example row, and a sheet explaining every column."""
    workbook = Workbook()
    explanation = workbook.active
    explanation.title = EXPLANATION_SHEET
    explanation.append([title])
    explanation["A1"].font = Font(bold=True, size=14)
    explanation.append(
        [_("Fill one row per record below the headers; replace the grey example row. Keep the headers as they are.")]
    )
    explanation.append([])
    explanation.append([_("Sheet"), _("Column"), _("Required"), _("What it holds"), _("Allowed values"), _("Example")])
    for cell in explanation[4]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    for spec in sheets:
        sheet = workbook.create_sheet(spec.name)
        sheet.append(spec.headers)
        sheet.append([column.example for column in spec.columns])
        for position, column in enumerate(spec.columns, start=1):
            header = sheet.cell(row=1, column=position)
            header.font = Font(bold=True)
            header.fill = HEADER_FILL
            sheet.cell(row=2, column=position).font = EXAMPLE_FONT
            sheet.column_dimensions[get_column_letter(position)].width = max(12, len(column.header) * 2 + 4)
            if column.text_format:
                for row in range(2, TEXT_ROWS + 2):
                    sheet.cell(row=row, column=position).number_format = "@"
            explanation.append(
                [
                    spec.name,
                    column.header,
                    _("yes") if column.required else _("no"),
                    str(column.help),
                    "、".join(column.allowed),
                    str(column.example),
                ]
            )
        sheet.freeze_panes = "A2"
        if spec.help:
            explanation.append([spec.name, "", "", str(spec.help), "", ""])
    for letter, width in zip("ABCDEF", (14, 18, 8, 60, 40, 24), strict=True):
        explanation.column_dimensions[letter].width = width
    with tempfile.TemporaryFile() as buffer:
        workbook.save(buffer)
        buffer.seek(0)
        return buffer.read()


def _safe(sheet, values: list) -> list:
    """Cells that stay text: "=HYPERLINK(...)" read from the upload is never written back as a formula."""
    cells = []
    for value in values:
        cell = WriteOnlyCell(sheet, value=value)
        if isinstance(cell.value, str) and cell.data_type == "f":
            cell.data_type = "s"
        cells.append(cell)
    return cells


def error_report(file, errors: list[dict], more: int) -> tempfile.SpooledTemporaryFile:
    """The uploaded workbook again, each sheet with an error column, and a first sheet listing every problem."""
    by_row: dict[tuple[str, int], list[str]] = defaultdict(list)
    for error in errors:
        column = f"【{error['column']}】" if error["column"] else ""
        by_row[(error["sheet"], error["row"])].append(column + error["message"])
    source = open_workbook(file)
    report = Workbook(write_only=True)
    summary = report.create_sheet(ERRORS_SHEET)
    summary.append([_("Sheet"), _("Row"), _("Column"), _("Problem")])
    for error in errors:
        summary.append(_safe(summary, [error["sheet"], error["row"] or "", error["column"], error["message"]]))
    if more:
        summary.append(
            ["", "", "", _("%(count)s more problems are not listed: correct these and check again.") % {"count": more}]
        )
    for sheet in source.worksheets:
        target = report.create_sheet(sheet.title)
        width = sheet.max_column or 0
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            values = list(values) + [None] * (width - len(values))
            if number == 1:
                target.append(_safe(target, [*values, ERROR_COLUMN]))
                continue
            target.append(_safe(target, [*values, "；".join(by_row.get((sheet.title, number), []))]))
    source.close()
    buffer = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    report.save(buffer)
    buffer.seek(0)
    return buffer


def initial_password_sheet(rows: list[tuple[str, str, str, str]], *, title: str, issued: str) -> bytes:
    """The one-time passwords of an import's accounts, (username, name, organisation, password) a row, as .xlsx
    bytes made in memory: handed to the security administrator once, never written to the server's disk."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("One-time passwords")[:31]
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(
        [
            _(
                "Hand this sheet over in person, each person only their own line, and destroy it once the passwords "
                "are handed over. Each password must be changed at the first login."
            )
        ]
    )
    sheet["A2"].font = Font(bold=True, color="C00000")
    sheet.append([issued])
    sheet.append([])
    sheet.append([_("Username"), pgettext("person", "Name"), _("Organisation"), _("One-time password")])
    for cell in sheet[5]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    for values in rows:
        sheet.append(list(values))
        for cell in sheet[sheet.max_row]:
            cell.data_type = "s"  # a name read from an upload is never written back as a formula
    for letter, width in zip("ABCD", (20, 16, 36, 22), strict=True):
        sheet.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
