"""A check the unit and end-to-end tests share: a spreadsheet template's example rows
are never in a download, whether made at build time or filled in by the browser."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile

from openpyxl import load_workbook

from generator.documents.dates import date_style
from generator.documents.model import DocumentTemplate
from generator.documents.spreadsheet import layout


def example_values(template: DocumentTemplate) -> list[object]:
    """What a sheet's example rows hold, and what they add up to."""
    assert template.sheet is not None
    found: list[object] = [v for row in template.sheet.rows for v in row.values()]
    found += [v for row in template.sheet.computed_rows() for v in row.values()]
    found += [v for v in template.sheet.computed_totals().values() if v]
    return [v for v in found if v not in (None, "", 0)]


def assert_no_example_in_downloads(
    template: DocumentTemplate, files: dict[str, bytes], dates: str = "en"
) -> None:
    """No value of the example's rows in a cell of the Excel or CSV file's table (above
    it are the member's own answers, which may be anything), and none of their text in
    any other download (the owner's instructions aside)."""
    assert template.sheet is not None
    examples = example_values(template)
    assert examples, template.slug
    shown = {str(v) for v in examples} | {
        f(v) for v in examples if isinstance(v, dt.date) for f in (str, date_style(dates).format)
    }
    numbers = {float(v) for v in examples if isinstance(v, int | float)}

    def example(value: object) -> bool:
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value) in numbers
        return value in examples or str(value) in shown

    workbook = load_workbook(io.BytesIO(files[f"downloads/{template.slug}.xlsx"]))
    header, _, total = layout(template)
    table = workbook[template.sheet.name].iter_rows(min_row=header, max_row=total + 5)
    cells = [c.value for row in table for c in row]
    assert not [v for v in cells if v is not None and example(v)], template.slug
    text = files[f"downloads/{template.slug}.csv"].decode("utf-8-sig")
    comma = [c for row in list(csv.reader(io.StringIO(text)))[header - 1 :] for c in row]
    assert not [c for c in comma if c and (example(c) or _number(c) in numbers)], template.slug
    words = [v for v in examples if isinstance(v, str) and len(v) > 5 and v not in template.body]
    for fmt in ("md", "txt", "docx", "xlsx"):
        content = files.get(f"downloads/{template.slug}.{fmt}")
        if content is None:
            continue
        readable = _readable(content, fmt)
        assert not [w for w in words if w in readable], (template.slug, fmt)


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def _readable(content: bytes, fmt: str) -> str:
    """A download's text: the XML of every part of a zip, else the text itself."""
    if fmt in ("docx", "xlsx"):
        archive = zipfile.ZipFile(io.BytesIO(content))
        return "".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())
    return content.decode("utf-8-sig")
