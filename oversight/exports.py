"""The statistics tables as an Excel workbook: one sheet per table, headers as on the page."""

import tempfile
from decimal import Decimal

from django.http import FileResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from .figures import Table

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SPOOL_BYTES = 4 * 1024 * 1024
# Characters Excel refuses in a sheet name.
SHEET_FORBIDDEN = str.maketrans({char: " " for char in "[]:*?/\\"})


def _cell(sheet, value, *, bold: bool = False) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=float(value) if isinstance(value, Decimal) else value)
    if isinstance(cell.value, str) and cell.data_type == "f":
        cell.data_type = "s"  # a place named "=…" stays text
    if bold:
        cell.font = Font(bold=True)
    return cell


def workbook_response(*, tables: list[Table], heading: str, filename: str) -> FileResponse:
    workbook = Workbook(write_only=True)
    for table in tables:
        sheet = workbook.create_sheet(title=table.title.translate(SHEET_FORBIDDEN)[:31])
        sheet.append([_cell(sheet, f"{heading} · {table.title}", bold=True)])
        sheet.append([_cell(sheet, header, bold=True) for header in table.headers])
        for row in table.rows:
            sheet.append([_cell(sheet, "—" if value is None else value) for value in row])
        if table.note:
            sheet.append([_cell(sheet, table.note)])
    output = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    workbook.save(output)
    output.seek(0)
    return FileResponse(output, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE)
