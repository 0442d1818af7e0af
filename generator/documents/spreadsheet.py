"""A spreadsheet template as a real .xlsx (working formulas) and a .csv.

The sheet: the title, the header fields to fill in (highlighted), the table with
example rows and blank rows whose formulas are already in place, and a Total row
of SUMs. A second sheet holds the instructions from the template body.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from .model import DocumentTemplate, Sheet, excel_formula
from .render import fill, text_skeleton

NUMBER_FORMATS = {"money": "#,##0.00", "percent": "0%", "integer": "0"}
HEADER_FILL = PatternFill("solid", fgColor="17324D")
BLANK_FILL = PatternFill("solid", fgColor="FFF2B3")
TOTAL_FILL = PatternFill("solid", fgColor="E8EEF4")
THIN = Side(style="thin", color="B7C3CF")


def layout(template: DocumentTemplate) -> tuple[int, int, int]:
    """(header row of the table, first data row, total row), 1-based."""
    assert template.sheet is not None
    sheet = template.sheet
    header_row = 3 + len(template.fields) + 1
    first = header_row + 1
    total = first + len(sheet.rows) + sheet.blank_rows
    return header_row, first, total


def to_xlsx(template: DocumentTemplate) -> bytes:
    sheet = template.sheet
    assert sheet is not None, f"{template.source} is not a spreadsheet"
    workbook = Workbook()
    ws = workbook.active
    assert ws is not None
    ws.title = sheet.name
    ws["A1"] = template.title
    ws["A1"].font = Font(size=16, bold=True, color="17324D")
    for offset, field in enumerate(template.fields):
        row = 3 + offset
        ws.cell(row, 1, field.label).font = Font(bold=True)
        cell = ws.cell(row, 2)
        cell.fill = BLANK_FILL
        cell.border = Border(bottom=THIN)
    header_row, first, total = layout(template)
    letters = {c.key: get_column_letter(i) for i, c in enumerate(sheet.columns, start=1)}
    for index, column in enumerate(sheet.columns, start=1):
        cell = ws.cell(header_row, index, column.header)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        width = column.width or max(10, min(40, len(column.header) + 2))
        ws.column_dimensions[letters[column.key]].width = width
    ws.column_dimensions["A"].width = max(
        ws.column_dimensions["A"].width or 0, *(len(f.label) + 2 for f in template.fields)
    )
    for offset in range(len(sheet.rows) + sheet.blank_rows):
        row = first + offset
        values = sheet.rows[offset] if offset < len(sheet.rows) else {}
        cells = {key: f"{letter}{row}" for key, letter in letters.items()}
        for index, column in enumerate(sheet.columns, start=1):
            cell = ws.cell(row, index)
            if column.formula:
                cell.value = excel_formula(column.formula, cells)
            elif column.key in values:
                cell.value = values[column.key]
            if column.format:
                cell.number_format = NUMBER_FORMATS[column.format]
            cell.border = Border(bottom=THIN)
    ws.cell(total, 1, "Total").font = Font(bold=True)
    for index, column in enumerate(sheet.columns, start=1):
        cell = ws.cell(total, index)
        cell.fill = TOTAL_FILL
        if column.key in sheet.totals:
            letter = letters[column.key]
            cell.value = f"=SUM({letter}{first}:{letter}{total - 1})"
            cell.font = Font(bold=True)
            if column.format:
                cell.number_format = NUMBER_FORMATS[column.format]
    ws.freeze_panes = ws.cell(first, 1)
    notes = workbook.create_sheet("How to use")
    notes.column_dimensions["A"].width = 100
    for row, line in enumerate(fill(text_skeleton(template), template.labels).splitlines(), 1):
        notes.cell(row, 1, line).alignment = Alignment(wrap_text=True)
    workbook.properties.title = template.title
    workbook.properties.creator = ""
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    return str(value)


def to_csv(template: DocumentTemplate) -> bytes:
    """The table with formulas computed, and a Total row; for any spreadsheet app."""
    sheet: Sheet | None = template.sheet
    assert sheet is not None, f"{template.source} is not a spreadsheet"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.header for c in sheet.columns])
    for row in sheet.computed_rows():
        writer.writerow([_csv_value(row[c.key]) for c in sheet.columns])
    totals = sheet.computed_totals()
    writer.writerow(
        ["Total" if i == 0 else _csv_value(totals.get(c.key)) for i, c in enumerate(sheet.columns)]
    )
    return buffer.getvalue().encode("utf-8-sig")
