"""Render a document template as Markdown, plain text and HTML.

Markdown and text come out as *skeletons* that keep each blank as `{{name}}`: the
browser fills them with what the member typed, and `fill` does the same in Python
(with `[Label]` for a blank left empty) for the files made at build time.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

from .blocks import Block, Heading, Inline, ListBlock, Paragraph, Table, parse
from .model import BLANK, DocumentTemplate


def fill(skeleton: str, labels: Mapping[str, str], values: Mapping[str, str] | None = None) -> str:
    """Put values (or `[Label]` where there is none) into a skeleton's blanks."""
    values = values or {}

    def one(match: object) -> str:
        name = match.group(1)  # type: ignore[attr-defined]
        value = str(values.get(name, "")).strip()
        return value or f"[{labels.get(name, name)}]"

    return BLANK.sub(one, skeleton)


def markdown_skeleton(template: DocumentTemplate) -> str:
    """The body as the owner wrote it, blanks normalised to `{{name}}`."""
    return BLANK.sub(lambda m: "{{" + m.group(1) + "}}", template.body)


# -- Plain text ----------------------------------------------------------------


def _plain(runs: Inline, upper: bool = False) -> str:
    return "".join(
        "{{" + r.blank + "}}" if r.blank else (r.text.upper() if upper else r.text) for r in runs
    ).strip()


def text_skeleton(template: DocumentTemplate) -> str:
    """Plain text for an email or chat: no Markdown marks, tables as `a | b` lines."""
    out: list[str] = []
    for block in parse(template.body):
        if isinstance(block, Heading):
            line = _plain(block.runs, upper=block.level == 1)
            underline = {1: "=", 2: "-"}.get(block.level)
            out.append(line)
            if underline:
                out.append(underline * max(len(line), 3))
        elif isinstance(block, Paragraph):
            out.append(_plain(block.runs))
        elif isinstance(block, ListBlock):
            out.extend(f"{marker} {_plain(runs)}" for marker, runs in block.items)
        elif isinstance(block, Table):
            if block.header:
                out.append(" | ".join(_plain(c) for c in block.header))
            out.extend(" | ".join(_plain(c) for c in row) for row in block.rows)
        out.append("")
    return "\n".join(out).rstrip() + "\n"


# -- HTML -----------------------------------------------------------------------


def _html_runs(runs: Inline, labels: Mapping[str, str]) -> str:
    parts: list[str] = []
    for run in runs:
        if run.blank:
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


def html_preview(template: DocumentTemplate) -> str:
    """The document as HTML with every blank a `span.mk-blank[data-field]`."""
    labels = template.labels
    out: list[str] = []
    for block in parse(template.body):
        if isinstance(block, Heading):
            # One level down: the page's own title is the h1.
            level = block.level + 1
            out.append(f"<h{level}>{_html_runs(block.runs, labels)}</h{level}>")
        elif isinstance(block, Paragraph):
            out.append(f"<p>{_html_runs(block.runs, labels)}</p>")
        elif isinstance(block, ListBlock):
            tag = "ol" if block.ordered else "ul"
            items = []
            for marker, runs in block.items:
                box = ""
                if marker in ("[ ]", "[x]"):
                    box = "&#9746; " if marker == "[x]" else "&#9744; "
                items.append(f"<li>{box}{_html_runs(runs, labels)}</li>")
            css = ' class="mk-checklist"' if any(m.startswith("[") for m, _ in block.items) else ""
            out.append(f"<{tag}{css}>{''.join(items)}</{tag}>")
        elif isinstance(block, Table):
            head = "".join(f"<th>{_html_runs(c, labels)}</th>" for c in block.header)
            rows = "".join(
                "<tr>" + "".join(f"<td>{_html_runs(c, labels)}</td>" for c in row) + "</tr>"
                for row in block.rows
            )
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
    return "\n".join(out)


def headings(template: DocumentTemplate) -> list[str]:
    """Every heading's text with blanks as `[Label]` (what the DOCX must hold)."""
    return [
        fill(_plain(b.runs), template.labels)
        for b in parse(template.body)
        if isinstance(b, Heading)
    ]


def blocks(template: DocumentTemplate) -> list[Block]:
    return parse(template.body)
