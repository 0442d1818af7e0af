"""Members' pages through MkDocs: who may read each page, its teaser, its envelope.

The MkDocs side of sealing a page (the core is `access` and `protect`; the work runs
in `worker`): the plugin hands each page over three times, and this object keeps
what the build learned in between.

- `read` (on_page_markdown): the page's access rule, checked.
- `seal` (on_page_content): the teaser stays; the rest of the content, and its part
  of the table of contents, go to the helper to be sealed; a placeholder takes
  their place, to be filled in when the page is written.
- `fill` and `verify` (on_post_page, first and last): the envelope replaces the
  placeholder before any other plugin reworks the page; and the page that is
  written must still carry it, or the build stops naming the page.
"""

from __future__ import annotations

import functools
import html
import re
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import get_plugin_logger
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page
from mkdocs.structure.toc import AnchorLink

from generator.content import access, join
from generator.errors import MemberkitError
from generator.protection import envelopes, worker
from generator.protection.spill import Where

#: Stands where a page's envelope goes until the page is written: letters, digits and
#: dashes, like the envelope, so that no quoting of the attribute can change it.
PLACEHOLDER = "mk1-sealing-{number}-of-this-build"
log = get_plugin_logger("memberkit")
#: Markdown that a teaser can use from further down the page: reference links and
#: footnotes, abbreviations, and snippets that may hold either.
_DEFINITION = re.compile(r"^ {0,3}(?:\*?\[[^\]\n]+\]:|-{2,}8<-{2,})", re.MULTILINE)
#: Python-Markdown's footnote markup: a reference, the list, an item, its way back.
_NOTE_REF = re.compile(r'<sup id="(fnref[^"]*)">.*?</sup>', re.DOTALL)
_NOTE_LIST = '<div class="footnote">'
_NOTE_ITEM = re.compile(r'<li id="(fn[^"]*)">')
_NOTE_BACK = re.compile(r'<a class="footnote-backref" href="#(fnref[^"]*)"[^>]*>')
#: Marks the teaser's own footnotes: the browser drops them when it opens the members'
#: part, which ends with the page's footnotes, these included.
TEASER_NOTES = "data-mk1-teaser-notes"
#: Markdown's backslash escapes, for a title written back as a heading.
_MARKDOWN_CHARS = re.compile(r"([\\`*_{}\[\]()#+\-.!|])")
#: What `Page.render` sets, kept while a teaser is rendered on its own.
_RENDERED = (
    "markdown",
    "content",
    "toc",
    "_title_from_render",
    "present_anchor_ids",
    "links_to_anchors",
)


class Sealing:
    """The members' pages of one build and their envelopes."""

    def __init__(
        self,
        tiers: tuple[str, ...],
        folder_defaults: dict[str, str],
        work: worker.Inline | worker.Background,
    ) -> None:
        self.tiers = tiers
        self.folder_defaults = folder_defaults
        self.work = work
        self.rules: dict[str, access.PageAccess] = {}  # src_uri: who may read it
        self.placeholders: dict[str, str] = {}  # page URL: where its envelope goes
        self.envelopes: dict[str, Where] = {}  # placeholder: where its envelope is
        self.written: dict[str, str] = {}  # page URL: the envelope its page must carry
        self.protected_urls: set[str] = set()
        self.hidden_ids: dict[str, set[str]] = {}  # page URL: its protected headings
        self.sealing = 0  # pages handed over for sealing
        self.asked = False  # for the envelopes, once the first page is written

    def rule(self, page: Page) -> access.PageAccess | None:
        return self.rules.get(page.file.src_uri)

    def read(self, page: Page, markdown: str, shown: str) -> access.PageAccess:
        """Check what memberkit owns in a page's source; say who may read it."""
        # The Markdown as MkDocs hands it over: without its front matter (MkDocs has
        # read that into page.meta), as it will be rendered.
        check = functools.partial(
            access.page_access,
            src_uri=page.file.src_uri,
            tiers=self.tiers,
            folder_defaults=self.folder_defaults,
            path=shown,
            meta=page.meta,
        )
        try:
            if page.file.abs_src_path and not page.file.generated_by:
                source = page.file.content_string  # front matter included: its lines
                access.duplicate_key(source, shown)
                access.misspelled_key(page.meta, source, shown)
            rule = self.rules[page.file.src_uri] = check(markdown)
        except MemberkitError as error:
            if error.line is not None:  # name the line in the file, front matter included
                try:
                    check(page.file.content_string)
                except MemberkitError as in_file:
                    error = in_file
                except (OSError, ValueError):
                    pass
            raise PluginError(str(error)) from None
        return rule

    def seal(
        self,
        html_text: str,
        page: Page,
        rule: access.PageAccess,
        *,
        config: MkDocsConfig,
        files: Files,
    ) -> tuple[str, str, dict[str, str]]:
        """(public HTML with the placeholder element, the teaser, the sealed fragments)."""
        description = str(page.meta.get("description") or "")
        public, hidden = envelopes.split_page(
            html_text, has_divider=rule.has_divider, description=description
        )
        if rule.has_divider and page.markdown is not None:
            teaser = _teaser_alone(page, config, files)
            if teaser is not None:
                public = footnotes_as_numbered(teaser, public, hidden)
        ids = envelopes.protected_ids(hidden)
        _, hidden_toc = envelopes.split_toc(_toc_entries(page.toc), ids)
        _veil_toc(page.toc, ids)
        fragments = {"content": hidden}
        if hidden_toc:
            fragments["toc"] = envelopes.toc_html(hidden_toc)
        # Sealed meanwhile, by the helper: the envelope takes the placeholder's place
        # when the page is written (`fill`).
        placeholder = PLACEHOLDER.format(number=self.sealing)
        self.sealing += 1
        self.placeholders[page.url] = placeholder
        self.work.protect(placeholder, rule.tier, page.url, page.title or "", fragments, public)
        self.protected_urls.add(page.url)
        self.hidden_ids[page.url] = ids if hidden_toc else set()
        return public + envelopes.envelope_element(placeholder), public, fragments

    def hide_toc(self, page: Page) -> None:
        """Before the search plugin and the theme read it: the page's TOC without the
        protected headings."""
        ids = self.hidden_ids.get(page.url)
        if ids:
            prune_toc(page.toc, ids)

    def mark_toc(self, page: Page) -> None:
        """After the search plugin read it: one entry, "For members", that links to
        the sealed part. The theme renders the TOC (in the sidebar, and in the
        navigation on small screens) with it, and the browser puts the protected
        headings in its place once the part is opened."""
        if not self.hidden_ids.get(page.url):
            return
        entry = AnchorLink(VEILED, envelopes.MEMBERS_ANCHOR, 2)
        items = _items(page.toc)
        if len(items) == 1 and items[0].level == 1:  # Material lists the h1's children
            items[0].children.append(entry)
        else:
            items.append(entry)

    def fill(self, output: str, page: Page) -> str:
        """Put the page's envelope in place of its placeholder."""
        # The first page written asks for every envelope at once, before the helper
        # turns to reading the files.
        placeholder = self.placeholders.pop(page.url, None)
        first = not self.asked and (placeholder is not None or bool(self.placeholders))
        if first or (placeholder is not None and placeholder not in self.envelopes):
            self.asked = True
            try:
                self.envelopes.update(self.work.envelopes())
            except MemberkitError as error:
                raise PluginError(str(error)) from None
        if placeholder is None:
            return output
        where = self.envelopes.pop(placeholder, None)
        if where is None:
            raise PluginError(f"{page.file.src_uri}: its protected part was not sealed")
        try:
            envelope = self.work.spilled(where).decode("ascii")
        except MemberkitError as error:
            raise PluginError(str(error)) from None
        # The attribute as written by `envelope_element`: a teaser quoting the
        # placeholder's text is left as it is.
        filled = output.replace(f'data-mk1="{placeholder}"', f'data-mk1="{envelope}"', 1)
        self.written[page.url] = envelope
        return filled

    def verify(self, output: str, page: Page) -> None:
        """The page as MkDocs writes it must carry its envelope whole: a plugin that
        reworked the page after memberkit could have dropped or mangled it, and the
        page would ship with nothing for members to open."""
        envelope = self.written.pop(page.url, None)  # verified once: not kept to the end
        # A page whose template shows no content (a redirect) carries neither its
        # envelope nor the join box written after it: nothing of it is missing.
        if envelope is not None and envelope not in output and join.BOX_CLASS in output:
            raise PluginError(
                f"{page.file.src_uri}: its members' part did not reach the written page "
                "(another plugin changed or removed the element that carries it, "
                'class="mk1-locked"); leave that element as it is'
            )


def _teaser_alone(page: Page, config: MkDocsConfig, files: Files) -> str | None:
    """The teaser rendered from its own Markdown, when the rest of the page holds what
    the teaser could borrow (a reference link's address and title, an abbreviation's
    expansion) or the teaser lists the page's headings ([TOC]): rendered with the whole
    page, it would publish them; or when the teaser cites a footnote, which the whole
    page lists after the divider. None when the page's own rendering shows nothing of
    the rest above the divider and the teaser cites no footnote (most pages: no second
    rendering)."""
    assert page.markdown is not None
    teaser, rest = access.split_teaser(page.markdown)
    if rest is None:
        return None
    marker = str((config.mdx_configs.get("toc") or {}).get("marker", "[TOC]"))
    if (
        not _DEFINITION.search(rest)
        and not (marker and marker in teaser)
        and not access.FOOTNOTE_REF.search(teaser)  # shown with its footnote
    ):
        return None
    # What the teaser shows is public, the addresses of its links too: the reference
    # links, abbreviations and footnotes it uses come along from below the divider, and
    # are said.
    used = access.teaser_definitions(teaser, rest)
    if used:
        log.info(
            f"{page.file.src_uri}: the teaser uses {len(used)} definition(s) from below the "
            f"divider, now public: {'; '.join(_short(definition) for definition in used)}"
        )
    saved = {name: getattr(page, name, None) for name in _RENDERED}
    try:
        page.markdown = teaser + ("\n\n" + "\n".join(used) + "\n" if used else "")
        page.render(config, files)
        return page.content or ""
    finally:
        for name, value in saved.items():
            setattr(page, name, value)


def _short(definition: str, most: int = 80) -> str:
    """A definition on one line, a long footnote cut short: enough to recognise it."""
    line = " ".join(definition.split())
    return line if len(line) <= most else line[: most - 1].rstrip() + "…"


def footnotes_as_numbered(teaser: str, plain_teaser: str, plain_rest: str) -> str:
    """The teaser rendered on its own, its footnotes numbered as the whole page numbers
    them (`plain_teaser` and `plain_rest`: the page rendered whole, split at the
    divider), and its list of footnotes marked as the teaser's own.

    Rendered on its own, the teaser numbers its footnotes from 1, in its own order; the
    whole page may number them otherwise (by their definitions' order, say). A member
    who opens the page reads the teaser's references as the whole page writes them, and
    one list of footnotes: the page's, at the end of the members' part."""
    if _NOTE_LIST not in teaser:
        return teaser
    references = {m.group(1): m.group(0) for m in _NOTE_REF.finditer(plain_teaser)}
    teaser = _NOTE_REF.sub(lambda m: references.get(m.group(1), m.group(0)), teaser)
    start = teaser.rfind(_NOTE_LIST)
    notes = plain_rest[plain_rest.rfind(_NOTE_LIST) :] if _NOTE_LIST in plain_rest else ""
    numbers = {m.group(1): n for n, m in enumerate(_NOTE_ITEM.finditer(notes), 1)}
    backlinks = {m.group(1): m.group(0) for m in _NOTE_BACK.finditer(notes)}
    own = teaser[start:].replace(_NOTE_LIST, f'<div class="footnote" {TEASER_NOTES}>', 1)
    own = _NOTE_ITEM.sub(
        lambda m: (
            m.group(0)[:-1] + f' value="{numbers[m.group(1)]}">'
            if m.group(1) in numbers
            else m.group(0)
        ),
        own,
    )
    own = _NOTE_BACK.sub(lambda m: backlinks.get(m.group(1), m.group(0)), own)
    return teaser[:start] + own


def public_markdown(page: Page, *, has_divider: bool) -> str:
    """What a visitor may read of a members' page, as Markdown, for whatever reads
    `page.markdown` (a blog's excerpts, a feed plugin): the teaser with the definitions
    it uses from below the divider or, without a divider, the page's title and
    description."""
    assert page.markdown is not None
    teaser, rest = access.split_teaser(page.markdown)
    if has_divider and rest is not None:
        used = access.teaser_definitions(teaser, rest)
        return teaser.rstrip() + ("\n\n" + "\n".join(used) if used else "")
    parts = []
    if title := page._title_from_render:  # the page's own h1, which the page shows
        parts.append("# " + _MARKDOWN_CHARS.sub(r"\\\1", html.escape(title, quote=False)))
    if description := str(page.meta.get("description") or ""):
        parts.append(f"<p>{html.escape(description)}</p>")
    return "\n\n".join(parts)


def _toc_entries(toc: Any) -> list[envelopes.TocEntry]:
    return [
        envelopes.TocEntry(link.id, link.title, tuple(_toc_entries(link.children))) for link in toc
    ]


#: The title a protected heading keeps in the table of contents until the page is
#: rendered: other plugins can still find its anchor (the blog's related links do)
#: without learning its text.
VEILED = "For members"


def _items(toc: Any) -> list[AnchorLink]:
    """The entries of a TOC level: MkDocs' TableOfContents holds them in `items`."""
    return toc.items if hasattr(toc, "items") else toc  # type: ignore[no-any-return]


def _veil_toc(links: Any, hidden: set[str]) -> None:
    """Protected headings keep their anchor in the page's TOC, not their title."""
    for link in _items(links):
        if link.id in hidden:
            link.title = VEILED
        _veil_toc(link.children, hidden)


def prune_toc(links: Any, hidden: set[str]) -> None:
    """Remove protected headings from the page's TOC before it is rendered (and before
    the search plugin reads it)."""
    items = _items(links)
    for link in list(items):
        if link.id in hidden:
            items.remove(link)
        else:
            prune_toc(link.children, hidden)
