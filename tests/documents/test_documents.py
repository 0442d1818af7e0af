"""Document templates: the model, every renderer, and the files members download."""

from __future__ import annotations

import csv
import dataclasses
import html
import io
import pickle
import re
import zipfile
from pathlib import Path

import pytest
from docx import Document
from docx.enum.text import WD_COLOR_INDEX
from docx.oxml import parse_xml
from openpyxl import load_workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock

from generator.documents.blocks import Heading, ListBlock, Table
from generator.documents.dates import DateStyle, date_style
from generator.documents.downloads import reproducible_zip
from generator.documents.library import DocumentLibrary, bundle_path
from generator.documents.model import DocumentTemplate, evaluate, load_library
from generator.documents.render import (
    blocks,
    display_width,
    fill,
    headings,
    html_preview,
    markdown_skeleton,
    text_skeleton,
)
from generator.documents.spreadsheet import BLANK_TEXT, NOTES, csv_head, layout, to_csv
from generator.documents.word import BOOKMARK

from ..conftest import ROOT
from .examples import assert_no_example_in_downloads, example_values

EXPECTED = {
    "daily-status-report",
    "weekly-report",
    "end-of-project-report",
    "task-brief",
    "interview-scorecard",
    "reference-check-script",
    "paid-trial-task-brief",
    "freelance-agreement-outline",
    "budget-planner",
    "timesheet",
    "feedback-review-form",
    "offboarding-checklist",
}


@pytest.fixture(scope="module")
def library() -> DocumentLibrary:
    templates, warnings = load_library(ROOT / "templates", tiers=["members"])
    assert warnings == []
    return DocumentLibrary(templates, ["members"])


@pytest.fixture(scope="module")
def files(library: DocumentLibrary) -> dict[str, bytes]:
    return {d.path: d.content for d in library.downloads()}


def templates(library: DocumentLibrary) -> list[DocumentTemplate]:
    return library.templates


def test_the_twelve_templates_are_there(library: DocumentLibrary) -> None:
    assert {t.slug for t in library.templates} == EXPECTED
    assert {t.slug for t in library.templates if t.is_spreadsheet} == {
        "budget-planner",
        "timesheet",
    }
    for template in library.templates:
        assert template.access == "members"
        assert len(template.fields) >= 4, template.slug
        assert len(template.body.split()) >= 120, template.slug


def test_fill_uses_values_and_labels_for_empty_blanks() -> None:
    labels = {"name": "Your name", "day": "Date"}
    assert fill("Hi {{name}}, {{day}}.", labels, {"name": " Ana "}) == "Hi Ana, [Date]."
    assert fill("Hi {{name}}.", labels, {"name": " \n  "}) == "Hi [Your name]."


TWO_LINES = {"notes": "\n  First line <&>\r\nsecond line  \n\n", "day": "Mon\nTue"}
LABELS = {"notes": "Notes", "day": "Day"}


@pytest.mark.parametrize(
    ("skeleton", "markdown", "expected"),
    [
        # A paragraph keeps its lines; Markdown gets a hard line break (two spaces).
        ("{{notes}}", False, "First line <&>\nsecond line"),
        ("{{notes}}", True, "First line <&>  \nsecond line"),
        # Under a list item, the next line is indented to stay in the item.
        ("- **Notes:** {{notes}}", False, "- **Notes:** First line <&>\n  second line"),
        ("12. {{notes}}", True, "12. First line <&>  \n    second line"),
        ("[ ] {{notes}}", False, "[ ] First line <&>\n    second line"),
        ("> {{notes}}", True, "> First line <&>  \n> second line"),
        # Headings and table rows have no line breaks: the lines are joined.
        ("# Week of {{day:line}}", True, "# Week of Mon<br>Tue"),
        ("| {{day:line}} | x |", True, "| Mon<br>Tue | x |"),
        ("Day: {{day:line}}", False, "Day: Mon / Tue"),
    ],
)
def test_a_paragraph_keeps_its_lines(skeleton: str, markdown: bool, expected: str) -> None:
    assert fill(skeleton, LABELS, TWO_LINES, markdown=markdown) == expected


@pytest.mark.parametrize(
    ("value", "width"),
    [("2026-12-01", 10), ("Zoë", 3), ("e\u0301te\u0301", 3), ("東京 ✅", 7), ("👩\u200d💻 ok", 5)],
)
def test_a_title_underline_is_as_wide_as_the_title(value: str, width: int) -> None:
    assert display_width(value) == width
    filled = fill("REPORT: {{day:line}}\n{{=}}\n\nPart\n{{-}}", LABELS, {"day": value})
    lines = filled.split("\n")
    assert lines[1] == "=" * (len("REPORT: ") + width)
    assert lines[4] == "----"


def test_text_downloads_underline_their_headings_exactly(files: dict[str, bytes]) -> None:
    for path, content in files.items():
        if not path.endswith(".txt"):
            continue
        lines = content.decode().split("\n")
        underlines = [i for i, line in enumerate(lines) if re.fullmatch(r"=+|-+", line)]
        assert underlines, path
        for index in underlines:
            assert len(lines[index]) == display_width(lines[index - 1]), (path, lines[index - 1])


def test_markdown_skeleton_joins_lines_only_in_headings_and_tables(
    library: DocumentLibrary,
) -> None:
    skeleton = markdown_skeleton(library.by_slug["weekly-report"])
    for line in skeleton.splitlines():
        single = line.startswith(("#", "|"))
        for _, mode in re.findall(r"\{\{(\w+)(:line)?\}\}", line):
            assert bool(mode) == single, line
    assert "{{week_summary}}" in skeleton
    template = library.by_slug["daily-status-report"]
    assert markdown_skeleton(template).startswith("# Daily status report: {{report_date:line}}")
    assert text_skeleton(template).startswith("DAILY STATUS REPORT: {{report_date:line}}\n{{=}}\n")


def test_text_version_has_no_markdown_marks(library: DocumentLibrary) -> None:
    for template in library.templates:
        text = text_skeleton(template)
        assert "**" not in text and "|---" not in text and "# " not in text, template.slug
        assert re.findall(r"\{\{(\w+)\}\}", text), template.slug


def test_preview_marks_every_blank(library: DocumentLibrary) -> None:
    template = library.by_slug["weekly-report"]
    preview = html_preview(template)
    fields_in_preview = set(re.findall(r'data-field="(\w+)"', preview))
    assert fields_in_preview == {f.name for f in template.fields}
    assert "<table>" in preview and "{{" not in preview


@pytest.mark.parametrize("slug", sorted(EXPECTED))
def test_docx_opens_and_holds_headings_lists_tables(
    library: DocumentLibrary, files: dict[str, bytes], slug: str
) -> None:
    template = library.by_slug[slug]
    document = Document(io.BytesIO(files[f"downloads/{slug}.docx"]))
    paragraphs = [p for p in document.paragraphs if p.text.strip()]
    heading_texts = [p.text for p in paragraphs if p.style.name.startswith(("Heading", "Title"))]
    assert heading_texts == headings(template)
    parsed = blocks(template)
    list_items = sum(len(b.items) for b in parsed if isinstance(b, ListBlock))
    listed = [p for p in paragraphs if p.style.name in ("List Bullet", "List Paragraph")]
    assert len(listed) == list_items
    tables = [b for b in parsed if isinstance(b, Table)]
    assert len(document.tables) == len(tables)
    for docx_table, table in zip(document.tables, tables, strict=True):
        assert len(docx_table.rows) == len(table.rows) + (1 if table.header else 0)
    highlighted = [
        r.text
        for p in document.paragraphs
        for r in p.runs
        if r.font.highlight_color == WD_COLOR_INDEX.YELLOW
    ]
    assert highlighted and all(t.startswith("[") and t.endswith("]") for t in highlighted)
    assert document.core_properties.title == template.title
    if any(m == "[ ]" for b in parsed if isinstance(b, ListBlock) for m, _ in b.items):
        assert any(p.text.startswith("\u2610") for p in paragraphs)
    assert sum(isinstance(b, Heading) for b in parsed) == len(heading_texts)


W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@pytest.mark.parametrize("slug", sorted(EXPECTED))
def test_each_word_blank_sits_in_a_bookmark_named_after_its_field(
    library: DocumentLibrary, files: dict[str, bytes], slug: str
) -> None:
    """What docx.js relies on: bookmark start, one highlighted `[Label]` run, end."""
    template = library.by_slug[slug]
    body = parse_xml(
        zipfile.ZipFile(io.BytesIO(files[f"downloads/{slug}.docx"])).read("word/document.xml")
    )
    starts = body.findall(f".//{W}bookmarkStart")
    marked = []
    for start in starts:
        name = start.get(f"{W}name")
        found = BOOKMARK.match(name)
        assert found and len(name) <= 40, name  # Word keeps names of up to 40 characters
        run, end = start.getnext(), start.getnext().getnext()
        assert run.tag == f"{W}r" and end.tag == f"{W}bookmarkEnd"
        assert end.get(f"{W}id") == start.get(f"{W}id")
        assert run.find(f"{W}rPr/{W}highlight").get(f"{W}val") == "yellow"
        assert run.find(f"{W}t").text == f"[{template.labels[found.group(2)]}]"
        marked.append(found.group(2))
    assert len({s.get(f"{W}name") for s in starts}) == len({s.get(f"{W}id") for s in starts})
    assert len(starts) == len(set(s.get(f"{W}id") for s in starts))
    in_order = [r.blank for b in blocks(template) for runs in _inline(b) for r in runs if r.blank]
    assert marked == in_order


def _inline(block: object) -> list[tuple[object, ...]]:
    if isinstance(block, ListBlock):
        return [runs for _, runs in block.items]
    if isinstance(block, Table):
        return [cell for row in (block.header, *block.rows) for cell in row]
    return [block.runs]  # type: ignore[attr-defined]


@pytest.mark.parametrize("slug", ["budget-planner", "timesheet"])
def test_excel_fields_name_their_cells(
    library: DocumentLibrary, files: dict[str, bytes], slug: str
) -> None:
    """What xlsx.js relies on: each field's defined name points at its empty input cell."""
    template = library.by_slug[slug]
    assert template.sheet is not None
    workbook = load_workbook(io.BytesIO(files[f"downloads/{slug}.xlsx"]))
    ws = workbook[template.sheet.name]
    assert set(workbook.defined_names) == {f.name for f in template.fields}
    for field in template.fields:
        [(sheet, ref)] = workbook.defined_names[field.name].destinations
        cell = workbook[sheet][ref.replace("$", "")]
        assert sheet == template.sheet.name and cell.column_letter == "B"
        assert ws.cell(cell.row, 1).value == field.label
        assert cell.value is None and cell.fill.fgColor.rgb.endswith("FFF2B3")
        assert cell.alignment.wrap_text  # a paragraph keeps its lines
        # A date shows in the site's style (English here: MM/DD/YYYY).
        assert (cell.number_format == "mm/dd/yyyy") == (field.type == "date")


@pytest.mark.parametrize("slug", ["budget-planner", "timesheet"])
def test_excel_instructions_read_like_the_document(
    library: DocumentLibrary, files: dict[str, bytes], slug: str
) -> None:
    template = library.by_slug[slug]
    workbook = load_workbook(io.BytesIO(files[f"downloads/{slug}.xlsx"]), rich_text=True)
    notes = workbook[NOTES]
    cells = [c for c in notes["A"] if c.value]
    texts = [str(c.value) for c in cells]
    assert not any(re.fullmatch(r"[=-]+", t) or t.startswith(("- ", "# ")) for t in texts)
    assert "**" not in "".join(texts)
    assert cells[0].font.b and str(cells[0].value) == template.title  # the heading
    bullets = [t for t in texts if t.startswith("\u2022 ")]
    items = sum(
        len(b.items) for b in blocks(template) if isinstance(b, ListBlock) and not b.ordered
    )
    assert len(bullets) == items
    # Every blank is a run of its own, `[Label]` in the blank colour; nothing else is.
    runs = [r for c in cells if isinstance(c.value, CellRichText) for r in c.value]
    coloured = [r.text for r in runs if isinstance(r, TextBlock) and r.font.color is not None]
    used = [r.blank for b in blocks(template) for runs_ in _inline(b) for r in runs_ if r.blank]
    assert coloured == [f"[{template.labels[name]}]" for name in used]
    assert all(
        r.font.color.rgb == BLANK_TEXT and r.font.u == "single"
        for r in runs
        if isinstance(r, TextBlock) and r.font.color is not None
    )
    # Bold inside a line is bold in the cell too.
    assert any(isinstance(r, TextBlock) and r.font.b and r.text.endswith(":") for r in runs)


# A small evaluator for the formulas the XLSX holds: =A1*B1 style arithmetic and SUM.
def _cell_value(ws, ref: str, seen: set[str] | None = None) -> float:
    value = ws[ref].value
    if isinstance(value, str) and value.startswith("="):
        return _formula(ws, value[1:], (seen or set()) | {ref})
    return float(value or 0) if not isinstance(value, str) else 0.0


def _formula(ws, expression: str, seen: set[str]) -> float:
    def total(match: re.Match[str]) -> str:
        column, start, end = match.group(1), int(match.group(2)), int(match.group(4))
        assert match.group(3) == column
        return repr(sum(_cell_value(ws, f"{column}{r}", seen) for r in range(start, end + 1)))

    expression = re.sub(r"SUM\(([A-Z]+)(\d+):([A-Z]+)(\d+)\)", total, expression)
    expression = re.sub(
        r"\b([A-Z]+\d+)\b", lambda m: repr(_cell_value(ws, m.group(1), seen)), expression
    )
    assert re.fullmatch(r"[0-9.eE+\-*/() ]+", expression), expression
    return float(eval(expression))  # only digits and operators remain


@pytest.mark.parametrize("slug", ["budget-planner", "timesheet"])
def test_xlsx_formulas_compute_the_expected_totals(
    library: DocumentLibrary, files: dict[str, bytes], slug: str
) -> None:
    """The rows to fill hold the formulas: a member's rows (the example's, typed in
    here) are worked out and added up as the spec says."""
    template = library.by_slug[slug]
    sheet = template.sheet
    assert sheet is not None
    workbook = load_workbook(io.BytesIO(files[f"downloads/{slug}.xlsx"]))
    ws = workbook[sheet.name]
    header_row, first, total_row = layout(template)
    assert [c.value for c in ws[header_row]][: len(sheet.columns)] == [
        c.header for c in sheet.columns
    ]
    assert ws.cell(total_row, 1).value == "Total"
    # Enough rows: the example's and its blank rows, every one with the formulas.
    assert total_row - first == max(len(sheet.rows) + sheet.blank_rows, 10)
    for row in range(first, total_row):
        for index, column in enumerate(sheet.columns, start=1):
            value = ws.cell(row, index).value
            assert str(value).startswith("=") if column.formula else value is None
            if column.formula:  # a row still empty shows no 0.00: a zero shows nothing
                assert ws.cell(row, index).number_format.endswith(";")
    for index, column in enumerate(sheet.columns, start=1):
        if column.key in sheet.totals:
            letter = ws.cell(total_row, index).column_letter
            assert _cell_value(ws, f"{letter}{total_row}") == 0.0  # empty: nothing to add
    # The member types the example's rows in (the last row of all included).
    places = [*range(first, first + len(sheet.rows) - 1), total_row - 1]
    for row, values in zip(places, sheet.rows, strict=True):
        for index, column in enumerate(sheet.columns, start=1):
            if column.key in values:
                ws.cell(row, index).value = values[column.key]
    # Totals recomputed from the spec by hand, independently of the workbook.
    for index, column in enumerate(sheet.columns, start=1):
        if column.key not in sheet.totals:
            continue
        expected = 0.0
        for row_values in sheet.rows:
            values = {k: float(v) for k, v in row_values.items() if isinstance(v, int | float)}
            for other in sheet.columns:
                if other.formula:
                    values[other.key] = evaluate(other.formula, values)
            expected += values.get(column.key, 0.0)
        got = _cell_value(ws, f"{ws.cell(total_row, index).column_letter}{total_row}")
        assert got == pytest.approx(expected), column.key
    assert "How to use" in workbook.sheetnames


def test_budget_planner_totals_by_hand(library: DocumentLibrary) -> None:
    sheet = library.by_slug["budget-planner"].sheet
    assert sheet is not None
    totals = sheet.computed_totals()
    # 9*80*1.05 + 450*1.10 + 60*6*1.05 + 300*1.03 = 756 + 495 + 378 + 309
    assert totals["total_planned"] == pytest.approx(1938)
    assert totals["actual"] == pytest.approx(770 + 495 + 315 + 309)
    assert totals["difference"] == pytest.approx(1889 - 1938)


@pytest.mark.parametrize("slug", ["budget-planner", "timesheet"])
def test_csv_is_the_sheet_to_fill(
    library: DocumentLibrary, files: dict[str, bytes], slug: str
) -> None:
    """The CSV starts like the sheet and holds its formulas on the same rows, so a
    spreadsheet app that opens it works out what the member types."""
    template = library.by_slug[slug]
    rows = list(csv.reader(io.StringIO(files[f"downloads/{slug}.csv"].decode("utf-8-sig"))))
    header_row, _, total_row = layout(template)
    assert rows[: header_row - 1] == csv_head(template)
    assert len(rows) == total_row
    workbook = load_workbook(io.BytesIO(files[f"downloads/{slug}.xlsx"]))
    ws = workbook.worksheets[0]
    for number in range(header_row, total_row + 1):
        in_excel = [c.value or "" for c in ws[number]][: len(rows[number - 1])]
        assert rows[number - 1] == [str(v) for v in in_excel], number
    assert rows[-1][0] == "Total" and any(c.startswith("=SUM(") for c in rows[-1])
    assert to_csv(template) == files[f"downloads/{slug}.csv"]


# -- The example's rows are only ever an example ---------------------------------


@pytest.mark.parametrize("slug", ["budget-planner", "timesheet"])
def test_no_download_holds_the_examples_rows(
    library: DocumentLibrary, files: dict[str, bytes], slug: str
) -> None:
    template = library.by_slug[slug]
    assert "Support inbox and live chat" in example_values(library.by_slug["timesheet"])
    assert 171 in example_values(library.by_slug["timesheet"])  # the example's total
    assert_no_example_in_downloads(template, files)
    # Nor the bundle's copies.
    bundle = zipfile.ZipFile(io.BytesIO(files[bundle_path("members")]))
    for fmt in ("xlsx", "csv"):
        assert bundle.read(f"{slug}.{fmt}") == files[f"downloads/{slug}.{fmt}"]


def test_a_new_sheet_template_downloads_without_its_example(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "mileage.md").write_text(MILEAGE, encoding="utf-8")
    templates, warnings = load_library(folder, tiers=["members"])
    assert warnings == []
    for language in ("en", "de"):
        made = DocumentLibrary(templates, ["members"], language=language)
        files = {d.path: d.content for d in made.downloads()}
        [template] = templates
        assert_no_example_in_downloads(template, files, language)
        workbook = load_workbook(io.BytesIO(files["downloads/mileage.xlsx"]))
        _, first, total = layout(template)
        assert total - first == 10  # one example row and no blank rows: ten rows to fill
        # The example is on the page, as an example, its date in the site's style.
        widget = made.widget("mileage", "../../")
        shown = "23.01.2027" if language == "de" else "01/23/2027"
        example = widget[widget.index('<details class="mk-doc__example">') :]
        assert "Example" in example and "Warehouse run to Leeds" in example and shown in example
        preview = widget[widget.index('aria-label="Preview"') : widget.index("</section>")]
        assert "Warehouse run to Leeds" not in preview and shown not in preview
        assert workbook["Trips"].cell(first, 1).number_format == date_style(language).excel


MILEAGE = """---
title: Mileage log
summary: Trips driven for the business.
category: Reporting
when_to_use: Each trip, the day it is driven.
kind: spreadsheet
fields:
  - name: driver
    label: Driver
    example: Sam Okoro
  - name: log_start
    label: First day
    type: date
    example: 2027-01-04
sheet:
  name: Trips
  columns:
    - {key: day, header: Day, type: date}
    - {key: trip, header: Trip, width: 30}
    - {key: miles, header: Miles, type: number}
    - {key: cost, header: Cost, formula: "miles * 0.45", format: money}
  rows:
    - {day: 2027-01-23, trip: Warehouse run to Leeds, miles: 183.5}
  totals: [miles, cost]
---
# Mileage log of {{ driver }} from {{ log_start }}

Write each trip on the day you drive it.
"""


def test_markdown_and_text_downloads_show_labels_for_blanks(files: dict[str, bytes]) -> None:
    text = files["downloads/daily-status-report.txt"].decode()
    assert "[Your name]" in text and "{{" not in text
    markdown = files["downloads/daily-status-report.md"].decode()
    assert markdown.startswith("# Daily status report: [Date]")


def test_bundle_holds_every_file(library: DocumentLibrary, files: dict[str, bytes]) -> None:
    bundle = zipfile.ZipFile(io.BytesIO(files[bundle_path("members")]))
    names = set(bundle.namelist())
    expected = {p.split("/", 1)[1] for p in files if not p.endswith(".zip")}
    assert names == expected
    for name in names:
        assert bundle.read(name) == files[f"downloads/{name}"]
    assert len(expected) == 12 * 3 + 2 * 2


def test_downloads_are_reproducible(library: DocumentLibrary, files: dict[str, bytes]) -> None:
    again = {d.path: d.content for d in library.downloads()}
    assert again == files
    docx = files["downloads/task-brief.docx"]
    assert reproducible_zip(docx) == docx


def test_downloads_come_from_the_cache_while_unchanged(
    library: DocumentLibrary, files: dict[str, bytes], tmp_path: Path, monkeypatch
) -> None:
    from generator.documents import library as module

    cached = DocumentLibrary(library.templates, ["members"], cache=tmp_path)
    assert {d.path: d.content for d in cached.downloads()} == files  # fills the cache
    widgets = {slug: library.widget(slug, "../../") for slug in library.by_slug}
    assert {slug: cached.widget(slug, "../../") for slug in library.by_slug} == widgets
    assert len(list(tmp_path.glob("*.docx"))) == 12 and len(list(tmp_path.glob("*.xlsx"))) == 2
    copies = [len(list(tmp_path.glob(f"*[0-9a-f].{fmt}"))) for fmt in ("md", "txt")]
    assert copies == [12, 12]
    made: list[str] = []
    real = module._render

    def counting(template: DocumentTemplate, fmt: str, dates: DateStyle) -> bytes:
        made.append(fmt)
        return real(template, fmt, dates)

    monkeypatch.setattr(module, "_render", counting)
    assert {d.path: d.content for d in cached.downloads()} == files
    assert {slug: cached.widget(slug, "../../") for slug in library.by_slug} == widgets
    assert made == []
    # An edited template gets a new file, never the stale one.
    brief = library.by_slug["task-brief"]
    edited = dataclasses.replace(brief, title=brief.title + " (edited)")
    made.clear()
    DocumentLibrary([edited], ["members"], cache=tmp_path).downloads()
    assert made.count("docx") == 1 and made.count("md") == 1


def test_the_checked_library_is_reused_until_a_template_changes(
    tmp_path: Path, monkeypatch
) -> None:
    import shutil

    from generator.documents import library as module
    from generator.errors import MemberkitError

    folder, cache = tmp_path / "templates", tmp_path / "cache"
    shutil.copytree(ROOT / "templates", folder)
    loads: list[Path] = []
    real = module.load_library

    def counting(where: Path, **settings):  # type: ignore[no-untyped-def]
        loads.append(where)
        return real(where, **settings)

    monkeypatch.setattr(module, "load_library", counting)
    key = b"k" * 32
    first, _ = DocumentLibrary.load(folder, ["members"], cache=cache, signing_key=key)
    again, _ = DocumentLibrary.load(folder, ["members"], cache=cache, signing_key=key)
    assert len(loads) == 1 and again.templates == first.templates
    # Another tier list, or an edited template: read again.
    DocumentLibrary.load(folder, ["members", "premium"], cache=cache, signing_key=key)
    brief = folder / "task-brief.md"
    brief.write_text(brief.read_text().replace("title: ", "title: Edited ", 1))
    edited, _ = DocumentLibrary.load(folder, ["members"], cache=cache, signing_key=key)
    assert len(loads) == 3 and edited.by_slug["task-brief"].title.startswith("Edited ")
    [kept] = cache.glob("library-*.pickle")  # the stale ones are gone
    # A cache from elsewhere (another site's key, or a planted file) is never unpickled.
    DocumentLibrary.load(folder, ["members"], cache=cache, signing_key=b"x" * 32)
    planted = tmp_path / "planted"
    kept.write_bytes(b"\0" * 32 + pickle.dumps(Planted(planted)))
    DocumentLibrary.load(folder, ["members"], cache=cache, signing_key=key)
    assert len(loads) == 5 and not planted.exists()
    # A broken template is never kept: it is reported at every build.
    brief.write_text(brief.read_text().replace("title: ", "titel: ", 1))
    for _ in range(2):
        with pytest.raises(MemberkitError, match="title"):
            DocumentLibrary.load(folder, ["members"], cache=cache, signing_key=key)
    assert len(loads) == 7


class Planted:
    """Unpickling this creates a file: proof that a cache was loaded as code."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.path), "w"))


# -- Bad input -------------------------------------------------------------------

GOOD = """---
title: Note
summary: A note.
category: Reporting
when_to_use: Always.
fields:
  - name: who
    label: Who
    example: Ana
---
# Note for {{ who }}

Text.
"""


def load_one(tmp_path: Path, text: str, name: str = "note.md") -> list[str]:
    folder = tmp_path / "templates"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return load_library(folder, tiers=["members"])[1]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("title: Note", "title: [Note"), "templates/note.md:"),
        (("summary: A note.\n", ""), "missing 'summary'"),
        (("    example: Ana", "    example: Ana\n    type: colour"), "unknown type 'colour'"),
        (("# Note for {{ who }}", "# Note for {{ whom }}"), "templates/note.md:11: blank"),
        (("    example: Ana", "    example: Ana\n    type: choice"), "needs 'choices'"),
        (("category: Reporting", "category: Reporting\nformats: [pdf]"), "'formats'"),
        (("category: Reporting", "category: Reporting\naccess: gold"), "'gold'"),
    ],
)
def test_bad_template_errors_name_file_and_field(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    from generator.errors import MemberkitError

    with pytest.raises(MemberkitError) as caught:
        load_one(tmp_path, GOOD.replace(*change))
    assert message in str(caught.value)
    assert "templates/note.md" in str(caught.value)


def test_a_blank_name_must_fit_a_word_bookmark(tmp_path: Path) -> None:
    from generator.errors import MemberkitError

    long = "a" * 33
    with pytest.raises(MemberkitError, match=r"longer than 32 characters.*Word"):
        load_one(tmp_path, GOOD.replace("who", long))
    assert load_one(tmp_path, GOOD.replace("who", "a" * 32)) == []


def test_two_blanks_may_not_share_a_label(tmp_path: Path) -> None:
    from generator.errors import MemberkitError

    text = GOOD.replace(
        "    example: Ana", "    example: Ana\n  - name: whom\n    label: who\n    example: x"
    )
    with pytest.raises(MemberkitError, match="field 'whom' has the label 'who' of field 'who'"):
        load_one(tmp_path, text.replace("Note for {{ who }}", "Note for {{ who }} {{ whom }}"))


def test_unused_field_warns(tmp_path: Path) -> None:
    text = GOOD.replace(
        "    example: Ana", "    example: Ana\n  - name: spare\n    label: S\n    example: x"
    )
    warnings = load_one(tmp_path, text)
    assert len(warnings) == 1 and "'spare'" in warnings[0] and "never used" in warnings[0]


def test_duplicate_slug_is_an_error(tmp_path: Path) -> None:
    from generator.errors import MemberkitError

    load_one(tmp_path, GOOD)
    with pytest.raises(MemberkitError, match=r"slug 'note' is also used by templates/note\.md"):
        load_one(tmp_path, GOOD.replace("title: Note", "slug: note\ntitle: Note"), "other.md")


SHEET = GOOD.replace(
    "fields:",
    """kind: spreadsheet
sheet:
  name: Sheet
  columns:
    - {key: a, header: A, type: number}
    - {key: b, header: B, formula: "a * 2"}
  rows:
    - {a: 3}
  totals: [b]
fields:""",
)


def test_a_spreadsheet_field_may_not_look_like_a_cell(tmp_path: Path) -> None:
    from generator.errors import MemberkitError

    for name in ("q1", "ab12", "tax2026", "r", "c", "r1c1", "rc"):
        with pytest.raises(MemberkitError, match=f"Excel reads '{name}' as a cell"):
            load_one(tmp_path, SHEET.replace("who", name))
        assert load_one(tmp_path, GOOD.replace("who", name)) == []  # a document: fine
    assert load_one(tmp_path, SHEET.replace("who", "q1_total")) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('formula: "a * 2"', 'formula: "a * c"'), "names 'c'"),
        (('formula: "a * 2"', 'formula: "SUM(a)"'), "may only use"),
        (("    - {a: 3}", "    - {a: three}"), "must be a number"),
        (("  totals: [b]", "  totals: [z]"), "'totals'"),
        (("  name: Sheet", "  name: 'Bad/Name'"), "'name'"),
    ],
)
def test_unreadable_spreadsheet_spec(tmp_path: Path, change: tuple[str, str], message: str):
    from generator.errors import MemberkitError

    assert load_one(tmp_path, SHEET) == []
    with pytest.raises(MemberkitError) as caught:
        load_one(tmp_path, SHEET.replace(*change))
    assert message in str(caught.value) and "templates/note.md" in str(caught.value)


def test_a_fields_example_is_a_hint_not_a_value(library: DocumentLibrary) -> None:
    widget = library.widget("daily-status-report", "../../")
    assert 'placeholder="e.g. 6.5"' in widget  # "Hours worked today"
    assert 'placeholder="e.g. Maria Santos"' in widget
    # Every example of every template reads as one; no field holds one as its value.
    for slug in library.by_slug:
        shown = library.widget(slug, "../../")
        hints = re.findall(r'placeholder="([^"]*)"', shown)
        assert hints and all(h.startswith("e.g. ") for h in hints), slug
        assert not re.search(r"<input[^>]*\bvalue=", shown), slug


# -- Writing hints and samples ------------------------------------------------------

HINTED = GOOD.replace("    example: Ana", "    example: Ana\n    hint: Their first name.")


def hints(library: DocumentLibrary) -> list[tuple[DocumentTemplate, str, str]]:
    """(template, field, hint) of every bundled hint."""
    return [(t, f.name, f.hint) for t in library.templates for f in t.fields if f.hint]


def test_a_hint_is_read_as_one_line_of_plain_text(tmp_path: Path) -> None:
    load_one(tmp_path, HINTED.replace("Their first name.", ">-\n      Their first\n      name."))
    [template], _ = load_library(tmp_path / "templates", tiers=["members"])
    assert template.fields[0].hint == "Their first name."
    assert load_one(tmp_path, GOOD) == []
    [template], _ = load_library(tmp_path / "templates", tiers=["members"])
    assert template.fields[0].hint == ""


@pytest.mark.parametrize(
    ("hint", "message"),
    [
        ("''", "field 'who': 'hint' must be text"),
        ("[a, b]", "field 'who': 'hint' must be text"),
        ("12", "field 'who': 'hint' must be text"),
        ("Ask {{ who }} first.", "field 'who': 'hint' holds the blank {{ who }}"),
    ],
)
def test_a_bad_hint_names_the_file_the_field_and_the_fix(
    tmp_path: Path, hint: str, message: str
) -> None:
    from generator.errors import MemberkitError

    with pytest.raises(MemberkitError) as caught:
        load_one(tmp_path, HINTED.replace("Their first name.", hint))
    assert message in str(caught.value)
    assert str(caught.value).startswith("templates/note.md")
    assert "Traceback" not in str(caught.value)


def test_an_unknown_field_key_lists_hint_among_the_known(tmp_path: Path) -> None:
    from generator.errors import MemberkitError

    with pytest.raises(
        MemberkitError, match=r"unknown key\(s\) tip; use name, label, example, hint"
    ):
        load_one(tmp_path, HINTED.replace("hint:", "tip:"))


def test_the_bundled_hints_are_under_their_inputs_and_nowhere_in_the_document(
    library: DocumentLibrary, files: dict[str, bytes]
) -> None:
    found = hints(library)
    assert {t.slug for t, _, _ in found} >= {
        "daily-status-report",
        "weekly-report",
        "end-of-project-report",
        "feedback-review-form",
        "task-brief",
    }
    daily = library.by_slug["daily-status-report"]
    assert len([f for f in daily.fields if f.hint]) == 4
    everything = "\n".join(
        text for path, content in files.items() for text in _texts(path, content)
    )
    for template, name, hint in found:
        start = hint[:40]
        assert start not in template.body, (template.slug, name)
        assert start not in html_preview(template)
        assert start not in markdown_skeleton(template) and start not in text_skeleton(template)
        widget = library.widget(template.slug, "../../")
        ident = f"mk-{template.slug}-{name}"
        # Under its own input, read with it by a screen reader; not in the widget's data.
        assert re.search(
            rf'<(?:input|textarea|select) id="{ident}" [^>]*'
            rf'aria-describedby="(?:{ident}-format )?{ident}-hint"',
            widget,
        ), (template.slug, name)
        assert f'<p class="mk-doc__hint" id="{ident}-hint">{html.escape(hint)}</p>' in widget
        data = widget[widget.index('<template class="mk-doc__data">') :]
        assert html.escape(start, quote=False) not in data
        assert start not in everything, (template.slug, name)
    # A field without a hint points at none.
    assert 'aria-describedby="mk-daily-status-report-worker_name-hint"' not in library.widget(
        "daily-status-report", "../../"
    )


def _texts(path: str, content: bytes) -> list[str]:
    """A download's text: the files inside a Word, Excel or zip file, or the file."""
    if content[:4] != b"PK\x03\x04":
        return [content.decode("utf-8", errors="replace")]
    archive = zipfile.ZipFile(io.BytesIO(content))
    return [
        text for name in archive.namelist() for text in _texts(f"{path}!{name}", archive.read(name))
    ]


def test_the_daily_report_preview_holds_its_answers_and_no_hint(library: DocumentLibrary) -> None:
    """The report as reported: no italic writing hint between the answers."""
    preview = html_preview(library.by_slug["daily-status-report"])
    assert "<em>" not in preview
    assert "List finished work only" not in preview
    assert re.search(r"<h3>Done today</h3>\s*<p><span class=\"mk-blank\"[^>]*>\[What you", preview)


@pytest.mark.parametrize(
    ("front", "default", "shown"),
    [
        ("", False, False),
        ("", True, True),
        ("sample: true\n", False, True),
        ("sample: false\n", True, False),
        ("sample: true\naccess: public\n", False, False),  # its whole form is public
    ],
)
def test_a_sample_is_the_owners_choice(
    tmp_path: Path, front: str, default: bool, shown: bool
) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "note.md").write_text(GOOD.replace("fields:", front + "fields:"), encoding="utf-8")
    templates, _ = load_library(folder, tiers=["members"], default_sample=default)
    library = DocumentLibrary(templates, ["members"])
    [template] = templates
    assert template.shows_sample is shown
    page = library.page_markdown(template)
    teaser, _, members = page.partition("<!-- more -->")
    assert ('<div data-mk-sample="note"></div>' in teaser) is shown
    assert "data-mk-sample" not in members
    assert ("See a sample" in library.index_markdown()) is shown


def test_a_bad_sample_setting_names_the_file_and_the_fix(tmp_path: Path) -> None:
    from generator.errors import MemberkitError

    with pytest.raises(
        MemberkitError, match=r"templates/note\.md: .*'sample' is 'often'; use true"
    ):
        load_one(tmp_path, GOOD.replace("fields:", "sample: often\nfields:"))


def test_a_sample_is_the_document_filled_with_its_examples(library: DocumentLibrary) -> None:
    daily = library.by_slug["daily-status-report"]
    sample = library.sample("daily-status-report")
    assert 'class="mk-sample mk1-for-visitors"' in sample  # hidden from a signed-in member
    assert re.search(r"<h2 [^>]*>Sample</h2>", sample)
    assert 'href="memberkit:join"' in sample and 'href="#mk1-members"' in sample
    for field in daily.fields:
        shown = "03/12/2026" if field.type == "date" else field.example  # the site's style
        assert f'<span class="mk-sample__value">{html.escape(shown)}</span>' in sample, field.name
        assert html.escape(field.hint) not in sample or not field.hint
    # No blank left, none the page's form would fill.
    assert "data-field=" not in sample and "mk-blank" not in sample and "[Your name]" not in sample
    assert "<form" not in sample and "download" not in sample.lower().replace("download it", "")
    # Read only, the document's own headings below the sample's.
    assert "<h3>Daily status report: " in sample and "<h4>Done today</h4>" in sample
    assert "Status key" in sample  # the template's own text, whole


def test_a_spreadsheets_sample_is_its_sheet_with_the_example_rows(
    library: DocumentLibrary,
) -> None:
    sheet = library.by_slug["timesheet"].sheet
    assert sheet is not None
    sample = library.sample("timesheet")
    table = sample[sample.index('<table class="mk-sheet">') : sample.index("</table>")]
    # The header, each example row and the totals.
    assert table.count("<tr>") == 1 + len(sheet.rows) + 1
    for column in sheet.columns:
        assert f'<th scope="col">{html.escape(column.header)}</th>' in table
    assert "Support inbox and live chat" in table and "38 tickets closed" in table
    assert '<td class="mk-sheet__number">36.00</td>' in table  # billable * rate, as money
    assert '<td class="mk-sheet__text">03/09/2026</td>' in table  # the site's date style
    totals = sheet.computed_totals()
    row = table[table.index("<tfoot>") :]
    assert f">{totals['amount']:,.2f}</td>" in row and "Total" in row
    assert '<strong>Hourly rate in USD:</strong> <span class="mk-sample__value">9<' in sample
    assert "How to use" in sample and "24-hour format" in sample


def test_an_italic_line_under_a_blank_stays_text_of_the_document(tmp_path: Path) -> None:
    """Only `hint:` makes a hint: an italic line of the body may be the document's own
    (a sign-off, a note to the reader), and is never taken out of it."""
    text = GOOD.replace("Text.", "{{ who }}\n\n*Sent from my phone.*\n\nMore text.")
    assert load_one(tmp_path, text) == []
    [template], _ = load_library(tmp_path / "templates", tiers=["members"])
    assert template.fields[0].hint == ""
    assert "<p><em>Sent from my phone.</em></p>" in html_preview(template)
    assert "*Sent from my phone.*" in fill(markdown_skeleton(template), template.labels)
    assert "Sent from my phone." in text_skeleton(template)


def test_another_site_language_never_gets_a_cached_file_of_the_first(
    library: DocumentLibrary, tmp_path: Path
) -> None:
    """The date style is part of what the cache knows a file by: a site that changes its
    language gets its spreadsheet's date cells and its examples in the new style."""
    english = DocumentLibrary(library.templates, ["members"], cache=tmp_path)
    german = DocumentLibrary(library.templates, ["members"], cache=tmp_path, language="de")
    for made, shown, cells in (
        (english, "03/09/2026", "mm/dd/yyyy"),
        (german, "09.03.2026", "dd.mm.yyyy"),
    ):
        files = {d.path: d.content for d in made.downloads()}
        workbook = load_workbook(io.BytesIO(files["downloads/timesheet.xlsx"]))
        assert workbook["Timesheet"]["B5"].number_format == cells
        assert f'placeholder="e.g. {shown}"' in made.widget("timesheet", "../../")
