"""Render a document template as Markdown, plain text and HTML.

Markdown and text come out as *skeletons* that keep each blank: the browser fills
them with what the member typed, and `fill` does the same in Python (with `[Label]`
for a blank left empty) for the files made at build time. Both follow one small
syntax, so that a paragraph the member typed keeps its lines wherever it lands:

- `{{name}}`: a blank whose value may span lines (continuation lines are indented
  like the list item they are in; Markdown gets hard line breaks);
- `{{name:line}}`: a blank in a heading or a table row, where lines are joined;
- a line that is only `{{=}}` or `{{-}}`: the underline of the heading above it,
  exactly as wide as that heading once filled in.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Mapping
from itertools import pairwise

from generator.documents.blocks import Block, Heading, Inline, ListBlock, Paragraph, Table, parse
from generator.documents.model import BLANK, DocumentTemplate

#: A blank filled in at build time (a sample's example): not one the page fills.
FILLED = "mk-sample__value"
#: A blank in a skeleton: `{{name}}` or `{{name:line}}`.
SKELETON_BLANK = re.compile(r"\{\{([a-z][a-z0-9_]*)(?::(line))?\}\}")
UNDERLINES = {"{{=}}": "=", "{{-}}": "-"}
# What starts a line that continues on the next: quote marks, indentation, a list marker.
_LEAD = re.compile(r"^((?:[ \t]*>)*[ \t]*)((?:[-*+]|\d+[.)]|\[[ xX]\])[ \t]+)?")
_HEADING_LINE = re.compile(r"^ {0,3}#{1,6}(?:[ \t]|$)")
_SETEXT = re.compile(r"^ {0,3}(?:=+|-+)[ \t]*$")
_TABLE_RULE = re.compile(r"^[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$")


def display_width(text: str) -> int:
    """Columns `text` takes in a monospaced font: wide East Asian characters and emoji
    count two, combining marks, variation selectors and joiners none (and what follows
    a joiner is part of the same picture)."""
    width, joined = 0, False
    for char in text:
        if unicodedata.category(char) in ("Mn", "Me", "Cf"):
            joined = char == "\u200d"
            continue
        if not joined:
            width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
        joined = False
    return width


def value_lines(value: str) -> list[str]:
    """What the member typed, as lines: outer blank lines and spaces dropped."""
    lines = [line.rstrip() for line in value.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0].strip():
        lines.pop(0)
    if lines:
        lines[0] = lines[0].lstrip()
    return lines


def _join(lines: list[str], *, single: bool, markdown: bool, indent: str) -> str:
    if single:
        return ("<br>" if markdown else " / ").join(line.strip() for line in lines if line.strip())
    out = lines[0]
    for before, line in pairwise(lines):
        hard = "  " if markdown and before.strip() and line.strip() else ""
        out += hard + "\n" + (indent + line if line.strip() else "")
    return out


def fill(
    skeleton: str,
    labels: Mapping[str, str],
    values: Mapping[str, str] | None = None,
    *,
    markdown: bool = False,
) -> str:
    """Put values (or `[Label]` where there is none) into a skeleton's blanks."""
    values = values or {}
    out: list[str] = []
    for line in skeleton.split("\n"):
        mark = UNDERLINES.get(line.strip())
        if mark is not None:
            above = out[-1].rsplit("\n", 1)[-1] if out else ""
            out.append(mark * max(1, display_width(above)))
            continue
        lead = _LEAD.match(line)
        indent = (lead.group(1) + " " * len(lead.group(2) or "")) if lead else ""

        def one(match: re.Match[str], indent: str = indent) -> str:
            name = match.group(1)
            lines = value_lines(str(values.get(name, "")))
            if not lines:
                return f"[{labels.get(name, name)}]"
            return _join(lines, single=bool(match.group(2)), markdown=markdown, indent=indent)

        out.append(SKELETON_BLANK.sub(one, line))
    return "\n".join(out)


def markdown_skeleton(template: DocumentTemplate) -> str:
    """The body as the owner wrote it, blanks normalised to `{{name}}`, and to
    `{{name:line}}` in headings and table rows (where Markdown has no line breaks)."""
    lines = template.body.split("\n")
    single = [bool(_HEADING_LINE.match(line)) for line in lines]
    for number, line in enumerate(lines):
        if number and _SETEXT.match(line) and lines[number - 1].strip():
            single[number - 1] = True
        if number and _TABLE_RULE.match(line) and "|" in line + lines[number - 1]:
            row = number - 1
            while row < len(lines) and lines[row].strip():
                single[row] = True
                row += 1
    return "\n".join(
        BLANK.sub("{{\\1:line}}" if one else "{{\\1}}", line)
        for line, one in zip(lines, single, strict=True)
    )


# -- Plain text ----------------------------------------------------------------


def _plain(runs: Inline, upper: bool = False, single: bool = False) -> str:
    suffix = ":line}}" if single else "}}"
    return "".join(
        "{{" + r.blank + suffix if r.blank else (r.text.upper() if upper else r.text) for r in runs
    ).strip()


def text_skeleton(template: DocumentTemplate) -> str:
    """Plain text for an email or chat: no Markdown marks, tables as `a | b` lines."""
    out: list[str] = []
    for block in parse(template.body):
        if isinstance(block, Heading):
            out.append(_plain(block.runs, upper=block.level == 1, single=True))
            if block.level <= 2:
                out.append("{{=}}" if block.level == 1 else "{{-}}")
        elif isinstance(block, Paragraph):
            out.append(_plain(block.runs))
        elif isinstance(block, ListBlock):
            out.extend(f"{marker} {_plain(runs)}" for marker, runs in block.items)
        elif isinstance(block, Table):
            if block.header:
                out.append(" | ".join(_plain(c, single=True) for c in block.header))
            out.extend(" | ".join(_plain(c, single=True) for c in row) for row in block.rows)
        out.append("")
    return "\n".join(out).rstrip() + "\n"


# -- HTML -----------------------------------------------------------------------


def _html_runs(
    runs: Inline, labels: Mapping[str, str], values: Mapping[str, str] | None = None
) -> str:
    parts: list[str] = []
    for run in runs:
        if run.blank and values is not None:
            lines = value_lines(values.get(run.blank, ""))
            label = html.escape(labels.get(run.blank, run.blank))
            shown = "<br>".join(map(html.escape, lines)) if lines else f"[{label}]"
            piece = f'<span class="{FILLED}">{shown}</span>'
        elif run.blank:
            label = html.escape(labels.get(run.blank, run.blank))
            piece = f'<span class="mk-blank" data-field="{html.escape(run.blank)}">[{label}]</span>'
        elif run.text == "\n":
            piece = "<br>"
        else:
            piece = html.escape(run.text)
        if run.italic:
            piece = f"<em>{piece}</em>"
        if run.bold:
            piece = f"<strong>{piece}</strong>"
        parts.append(piece)
    return "".join(parts).strip()


def html_preview(
    template: DocumentTemplate, values: Mapping[str, str] | None = None, *, below: int = 1
) -> str:
    """The document as HTML with every blank a `span.mk-blank[data-field]`; with
    `values`, filled in with them instead (each a `span.mk-sample__value`). Its
    headings sit `below` levels down from the document's own (the page's title is
    the h1)."""
    labels = template.labels
    out: list[str] = []

    def runs(inline: Inline) -> str:
        return _html_runs(inline, labels, values)

    for block in parse(template.body):
        if isinstance(block, Heading):
            level = min(6, block.level + below)
            out.append(f"<h{level}>{runs(block.runs)}</h{level}>")
        elif isinstance(block, Paragraph):
            out.append(f"<p>{runs(block.runs)}</p>")
        elif isinstance(block, ListBlock):
            tag = "ol" if block.ordered else "ul"
            items = []
            for marker, inline in block.items:
                box = ""
                if marker in ("[ ]", "[x]"):
                    box = "&#9746; " if marker == "[x]" else "&#9744; "
                items.append(f"<li>{box}{runs(inline)}</li>")
            css = ' class="mk-checklist"' if any(m.startswith("[") for m, _ in block.items) else ""
            out.append(f"<{tag}{css}>{''.join(items)}</{tag}>")
        elif isinstance(block, Table):
            head = "".join(f"<th>{runs(c)}</th>" for c in block.header)
            rows = "".join(
                "<tr>" + "".join(f"<td>{runs(c)}</td>" for c in row) + "</tr>" for row in block.rows
            )
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
    return "\n".join(out)


def headings(template: DocumentTemplate) -> list[str]:
    """Every heading's text with blanks as `[Label]` (what the DOCX must hold)."""
    return [
        fill(_plain(b.runs, single=True), template.labels)
        for b in parse(template.body)
        if isinstance(b, Heading)
    ]


def blocks(template: DocumentTemplate) -> list[Block]:
    return parse(template.body)
