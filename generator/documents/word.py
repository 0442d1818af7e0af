"""A document template as a real Word file (.docx) made with python-docx.

Headings, paragraphs, lists, checklists (☐) and tables; every blank appears as
its `[Label]`, highlighted so the member sees at a glance what is left to fill in.

Each blank's run sits in a hidden bookmark named after its field (`_mk3_worker_name`:
a leading underscore hides it from Word's bookmark list), which is how the browser
finds the blanks to put what the member typed in them (`docx.js`).
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from itertools import count

from docx import Document
from docx.enum.text import WD_COLOR_INDEX
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor
from docx.text.paragraph import Paragraph as DocxParagraph

from generator.documents.blocks import Heading, Inline, ListBlock, Paragraph, Table
from generator.documents.model import DocumentTemplate
from generator.documents.render import blocks

CHECKBOX = {"[ ]": "\u2610 ", "[x]": "\u2612 "}
BRAND = RGBColor(0x17, 0x32, 0x4D)
#: The bookmark around a blank: its number in the document, then its field.
BOOKMARK = re.compile(r"^_mk(\d+)_([a-z][a-z0-9_]*)$")


def bookmark_name(number: int, field: str) -> str:
    return f"_mk{number}_{field}"


def _bookmark(tag: str, number: int, name: str | None = None) -> object:
    element = OxmlElement(tag)
    element.set(qn("w:id"), str(number))
    if name is not None:
        element.set(qn("w:name"), name)
    return element


def _add_runs(
    paragraph: DocxParagraph, runs: Inline, labels: Mapping[str, str], numbers: count[int]
) -> None:
    for item in runs:
        if item.blank:
            number = next(numbers)
            paragraph._p.append(
                _bookmark("w:bookmarkStart", number, bookmark_name(number, item.blank))
            )
            run = paragraph.add_run(f"[{labels.get(item.blank, item.blank)}]")
            run.font.highlight_color = WD_COLOR_INDEX.YELLOW
            paragraph._p.append(_bookmark("w:bookmarkEnd", number))
        elif item.text == "\n":
            paragraph.add_run().add_break()
            continue
        else:
            run = paragraph.add_run(item.text)
        run.bold = item.bold or None
        run.italic = item.italic or None


def to_docx(template: DocumentTemplate) -> bytes:
    document = Document()
    styles = document.styles
    styles["Normal"].font.name = "Calibri"
    styles["Normal"].font.size = Pt(11)
    for name in ("Title", "Heading 1", "Heading 2", "Heading 3"):
        styles[name].font.color.rgb = BRAND
    labels = template.labels
    numbers = count(1)
    for block in blocks(template):
        if isinstance(block, Heading):
            heading = document.add_heading("", level=0 if block.level == 1 else block.level - 1)
            _add_runs(heading, block.runs, labels, numbers)
        elif isinstance(block, Paragraph):
            _add_runs(document.add_paragraph(), block.runs, labels, numbers)
        elif isinstance(block, ListBlock):
            for marker, runs in block.items:
                if marker in CHECKBOX:
                    paragraph = document.add_paragraph(style="List Paragraph")
                    paragraph.add_run(CHECKBOX[marker])
                elif block.ordered:
                    # Numbers written out: Word's list numbering would run on across lists.
                    paragraph = document.add_paragraph(style="List Paragraph")
                    paragraph.add_run(f"{marker} ")
                else:
                    paragraph = document.add_paragraph(style="List Bullet")
                _add_runs(paragraph, runs, labels, numbers)
        elif isinstance(block, Table):
            columns = max([len(block.header), *(len(r) for r in block.rows)])
            table = document.add_table(rows=0, cols=columns)
            table.style = "Table Grid"
            for row_index, row in enumerate(
                ([block.header] if block.header else []) + list(block.rows)
            ):
                cells = table.add_row().cells
                for cell, runs in zip(cells, row, strict=False):
                    paragraph = cell.paragraphs[0]
                    _add_runs(paragraph, runs, labels, numbers)
                    if row_index == 0 and block.header:
                        for run in paragraph.runs:
                            run.bold = True
            document.add_paragraph()
    props = document.core_properties
    props.title = template.title
    props.subject = template.summary
    props.category = template.category
    props.author = ""
    props.last_modified_by = ""
    props.revision = 1
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
