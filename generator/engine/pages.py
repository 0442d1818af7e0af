"""Each page through the build: read, made public or sealed, and finished as written.

`Pages` holds what the plugin's page hooks hand over, in their order:

- `read` (the Markdown): the page's access rule and its dates; a page not yet
  released is held back, out of search too;
- `content` (the HTML): the template widget and the owner's links filled in, then
  either public as it is or sealed after its teaser, with the join box beside it;
  every piece of text the build publishes, or holds as protected, goes to the helper
  (`worker`) that checks the built site for leaks;
- `context` (the template context): whether the page shows comments;
- `written` (the page as written): its envelope verified, the keystore link, the
  browser code, its head tags and its security policy added.

The objects it works with (`Sealing`, `Discovery`, `Links`, `SitePolicy`, the
document library) are made once per build by the plugin.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from pathlib import Path
from typing import Any

from mkdocs.structure.toc import get_toc
from mkdocs.utils import get_relative_url

from generator.content import schedule
from generator.documents.library import PAGES, WIDGET_MARK, DocumentLibrary
from generator.documents.sample import SAMPLE_MARK
from generator.engine import blog
from generator.engine.discovery import Discovery
from generator.engine.links import Links
from generator.engine.policy import SitePolicy
from generator.engine.sealing import Sealing, public_markdown
from generator.protection import envelopes, worker
from generator.publish import hosting
from generator.publish.browsercode import BrowserCode

#: A page's content as Material writes it: what is around it is the theme's.
_ARTICLE = re.compile(r"<article\b.*?</article>", re.DOTALL)
#: A link's address to another site (or mailto:), quoted or not (a minifier drops the
#: quotes): the only addresses the leak check tells apart. The navigation's links to
#: the site's own pages, hundreds on every page of a large site, are not read.
_ABSOLUTE = r"(?:[a-zA-Z][a-zA-Z0-9+.-]*://|mailto:)"
_HREF = re.compile(
    rf"""href=(?:"({_ABSOLUTE}[^"#]+)"|'({_ABSOLUTE}[^'#]+)'|({_ABSOLUTE}[^\s>"'#]+)(?=[\s>]))"""
)
#: Material's bundle, as the theme writes it (a minifier may drop the quotes).
_BUNDLE = re.compile(
    r"""<script\b[^>]*\bsrc=["']?[^"'\s>]*assets/javascripts/bundle\.[0-9a-f]+\.min\.js"""
)
#: The browser code (boot.js, then every module joined into one: `browsercode`) and the
#: stylesheet, served by the site from here.
ASSETS_URL = "assets/memberkit"


class Pages:
    """The pages of one build, from their Markdown to the files written."""

    def __init__(
        self,
        *,
        sealing: Sealing,
        found: Discovery,
        links: Links,
        policy: SitePolicy,
        library: DocumentLibrary,
        work: worker.Inline | worker.Background,
        comments: dict[str, Any] | None,
        preview: dict[str, Any] | None,
        code: BrowserCode,
    ) -> None:
        self.code = code  # the browser code the pages load
        self.sealing = sealing
        self.found = found
        self.links = links
        self.policy = policy
        self.library = library
        self.work = work
        self.comments = comments  # giscus' settings, when pages may have comments
        self.preview = preview
        self.unreleased: dict[str, dt.date] = {}  # src_uri: its release date
        self.comment_pages: set[str] = set()
        self.last_written: str | None = None  # the page MkDocs wrote last: read it ahead
        self.links_seen: set[str] = set()  # addresses around owners' pages, made public
        self.sources: dict[str, str] = {}  # src_uri: a members' page's whole Markdown

    def read(self, page: Any, markdown: str, shown: str) -> None:
        """The page's Markdown, as the other plugins left it. `shown`: its path as the
        owner sees it, for messages. Raises `MemberkitError` for bad front matter."""
        rule = self.sealing.read(page, markdown, shown)
        held = self.found.read_page(page, shown, members_only=rule.protected)
        if held is not None:  # not released yet: out of search too
            self.unreleased[page.file.src_uri] = held
            page.meta["search"] = {**(page.meta.get("search") or {}), "exclude": True}

    def mask(self, html_text: str, page: Any) -> None:
        """First, before the other plugins see the rendered page: for a members' page
        or one not released yet, `page.markdown` and `page.content` hold only what a
        visitor may read (a feed or a blog plugin reads them there). The content
        itself, handed from plugin to plugin, stays whole until it is sealed."""
        src = page.file.src_uri
        if src in self.unreleased:
            page.markdown = public_markdown(page, has_divider=False)
            page.content = schedule.notice_html(page.title or "", self.unreleased[src])
            return
        rule = self.sealing.rule(page)
        if rule is None or not rule.protected or page.markdown is None:
            return
        self.sources[src] = page.markdown
        page.markdown = public_markdown(page, has_divider=rule.has_divider)
        page.content, _ = envelopes.split_page(
            html_text,
            has_divider=rule.has_divider,
            description=str(page.meta.get("description") or ""),
        )

    def content(self, html_text: str, page: Any, config: Any, files: Any) -> str:
        """The page's HTML as every other plugin made it, as it will be published."""
        src = page.file.src_uri
        if src in self.unreleased:
            return self._hold_back(html_text, page, self.unreleased[src])
        if src.startswith(f"{PAGES}/") and (slug := src[len(PAGES) + 1 : -3]) in (
            self.library.by_slug
        ):
            html_text = html_text.replace(
                WIDGET_MARK.format(slug=slug),
                self.library.widget(slug, site_root(page.url), sealed=True),
            ).replace(SAMPLE_MARK.format(slug=slug), self.library.sample(slug))
        html_text = self.links.fill(html_text, page, files)
        self.policy.add_content(html_text)
        # The title (in the navigation of every page), the description (in the page's
        # head, link previews and the feed) and the page's own address (the sitemap's)
        # are public, whoever reads the page.
        shown = [page.title, page.meta.get("description")]
        address = f'<a href="{html.escape(page.canonical_url)}"></a>' if page.canonical_url else ""
        self.work.add_public(address + "".join(f"<p>{html.escape(str(t))}</p>" for t in shown if t))
        rule = self.sealing.rule(page)
        if rule is None or not rule.protected or not _holds_text(html_text, rule):
            self.sources.pop(src, None)
            if _owners(page):
                self.work.add_public(html_text)
            # else: a page another plugin made (a blog's index, a copy) may hold what it
            # took from members' pages: it is checked, never taken as public.
            self.found.page_content(page, html_text, members_only=False)
            return html_text
        shown = page.markdown
        page.markdown = self.sources.pop(src, page.markdown)
        sealed, public, _ = self.sealing.seal(html_text, page, rule, config=config, files=files)
        page.markdown = shown
        blog.excerpt_source(page, shown, config)
        self.work.add_public(public)
        self.found.page_content(page, public, members_only=True)
        # Beside the sealed part, public: what joining costs and how, for visitors and
        # crawlers alike, with or without JavaScript.
        box = self.links.join_box(page, files)
        self.work.add_public(box)
        return sealed + box

    def _hold_back(self, html_text: str, page: Any, day: dt.date) -> str:
        """A page before its release date: its title and the date, nothing more. Its
        content is held as protected, so that the leak check fails the build wherever
        it would show up."""
        _, content = envelopes.split_page(html_text, has_divider=False, description="")
        self.work.add_secret(content)
        if description := str(page.meta.get("description") or ""):
            self.work.add_secret(f"<p>{html.escape(description)}</p>")
        page.toc = get_toc([])
        notice = schedule.notice_html(page.title or "", day)
        self.work.add_public(notice)
        self.found.page_content(page, notice, members_only=False)
        return notice

    def context(self, context: Any, page: Any) -> Any:
        """The theme's context for the page: the TOC entry of its sealed part, and
        giscus' settings where the page asks for comments and is public."""
        self.sealing.mark_toc(page)
        rule = self.sealing.rule(page)
        public = rule is None or not rule.protected
        wanted = self.comments is not None and public and bool(page.meta.get("comments"))
        context["memberkit_comments"] = self.comments if wanted else None
        if wanted:
            self.comment_pages.add(page.url)
        return context

    def written(self, output: str, page: Any, site_dir: str, *, public: set[str]) -> str:
        """The page as it will be written: it carries its envelope; the keystore link
        and the browser code go into <head>, and the security policy, made after every
        other plugin's change (a minifier's included). `public`: the files copied as
        they are from public sources, which the leak check does not read."""
        self.sealing.verify(output, page)
        if _owners(page):
            self._furniture_links(output)
        # MkDocs has written the page before this one (and the files before the pages):
        # the helper reads them while the build goes on; the scan checks they are unchanged.
        site = Path(site_dir)
        if self.last_written is None:
            self.work.read_ahead_all(site, skip=public)
        else:
            self.work.read_ahead(site, self.last_written)
        self.last_written = page.file.dest_uri
        root = site_root(page.url)
        return self.finish(
            output,
            root,
            head=self.found.head(page, root),
            comments=page.url in self.comment_pages,
        )

    def _furniture_links(self, output: str) -> None:
        """The addresses the theme links to around an owner's page (its navigation, a
        blog post's authors, the footer) are public: only the addresses, not the text,
        and never around another plugin's page (a blog index renders excerpts there)."""
        around = _ARTICLE.sub(" ", output)
        found = {"".join(groups) for groups in _HREF.findall(around)}
        new = {html.escape(html.unescape(a)) for a in found} - self.links_seen
        if new:
            self.links_seen.update(new)
            self.work.add_public("".join(f'<a href="{a}"></a>' for a in sorted(new)))

    def finish(self, output: str, root: str, *, head: str = "", comments: bool = False) -> str:
        """Link the keystore and the browser code; add the page's security policy.
        `head`: the page's own tags for search engines and link previews.

        The keystore's link (which names the modules) and the inline script come
        first in <head>: for a member, the inline script has the modules fetched and
        their session read while the stylesheets load. (A Content-Security-Policy in a
        <meta> turns off Chromium's preload scanner, which would otherwise find the
        modules anywhere in the page.) A visitor's page asks for the modules where
        <head> ends, after the stylesheets: on a slow line, earlier would hold up its
        first paint."""
        main = f"{root}{ASSETS_URL}/{self.code.main}"
        early = (
            f'<meta name="mk1-keystore" content="{root}{envelopes.KEYSTORE_PATH}" '
            f'data-modules="{main}">'
        )
        if self.preview is not None:  # read by the modules as they start
            early += f'<meta name="mk1-preview" content="{html.escape(json.dumps(self.preview))}">'
        early += f"<script>{self.code.mark}</script>"
        head += f'<script type="module" async src="{main}"></script>'
        boot = f'<script src="{root}{ASSETS_URL}/{self.code.boot}"></script>'
        # Right before the theme's bundle, which it must precede: the page above it is
        # painted without waiting for it. In <head> where there is no such bundle.
        bundle = _BUNDLE.search(output)
        if bundle is not None:
            output = output[: bundle.start()] + boot + output[bundle.start() :]
        else:
            head += boot
        output = output.replace("</head>", head + "</head>", 1)
        return self.policy.finish(hosting.at_head_start(output, early), comments=comments)


def _holds_text(html_text: str, rule: Any) -> bool:
    """Whether a members' page has anything to seal: a blog's index under a members'
    folder often holds only its title, and needs no sign-in of its own."""
    _, hidden = envelopes.split_page(html_text, has_divider=rule.has_divider, description="")
    return bool(hidden.strip())


def _owners(page: Any) -> bool:
    """A page the owner wrote, or one memberkit made from the owner's templates; not a
    page another plugin made or renders a list into (`made_by`)."""
    return made_by(page) is None


def made_by(page: Any) -> str | None:
    """The plugin that made the page, or renders other pages into it: a file another
    plugin generated, or a view (Material's blog index, archive and category pages,
    whose post excerpts are rendered outside the page's own content). None: the
    owner's, or memberkit's own."""
    maker = page.file.generated_by
    if maker and not str(maker).startswith("memberkit"):
        return str(maker)
    for kind in type(page).__mro__:
        if kind.__name__ == "View" and not kind.__module__.startswith("mkdocs"):
            return kind.__module__.rsplit(".structure", 1)[0]
    return None


def site_root(url: str) -> str:
    """The relative URL from a page's URL to the site root: "", "../", "../../"."""
    root = get_relative_url(".", url).rstrip("/") + "/"
    return "" if root in ("./", "/") else root
