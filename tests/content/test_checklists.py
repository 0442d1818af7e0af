"""Checklist boxes carry their item's words as their name, for screen readers."""

from __future__ import annotations

import re

import markdown

from generator.content.checklists import item_text

EXTENSIONS = ["pymdownx.tasklist", "generator.content.checklists", "attr_list"]
CONFIG = {"pymdownx.tasklist": {"custom_checkbox": True}}


def render(text: str) -> str:
    return markdown.markdown(text, extensions=EXTENSIONS, extension_configs=CONFIG)


def names(html: str) -> list[str | None]:
    """The aria-label of every checkbox, in order (None where it has none)."""
    boxes = re.findall(r'<input type="checkbox"[^>]*>', html)
    return [m.group(1) if (m := re.search(r'aria-label="([^"]*)"', b)) else None for b in boxes]


def test_each_box_is_named_after_its_item() -> None:
    html = render(
        "- [ ] Call **two** references\n"
        "- [x] Send the [trial task](trial.md) & wait\n"
        "    - [ ] Nested: its own name\n"
        "- A plain item, no box\n"
    )
    assert names(html) == [
        "Call two references",
        "Send the trial task &amp; wait",
        "Nested: its own name",
    ]
    # The words are still shown beside the box, as before.
    assert "<strong>two</strong> references" in html
    boxes = re.findall(r'<input type="checkbox"[^>]*>', html)
    assert ["checked" in box for box in boxes] == [False, True, False]


def test_a_loose_item_is_named_by_its_first_paragraph() -> None:
    html = render("1. [ ] Agree the rate\n\n    Write it down.\n\n2. [ ] Sign\n")
    assert names(html) == ["Agree the rate", "Sign"]


def test_an_item_without_words_keeps_pymdownx_output() -> None:
    plain = markdown.markdown(
        "- [ ] x\n- [ ]\n", extensions=["pymdownx.tasklist"], extension_configs=CONFIG
    )
    assert render("- [ ] x\n- [ ]\n").replace(' aria-label="x"', "") == plain


def test_item_text_leaves_out_nested_lists() -> None:
    from xml.etree import ElementTree as etree

    item = etree.fromstring("<li>Top <em>words</em><ul><li>inner</li></ul> tail</li>")
    assert item_text(item) == "Top words tail"
