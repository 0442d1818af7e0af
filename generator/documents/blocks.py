"""A template body as a short list of blocks every renderer can walk.

Python-Markdown parses the body (so the owner writes ordinary Markdown); this module
turns its output into headings, paragraphs, lists, checklists and tables made of
inline runs, with each blank kept as a blank. The renderers for text, HTML, Word
and the spreadsheet's instructions all read the same blocks, so they cannot disagree.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import markdown

from generator.documents.model import BLANK

# Private-use characters carry a blank through Markdown untouched.
_OPEN, _CLOSE = "\ue000", "\ue001"
_TOKEN = re.compile(f"{_OPEN}([a-z][a-z0-9_]*){_CLOSE}")
_TASK = re.compile(r"^\[( |x|X)\]\s+")


@dataclass(frozen=True)
class Run:
    """Inline text, or a blank when `blank` names a field."""

    text: str = ""
    blank: str | None = None
    bold: bool = False
    italic: bool = False


Inline = tuple[Run, ...]


@dataclass(frozen=True)
class Heading:
    level: int
    runs: Inline


@dataclass(frozen=True)
class Paragraph:
    runs: Inline


@dataclass(frozen=True)
class ListBlock:
    ordered: bool
    items: tuple[tuple[str, Inline], ...]  # (marker, runs): marker "-", "1.", "[ ]", "[x]"


@dataclass(frozen=True)
class Table:
    header: tuple[Inline, ...]
    rows: tuple[tuple[Inline, ...], ...]


Block = Heading | Paragraph | ListBlock | Table


@lru_cache(maxsize=1)
def _markdown() -> markdown.Markdown:
    """One converter for every template: setting one up costs as much as converting."""
    return markdown.Markdown(extensions=["tables"], output_format="xhtml")


@lru_cache(maxsize=256)
def _parse(body: str) -> tuple[Block, ...]:
    marked = BLANK.sub(lambda m: f"{_OPEN}{m.group(1)}{_CLOSE}", body)
    html = _markdown().reset().convert(marked)
    root = ET.fromstring(f"<body>{html}</body>")
    return tuple(_blocks(root))


def parse(body: str) -> list[Block]:
    """Parse a template body (Markdown with `{{ blanks }}`) into blocks (cached: every
    renderer reads the same body)."""
    return list(_parse(body))


def _blocks(root: ET.Element) -> Iterator[Block]:
    for element in root:
        tag = element.tag
        if re.fullmatch(r"h[1-6]", tag):
            yield Heading(min(int(tag[1]), 3), _runs(element))
        elif tag == "p":
            yield Paragraph(_runs(element))
        elif tag in ("ul", "ol"):
            items: list[tuple[str, Inline]] = []
            for number, li in enumerate(element.findall("li"), start=1):
                target = (
                    li.find("p") if li.find("p") is not None and not (li.text or "").strip() else li
                )
                runs = _runs(target if target is not None else li)
                marker = f"{number}." if tag == "ol" else "-"
                first = runs[0] if runs else None
                if first is not None and first.blank is None and (task := _TASK.match(first.text)):
                    marker = "[x]" if task.group(1) in "xX" else "[ ]"
                    runs = (
                        Run(first.text[task.end() :], None, first.bold, first.italic),
                        *runs[1:],
                    )
                items.append((marker, runs))
            yield ListBlock(tag == "ol", tuple(items))
        elif tag == "table":
            head = [
                tuple(_runs(c) for c in tr)
                for tr in element.iter("tr")
                if tr.find("th") is not None
            ]
            body = [
                tuple(_runs(c) for c in tr)
                for tr in element.iter("tr")
                if tr.find("td") is not None
            ]
            yield Table(head[0] if head else (), tuple(body))
        elif tag == "hr":
            continue
        else:
            # Anything else (a block quote, say) is kept as its plain text.
            yield Paragraph((Run("".join(element.itertext()).strip()),))


def _runs(element: ET.Element, bold: bool = False, italic: bool = False) -> Inline:
    runs: list[Run] = []

    def text(value: str | None, b: bool, i: bool) -> None:
        if not value:
            return
        position = 0
        for match in _TOKEN.finditer(value):
            if match.start() > position:
                runs.append(Run(value[position : match.start()], None, b, i))
            runs.append(Run("", match.group(1), b, i))
            position = match.end()
        if position < len(value):
            runs.append(Run(value[position:], None, b, i))

    text(element.text, bold, italic)
    for child in element:
        b = bold or child.tag in ("strong", "b")
        i = italic or child.tag in ("em", "i")
        if child.tag == "br":
            runs.append(Run("\n", None, b, i))
        else:
            runs.extend(_runs(child, b, i))
        text(child.tail, bold, italic)
    return _merge(runs)


def _merge(runs: list[Run]) -> Inline:
    """Join neighbouring text runs of the same style; collapse source line breaks."""
    merged: list[Run] = []
    for run in runs:
        if run.blank is None:
            run = Run(
                re.sub(r"[ \t]*\n[ \t]*", " ", run.text) if run.text != "\n" else "\n",
                None,
                run.bold,
                run.italic,
            )
        last = merged[-1] if merged else None
        if (
            last is not None
            and last.blank is None
            and run.blank is None
            and (last.bold, last.italic) == (run.bold, run.italic)
        ):
            merged[-1] = Run(last.text + run.text, None, run.bold, run.italic)
        else:
            merged.append(run)
    return tuple(merged)
