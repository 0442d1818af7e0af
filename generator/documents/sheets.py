"""A spreadsheet template's table as HTML: the sheet the member gets, and the example.

The page's preview shows the sheet as the downloads hold it: the header, the empty
rows to fill and the Total row. The template's example rows are shown apart, as an
example a member may open, and never in the preview or a download.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping
from typing import Any

from generator.documents.dates import DateStyle
from generator.documents.model import Column, DocumentTemplate, Sheet


def cell_text(column: Column, value: Any, dates: DateStyle) -> str:
    """A value as the sheet shows it: a date in the site's style, a number in the
    column's format."""
    if value is None or value == "":
        return ""
    if isinstance(value, dt.date):
        return dates.format(value)
    if column.type == "date":
        return dates.format_text(str(value))
    if not isinstance(value, int | float) or isinstance(value, bool):
        return str(value)
    if column.format == "money":
        return f"{value:,.2f}"
    if column.format == "percent":
        return f"{value * 100:.0f}%"
    if column.format == "integer":
        return f"{value:.0f}"
    return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def _table(
    sheet: Sheet, rows: list[Mapping[str, Any]], totals: Mapping[str, float], dates: DateStyle
) -> str:
    def cells(row: Mapping[str, Any]) -> str:
        return "".join(
            f'<td class="mk-sheet__{"number" if c.type == "number" else "text"}">'
            f"{html.escape(cell_text(c, row.get(c.key), dates))}</td>"
            for c in sheet.columns
        )

    head = "".join(f'<th scope="col">{html.escape(c.header)}</th>' for c in sheet.columns)
    body = "".join(f"<tr>{cells(row)}</tr>" for row in rows)
    total = "".join(
        '<th scope="row">Total</th>'
        if index == 0
        else f'<td class="mk-sheet__number">'
        f"{html.escape(cell_text(c, totals[c.key], dates) if c.key in totals else '')}</td>"
        for index, c in enumerate(sheet.columns)
    )
    return (
        f'<table class="mk-sheet"><thead><tr>{head}</tr></thead><tbody>{body}</tbody>'
        f"<tfoot><tr>{total}</tr></tfoot></table>"
    )


def sheet_preview(template: DocumentTemplate, dates: DateStyle) -> str:
    """The sheet the downloads hold: its header, the rows to fill and the totals."""
    sheet = template.sheet
    assert sheet is not None, f"{template.source} is not a spreadsheet"
    empty: list[Mapping[str, Any]] = [{}] * sheet.fill_rows
    zeros = dict.fromkeys(sheet.totals, 0.0)
    return (
        f"<h2>{html.escape(sheet.name)}</h2>\n"
        f'<p class="mk-sheet__note">{sheet.fill_rows} rows to fill in the Excel and CSV '
        "downloads; the totals add up as you type in them.</p>\n"
        f"{_table(sheet, empty, zeros, dates)}"
    )


def example_table(template: DocumentTemplate, dates: DateStyle) -> str:
    """The template's example rows, filled in and added up: only ever shown as an example."""
    sheet = template.sheet
    assert sheet is not None, f"{template.source} is not a spreadsheet"
    return _table(sheet, list(sheet.computed_rows()), sheet.computed_totals(), dates)
