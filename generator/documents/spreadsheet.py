"""A spreadsheet template as a real .xlsx (working formulas) and a .csv.

The sheet: the title, the header fields to fill in (highlighted), the table with
empty rows to fill whose formulas are already in place, and a Total row of SUMs.
The template's example rows are never in a download: they are the example the
template's page shows (`sheets.example_table`), and the member's sheet starts empty.
A second sheet, "How to use", holds the instructions from the template body:
headings in bold, list items with their bullet, blanks as `[Label]` in dark amber.

The browser puts what the member typed into the file (`xlsx.js`): each field's cell
carries the field's name (an Excel defined name, so `=monthly_ceiling` works in a
formula too), and a blank in the instructions is a run of its own in that colour.
The CSV starts like the sheet: the title, then a row per field (`Label,value`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.xml.functions import XML_NS

from generator.documents.blocks import Heading, Inline, ListBlock, Paragraph, Table, parse
from generator.documents.dates import DEFAULT_LANGUAGE, DateStyle, date_style
from generator.documents.model import Column, DocumentTemplate, Sheet, excel_formula

NUMBER_FORMATS = {"money": "#,##0.00", "percent": "0%", "integer": "0"}
HEADER_FILL = PatternFill("solid", fgColor="17324D")
BLANK_FILL = PatternFill("solid", fgColor="FFF2B3")
TOTAL_FILL = PatternFill("solid", fgColor="E8EEF4")
THIN = Side(style="thin", color="B7C3CF")
#: The colour of a blank in the instructions: how the browser tells it from text.
BLANK_TEXT = "FF9C5700"
NOTES = "How to use"
BULLETS = {"-": "\u2022", "[ ]": "\u2610", "[x]": "\u2612"}
HEADING_SIZES = {1: 15, 2: 13, 3: 11}
#: The workbook's font, named on every styled cell and run (one without a name is
#: shown in the office program's own default, a serif in LibreOffice).
FONT = "Calibri"
NOTES_WIDTH = 76  # characters: the column fits a portrait A4 or Letter page


def _font(**style: Any) -> Font:
    return Font(name=FONT, **style)


def layout(template: DocumentTemplate) -> tuple[int, int, int]:
    """(header row of the table, first data row, total row), 1-based."""
    assert template.sheet is not None
    sheet = template.sheet
    header_row = 3 + len(template.fields) + 1
    first = header_row + 1
    total = first + sheet.fill_rows
    return header_row, first, total


def _letters(sheet: Sheet) -> dict[str, str]:
    """Each column's letter, by key."""
    return {c.key: get_column_letter(i) for i, c in enumerate(sheet.columns, start=1)}


def row_formulas(sheet: Sheet, row: int) -> dict[str, str]:
    """The formulas of one row of the table, by column key (`=G9*F9`)."""
    cells = {key: f"{letter}{row}" for key, letter in _letters(sheet).items()}
    return {c.key: excel_formula(c.formula, cells) for c in sheet.columns if c.formula}


def total_formulas(template: DocumentTemplate) -> dict[str, str]:
    """The Total row's SUM of each totalled column, over the rows to fill."""
    assert template.sheet is not None
    _, first, total = layout(template)
    letters = {c.key: get_column_letter(i) for i, c in enumerate(template.sheet.columns, start=1)}
    return {
        key: f"=SUM({letters[key]}{first}:{letters[key]}{total - 1})"
        for key in template.sheet.totals
    }


def _cell_format(column: Column, dates: DateStyle) -> str | None:
    """A row's cell format. A formula's cell shows nothing while it comes to zero (an
    empty third section): the rows to fill look empty until the member types in them."""
    if column.type == "date":
        return dates.excel
    shown = NUMBER_FORMATS[column.format] if column.format else None
    if column.formula:
        return f"{shown or 'General'};-{shown or 'General'};"
    return shown


def to_xlsx(template: DocumentTemplate, dates: DateStyle | None = None) -> bytes:
    dates = dates or date_style(DEFAULT_LANGUAGE)
    sheet = template.sheet
    assert sheet is not None, f"{template.source} is not a spreadsheet"
    workbook = Workbook()
    ws = workbook.active
    assert ws is not None
    ws.title = sheet.name
    ws["A1"] = template.title
    ws["A1"].font = _font(size=16, bold=True, color="17324D")
    for offset, field in enumerate(template.fields):
        row = 3 + offset
        label = ws.cell(row, 1, field.label)
        label.font = _font(bold=True)
        label.alignment = Alignment(vertical="top")
        cell = ws.cell(row, 2)
        cell.fill = BLANK_FILL
        cell.border = Border(bottom=THIN)
        # Wrapped, so that a paragraph the member typed keeps its lines.
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if field.type == "date":
            cell.number_format = dates.excel
        workbook.defined_names[field.name] = DefinedName(
            field.name, attr_text=f"{quote_sheetname(sheet.name)}!$B${row}"
        )
    header_row, first, total = layout(template)
    letters = _letters(sheet)
    for index, column in enumerate(sheet.columns, start=1):
        cell = ws.cell(header_row, index, column.header)
        cell.font = _font(bold=True, color="FFFFFF")
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        width = column.width or max(10, min(40, len(column.header) + 2))
        ws.column_dimensions[letters[column.key]].width = width
    ws.column_dimensions["A"].width = max(
        ws.column_dimensions["A"].width or 0, *(len(f.label) + 2 for f in template.fields)
    )
    for row in range(first, total):
        formulas = row_formulas(sheet, row)
        for index, column in enumerate(sheet.columns, start=1):
            cell = ws.cell(row, index, formulas.get(column.key))
            number_format = _cell_format(column, dates)
            if number_format:
                cell.number_format = number_format
            cell.border = Border(bottom=THIN)
    ws.cell(total, 1, "Total").font = _font(bold=True)
    sums = total_formulas(template)
    for index, column in enumerate(sheet.columns, start=1):
        cell = ws.cell(total, index)
        cell.fill = TOTAL_FILL
        if column.key in sums:
            cell.value = sums[column.key]
            cell.font = _font(bold=True)
            if column.format:
                cell.number_format = NUMBER_FORMATS[column.format]
    ws.freeze_panes = ws.cell(first, 1)
    _write_notes(workbook.create_sheet(NOTES), template)
    for printed in workbook.worksheets:  # printed one page wide, never cut at the side
        printed.sheet_properties.pageSetUpPr.fitToPage = True
        printed.page_setup.fitToWidth = 1
        printed.page_setup.fitToHeight = 0
    ws.page_setup.orientation = "landscape"
    workbook.properties.title = template.title
    workbook.properties.creator = ""
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# -- The instructions sheet -------------------------------------------------------


class _Run(TextBlock):  # type: ignore[misc]
    """A rich-text run that keeps its spaces (openpyxl drops those of a run of
    spaces only, such as the one between a bold label and a blank)."""

    def to_tree(self) -> Any:
        element = super().to_tree()
        text = element.find("t")
        if text is not None and text.text and text.text != text.text.strip():
            text.set(f"{{{XML_NS}}}space", "preserve")
        return element


def _rich(runs: Inline, labels: Mapping[str, str], *, bold: bool = False, size: int = 11) -> Any:
    """A cell's text from inline runs: a string where one style fits all, else rich
    text. A blank is a run of its own: exactly `[Label]`, in BLANK_TEXT, underlined."""
    pieces: list[tuple[str, bool, bool, bool]] = []  # text, bold, italic, blank
    for run in runs:
        if run.blank:
            text = f"[{labels.get(run.blank, run.blank)}]"
            pieces.append((text, bold or run.bold, run.italic, True))
        elif pieces and not pieces[-1][3] and pieces[-1][1:3] == (bold or run.bold, run.italic):
            pieces[-1] = (pieces[-1][0] + run.text, *pieces[-1][1:])
        else:
            pieces.append((run.text, bold or run.bold, run.italic, False))
    if pieces and not pieces[0][3]:
        pieces[0] = (pieces[0][0].lstrip(), *pieces[0][1:])
    if pieces and not pieces[-1][3]:
        pieces[-1] = (pieces[-1][0].rstrip(), *pieces[-1][1:])
    pieces = [p for p in pieces if p[0]]
    if not any(p[3] for p in pieces) and len({p[1:3] for p in pieces}) <= 1:
        return "".join(p[0] for p in pieces)
    return CellRichText(
        [
            _Run(
                InlineFont(
                    rFont=FONT,
                    b=b or None,
                    i=i or None,
                    sz=size,
                    color=BLANK_TEXT if blank else None,
                    u="single" if blank else None,
                ),
                text,
            )
            for text, b, i, blank in pieces
        ]
    )


def _note_rows(template: DocumentTemplate) -> Iterator[tuple[list[Any], bool, int, int]]:
    """(cells, bold, size, indent) for each row of the instructions; an empty row
    after each block."""
    labels = template.labels
    for block in parse(template.body):
        if isinstance(block, Heading):
            size = HEADING_SIZES[block.level]
            yield [_rich(block.runs, labels, bold=True, size=size)], True, size, 0
        elif isinstance(block, Paragraph):
            yield [_rich(block.runs, labels)], False, 11, 0
        elif isinstance(block, ListBlock):
            for marker, runs in block.items:
                bullet = BULLETS.get(marker, marker)
                text = _rich(runs, labels)
                if isinstance(text, CellRichText):
                    text = CellRichText([_Run(InlineFont(rFont=FONT, sz=11), f"{bullet} "), *text])
                else:
                    text = f"{bullet} {text}"
                yield [text], False, 11, 1
        elif isinstance(block, Table):
            if block.header:
                yield [_rich(c, labels, bold=True) for c in block.header], True, 11, 0
            for row in block.rows:
                yield [_rich(c, labels) for c in row], False, 11, 0
        yield [], False, 11, 0


def _write_notes(notes: Worksheet, template: DocumentTemplate) -> None:
    notes.column_dimensions["A"].width = NOTES_WIDTH
    for row, (cells, bold, size, indent) in enumerate(_note_rows(template), start=1):
        for column, value in enumerate(cells, start=1):
            cell = notes.cell(row, column, value)
            cell.alignment = Alignment(wrap_text=True, vertical="top", indent=indent)
            if bold or size != 11:
                cell.font = _font(bold=bold, size=size, color="17324D" if size > 11 else None)
        if cells:
            # Tall enough for its wrapped lines: office programs do not always grow a
            # row to fit when they open a file.
            lines = sum(
                -(-len(str(line)) // NOTES_WIDTH) or 1 for line in str(cells[0]).split("\n")
            )
            notes.row_dimensions[row].height = lines * size * 1.4


# -- CSV --------------------------------------------------------------------------


def csv_head(template: DocumentTemplate) -> list[list[str]]:
    """The rows above the table: the title, an empty row, a `Label,` row per field (the
    browser puts what the member typed after the comma: csv.js), an empty row."""
    return [[template.title], [], *([f.label, ""] for f in template.fields), []]


def to_csv(template: DocumentTemplate) -> bytes:
    """The sheet for any spreadsheet app: the title, each field with its value (empty
    here: the browser puts what the member typed), the table's header, its empty rows
    to fill with their formulas, and a Total row of SUMs. The table starts on the same
    row as in the XLSX, so the formulas name the same cells (spreadsheet apps compute
    the formulas of a CSV they open)."""
    sheet: Sheet | None = template.sheet
    assert sheet is not None, f"{template.source} is not a spreadsheet"
    _, first, total = layout(template)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(csv_head(template))
    writer.writerow([c.header for c in sheet.columns])
    for row in range(first, total):
        formulas = row_formulas(sheet, row)
        writer.writerow([formulas.get(c.key, "") for c in sheet.columns])
    sums = total_formulas(template)
    writer.writerow(
        ["Total" if i == 0 else sums.get(c.key, "") for i, c in enumerate(sheet.columns)]
    )
    return buffer.getvalue().encode("utf-8-sig")
