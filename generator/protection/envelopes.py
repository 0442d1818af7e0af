"""Sealing a built page, download or search shard, per PROTOCOL.md.

No MkDocs import: the plugin hands over a page's HTML and its table of contents as
plain data and gets back the public HTML, with the protected part replaced by an
element carrying the envelope.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from generator.protection import keystore, mk1
from generator.protection.searchtext import HEADING_ID
from generator.protection.spill import Spill, Where

#: Where every page links the keystore (its index, in layout 2).
KEYSTORE_PATH = keystore.KEYSTORE_INDEX
#: The divider as Python-Markdown leaves it in the HTML.
DIVIDER_HTML = re.compile(r"<!--\s*more\s*-->")
#: The id of the sealed part: the table of contents links to it until it is opened.
MEMBERS_ANCHOR = "mk1-members"
_H1 = re.compile(r"^\s*(<h1\b[^>]*>.*?</h1>)", re.DOTALL)


class TocEntry(NamedTuple):
    """A table-of-contents link, as plain data (MkDocs' AnchorLink without MkDocs)."""

    id: str
    title: str
    children: tuple[TocEntry, ...] = ()


def split_page(content: str, *, has_divider: bool, description: str) -> tuple[str, str]:
    """(public HTML, protected HTML) of a page body.

    With a divider, what is above it is public. Without one, only the title (the
    page's h1) and its description are.
    """
    if has_divider:
        match = DIVIDER_HTML.search(content)
        if match:
            return content[: match.start()], content[match.end() :]
    title = _H1.match(content)
    public = title.group(1) if title else ""
    rest = content[title.end() :] if title else content
    if description:
        public += f"\n<p>{html.escape(description)}</p>"
    return public, rest


def protected_ids(protected_html: str) -> set[str]:
    return {m.group(2) for m in HEADING_ID.finditer(protected_html)}


def split_toc(toc: Sequence[TocEntry], hidden: set[str]) -> tuple[list[TocEntry], list[TocEntry]]:
    """(public entries, protected entries); children follow their own heading."""
    public: list[TocEntry] = []
    protected: list[TocEntry] = []
    for entry in toc:
        kids_public, kids_protected = split_toc(entry.children, hidden)
        if entry.id in hidden:
            protected.append(TocEntry(entry.id, entry.title, tuple(entry.children)))
        else:
            public.append(TocEntry(entry.id, entry.title, tuple(kids_public)))
            protected.extend(kids_protected)
    return public, protected


def toc_html(entries: Iterable[TocEntry]) -> str:
    """List items in Material's table-of-contents markup, for the browser to insert."""
    parts = []
    for entry in entries:
        children = ""
        if entry.children:
            children = (
                f'<nav class="md-nav" aria-label="{html.escape(entry.title)}">'
                f'<ul class="md-nav__list">{toc_html(entry.children)}</ul></nav>'
            )
        parts.append(
            f'<li class="md-nav__item"><a href="#{html.escape(entry.id)}" class="md-nav__link">'
            f'<span class="md-ellipsis">{entry.title}</span></a>{children}</li>'
        )
    return "".join(parts)


@dataclass
class Sealer:
    """The tier keys of one build, and everything sealed with them."""

    site: str
    keys: dict[str, tuple[int, bytes]]  # tier: (version, key)

    def _header(self, tier: str, path: str, kind: str, **extra: str | None) -> mk1.Header:
        version, _ = self.keys[tier]
        return mk1.Header(site=self.site, tier=tier, v=version, path=path, kind=kind, **extra)

    def seal_page(self, tier: str, path: str, fragments: Mapping[str, str]) -> str:
        header = self._header(tier, path, "page", z="deflate-raw")
        plaintext = mk1.compact_json(dict(fragments))
        return mk1.b64url(mk1.seal(header, self.keys[tier][1], plaintext))

    def seal_file(self, tier: str, path: str, content: bytes, mime: str) -> bytes:
        name = path.rsplit("/", 1)[-1]
        compress = not name.endswith((".docx", ".xlsx", ".zip", ".gz"))
        header = self._header(
            tier, path, "file", z="deflate-raw" if compress else None, name=name, type=mime
        )
        return mk1.seal(header, self.keys[tier][1], content)

    def search_shards(self, indexes: Mapping[str, SearchIndex]) -> dict[str, bytes]:
        """`search/<tier>.json.mk1` for every tier with protected pages."""
        shards = {}
        for tier, index in sorted(indexes.items()):
            path = search_path(tier)
            header = self._header(tier, path, "search", z="deflate-raw")
            shards[f"{path}.mk1"] = mk1.seal_data(header, self.keys[tier][1], index.deflated())
        return shards


class SearchIndex:
    """A tier's protected search index, `{"docs": [entries]}`, compressed as its
    entries come: a site's protected text is held once, in the pages' envelopes, not
    a second time in plain for the index made at the end. With a `spill`, the
    compressed pieces wait in its file, not in memory."""

    def __init__(self, spill: Spill | None = None) -> None:
        self._stream = mk1.deflater()
        self._spill = spill
        self._compressed: list[bytes] = []
        self._spilled: list[Where] = []
        self._opened = False

    def add(self, entries: list[dict[str, str]]) -> None:
        for entry in entries:
            piece = (b"," if self._opened else b'{"docs":[') + mk1.compact_json(entry)
            self._opened = True
            compressed = self._stream.compress(piece)
            if self._spill is None:
                self._compressed.append(compressed)
            elif compressed:
                self._spilled.append(self._spill.put(compressed))

    def deflated(self) -> bytes:
        """The index so far, compressed; entries may still be added after."""
        end = self._stream.copy()
        closing: bytes = end.compress(b"]}" if self._opened else b'{"docs":[]}') + end.flush()
        spilled = [self._spill.get(where) for where in self._spilled] if self._spill else []
        return b"".join([*spilled, *self._compressed, closing])


def search_path(tier: str) -> str:
    return f"search/{tier}.json"


def envelope_element(envelope: str, kind: str = "content") -> str:
    """The element that stands in for protected HTML until a member's browser opens it."""
    return (
        f'<div class="mk1-locked" id="{MEMBERS_ANCHOR}" data-mk1="{envelope}" '
        f'data-mk1-part="{kind}">'
        '<p class="mk1-locked__note">This part is for members. '
        '<a href="#" data-mk1-signin-link>Sign in</a> to read it.</p>'
        "<noscript><p>Members need JavaScript turned on to read this page.</p></noscript>"
        "</div>"
    )


def json_for_html(value: object) -> str:
    return json.dumps(value, ensure_ascii=False).replace("</", "<\\/")
