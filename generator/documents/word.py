"""A document template as a real Word file (.docx) made with python-docx.

Headings, paragraphs, lists, checklists (☐) and tables; every blank appears as
its `[Label]`, highlighted so the member sees at a glance what is left to fill in.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

from docx import Document
from docx.enum.text import WD_COLOR_INDEX
from docx.shared import Pt, RGBColor
from docx.text.paragraph import Paragraph as DocxParagraph

from .blocks import Heading, Inline, ListBlock, Paragraph, Table
from .model import DocumentTemplate
from .render import blocks

CHECKBOX = {"[ ]": "\u2610 ", "[x]": "\u2612 "}
BRAND = RGBColor(0x17, 0x32, 0x4D)


def _add_runs(paragraph: DocxParagraph, runs: Inline, labels: Mapping[str, str]) -> None:
    for item in runs:
        if item.blank:
            run = paragraph.add_run(f"[{labels.get(item.blank, item.blank)}]")
            run.font.highlight_color = WD_COLOR_INDEX.YELLOW
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
    for block in blocks(template):
        if isinstance(block, Heading):
            heading = document.add_heading("", level=0 if block.level == 1 else block.level - 1)
            _add_runs(heading, block.runs, labels)
        elif isinstance(block, Paragraph):
            _add_runs(document.add_paragraph(), block.runs, labels)
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
                _add_runs(paragraph, runs, labels)
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
                    _add_runs(paragraph, runs, labels)
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
