"""Checklists whose boxes say what they check.

`pymdownx.tasklist` turns `- [ ] Call two references` into a checkbox followed by the
item's text, outside any label: a screen reader meets "checkbox, not checked" with no
name. This Markdown extension gives each box its item's text as its name. List it
after `pymdownx.tasklist` under `markdown_extensions` (the bundled mkdocs.yml does).

No MkDocs import: it is a Python-Markdown extension like any other.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as etree
from typing import Any

from markdown import Extension, Markdown
from markdown.treeprocessors import Treeprocessor
from markdown.util import HTML_PLACEHOLDER_RE

_CHECKBOX = '<input type="checkbox"'
_LISTS = ("ul", "ol")


def item_text(item: etree.Element) -> str:
    """The words of a list item, without those of the lists nested in it."""
    parts = [item.text or ""]
    for child in item:
        if child.tag not in _LISTS:
            parts.extend(child.itertext())
        parts.append(child.tail or "")
    words = HTML_PLACEHOLDER_RE.sub(" ", "".join(parts))
    return re.sub(r"\s+", " ", words).strip()


class _NameCheckboxes(Treeprocessor):  # type: ignore[misc]  # Markdown ships no types
    """After inline Markdown is parsed: the item's text is plain words by then."""

    def run(self, root: etree.Element) -> None:
        for item in root.iter("li"):
            if "task-list-item" not in item.get("class", "").split():
                continue
            first = item[0] if len(item) and item[0].tag == "p" and not item.text else item
            found = HTML_PLACEHOLDER_RE.match((first.text or "").lstrip())
            name = item_text(first)
            if found is None or not name:
                continue
            index = int(found.group(1))
            stashed = self.md.htmlStash.rawHtmlBlocks[index]
            if isinstance(stashed, str) and _CHECKBOX in stashed:
                labelled = f'{_CHECKBOX} aria-label="{html.escape(name)}"'
                self.md.htmlStash.rawHtmlBlocks[index] = stashed.replace(_CHECKBOX, labelled, 1)


class ChecklistExtension(Extension):  # type: ignore[misc]
    def extendMarkdown(self, md: Markdown) -> None:
        # pymdownx.tasklist runs at 25, inline Markdown at 20, prettify at 10.
        md.treeprocessors.register(_NameCheckboxes(md), "memberkit-checklists", 15)


def makeExtension(**kwargs: Any) -> ChecklistExtension:  # the name Markdown looks for
    return ChecklistExtension(**kwargs)


#: Whether the memberkit plugin runs in this process: it says so when a build starts.
_plugin = {"running": False}


def plugin_started() -> None:
    """Called by the memberkit plugin when MkDocs starts a build with it."""
    _plugin["running"] = True


def plugin_running() -> bool:
    return _plugin["running"]
